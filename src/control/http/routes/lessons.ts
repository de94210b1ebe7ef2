/**
 * `GET /api/lessons/:id/engagement` (its teacher, admin, the class's monitors) and `GET /api/me`
 * ("my data": what is recorded about the calling student in their lesson). Registered only
 * when the composition root passes the student-data service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { StudentData } from '../../engagement/student-data.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the lesson routes need. */
export interface LessonRouteDeps {
  authenticator: Authenticator;
  studentData?: StudentData;
}

const Time = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const Engagement = Type.Object({
  lessonId: Type.String(),
  class: Type.Integer({ description: 'Mean of the last scores of the students, 0–100' }),
  students: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), score: Type.Integer() })),
  series: Type.Array(Type.Object({ at: Time, class: Type.Integer() }), {
    description: 'Class mean every 10 s',
  }),
});

const MyData = Type.Object({
  name: Type.String(),
  class: Type.Object({ id: Type.String(), title: Type.String() }),
  lesson: Type.Union([
    Type.Object({ id: Type.String(), number: Type.Integer(), startedAt: Time, endedAt: Nullable(Time) }),
    Type.Null(),
  ]),
  joinedAt: Time,
  leftAt: Nullable(Time),
  chat: Type.Array(Type.Object({ text: Type.String(), at: Time, deleted: Type.Boolean() })),
  answers: Type.Array(
    Type.Object({
      question: Type.String(),
      answer: Type.String(),
      correct: Type.Boolean(),
      ms: Type.Integer(),
      at: Time,
    }),
  ),
  reactions: Type.Array(Type.Object({ kind: Type.String(), at: Time })),
  hands: Type.Array(Type.Object({ action: Type.String(), at: Time })),
  engagement: Type.Object({
    score: Type.Union([Type.Integer(), Type.Null()]),
    samples: Type.Array(Type.Object({ at: Time, score: Type.Integer(), watching: Type.Number() })),
  }),
  notice: Type.Object({ en: Type.String(), ko: Type.String() }),
});

/** Registers the routes (nothing without the student-data service). */
export function lessonRoutes(api: FastifyInstance, deps: LessonRouteDeps): void {
  const data = deps.studentData;
  if (!data) return;
  const { authenticator } = deps;

  api.get<{ Params: IdParams }>(
    '/lessons/:id/engagement',
    {
      schema: {
        tags: ['lessons'],
        summary: "A lesson's engagement: last score per student and the class over time",
        security: SECURED,
        params: IdParams,
        response: { 200: Engagement, ...errors(401, 403, 404) },
      },
    },
    async (req) => data.lesson(await authenticator.require(req), req.params.id),
  );

  api.get(
    '/me',
    {
      schema: {
        tags: ['lessons'],
        summary: 'My data (student Bearer): everything recorded about me in this lesson',
        security: SECURED,
        response: { 200: MyData, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      void reply.header('Cache-Control', 'no-store');
      return data.me(p);
    },
  );
}
