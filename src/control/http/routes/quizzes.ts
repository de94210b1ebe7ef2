/**
 * Quizzes under `/api` (docs/classroom.md, issue 6 item 5): the bank of a class (create, list,
 * delete: its teacher, admin; list also monitors), runs (open, close, reveal: its teacher,
 * admin), answers (the class's students, rate limited per token) and results (teacher, admin,
 * monitor). Registered only when the composition root passes a quiz service.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { QUIZ_LIMITS } from '../../quiz/definition.ts';
import type { QuizService } from '../../quiz/quiz-service.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the quiz routes need. */
export interface QuizRouteDeps {
  authenticator: Authenticator;
  quizzes?: QuizService;
  /** Answers per minute per token (default 60). */
  answerRateLimit?: number;
}

const Kind = Type.Union([
  Type.Literal('single'),
  Type.Literal('multiple'),
  Type.Literal('truefalse'),
  Type.Literal('short'),
]);
const Option = Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.optionMax });
const Correct = Type.Union([
  Type.Array(Type.Integer({ minimum: 0, maximum: QUIZ_LIMITS.optionsMax - 1 }), {
    maxItems: QUIZ_LIMITS.optionsMax,
  }),
  Type.Array(Option, { maxItems: QUIZ_LIMITS.acceptedMax }),
]);

const CreateQuiz = Type.Object(
  {
    kind: Kind,
    question: Type.String({ minLength: 1, maxLength: QUIZ_LIMITS.questionMax }),
    options: Type.Optional(Type.Array(Option, { maxItems: QUIZ_LIMITS.optionsMax })),
    correct: Type.Optional(Correct),
    timeLimitSec: Type.Integer({ minimum: QUIZ_LIMITS.timeLimitMin, maximum: QUIZ_LIMITS.timeLimitMax }),
    anonymous: Type.Optional(
      Type.Boolean({ description: 'Anonymous to classmates (the teacher still sees names)' }),
    ),
  },
  { additionalProperties: false },
);

const Time = Type.String({ format: 'date-time' });
const QuizView = Type.Object({
  id: Type.String(),
  classId: Type.String(),
  kind: Kind,
  question: Type.String(),
  options: Type.Array(Type.String()),
  correct: Type.Union([Type.Array(Type.Integer()), Type.Array(Type.String())]),
  timeLimitSec: Type.Integer(),
  anonymous: Type.Boolean(),
  createdAt: Time,
  lastRun: Type.Union([
    Type.Object({
      runId: Type.String(),
      status: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
      openedAt: Time,
      closesAt: Time,
      revealed: Type.Boolean(),
    }),
    Type.Null(),
  ]),
});

const AnswerBody = Type.Object(
  {
    answerId: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Chosen by the client; resending it is harmless',
    }),
    choices: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 99 }), { maxItems: QUIZ_LIMITS.optionsMax }),
    ),
    text: Type.Optional(Type.String({ maxLength: QUIZ_LIMITS.textMax * 2 })),
  },
  { additionalProperties: false },
);
const AnswerView = Type.Object({
  answerId: Type.String(),
  quizId: Type.String(),
  runId: Type.String(),
  choices: Type.Union([Type.Array(Type.Integer()), Type.Null()]),
  text: Type.Union([Type.String(), Type.Null()]),
  ms: Type.Integer({ description: 'Time from the push to the answer' }),
  at: Time,
});

const Results = Type.Object({
  quizId: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('none')]),
  runId: Type.Union([Type.String(), Type.Null()]),
  opensAt: Type.Union([Time, Type.Null()]),
  closesAt: Type.Union([Time, Type.Null()]),
  revealed: Type.Boolean(),
  anonymous: Type.Boolean(),
  answered: Type.Integer(),
  correct: Type.Integer(),
  counts: Type.Array(Type.Integer(), { description: 'Per option; [correct, incorrect] for short answers' }),
  students: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      choices: Type.Optional(Type.Array(Type.Integer())),
      text: Type.Optional(Type.String()),
      correct: Type.Boolean(),
      ms: Type.Integer(),
    }),
  ),
  leaderboard: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      correct: Type.Boolean(),
      ms: Type.Integer(),
      rank: Type.Integer(),
    }),
  ),
});

type WithId = { Params: IdParams };
const tags = ['quizzes'];

/** The rate-limit key of an answer: the caller's token (hashed), else the address. */
function tokenKey(req: FastifyRequest): string {
  const auth = req.headers.authorization;
  if (!auth) return `ip:${req.ip}`;
  return `tok:${createHash('sha256').update(auth).digest('base64url').slice(0, 22)}`;
}

/** Registers the quiz routes (nothing without a quiz service). */
export function quizRoutes(api: FastifyInstance, deps: QuizRouteDeps): void {
  const quizzes = deps.quizzes;
  if (!quizzes) return;
  const { authenticator } = deps;

  api.post<WithId & { Body: Static<typeof CreateQuiz> }>(
    '/classes/:id/quizzes',
    {
      schema: {
        tags,
        summary: "Add a quiz to the class's bank (its teacher, admin)",
        security: SECURED,
        params: IdParams,
        body: CreateQuiz,
        response: { 201: QuizView, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      return reply.code(201).send(await quizzes.create(p, req.params.id, req.body));
    },
  );

  api.get<WithId>(
    '/classes/:id/quizzes',
    {
      schema: {
        tags,
        summary: 'The quiz bank of a class with each last run (teacher, admin, monitor)',
        security: SECURED,
        params: IdParams,
        response: { 200: Type.Object({ quizzes: Type.Array(QuizView) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => ({ quizzes: await quizzes.list(await authenticator.require(req), req.params.id) }),
  );

  api.delete<WithId>(
    '/quizzes/:id',
    {
      schema: {
        tags,
        summary: 'Remove a quiz from the bank (its results stay)',
        security: SECURED,
        params: IdParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await quizzes.remove(await authenticator.require(req), req.params.id);
      return reply.code(204).send();
    },
  );

  const action = (url: string, summary: string, act: 'open' | 'close' | 'reveal', statuses: number[]) =>
    api.post<WithId>(
      url,
      {
        schema: {
          tags,
          summary,
          security: SECURED,
          params: IdParams,
          response: { 200: QuizView, ...errors(401, 403, 404, ...statuses) },
        },
      },
      async (req) => quizzes[act](await authenticator.require(req), req.params.id),
    );
  action('/quizzes/:id/open', 'Push the quiz to the class (needs a live lesson)', 'open', [409]);
  action('/quizzes/:id/close', 'Close the open run now', 'close', [409]);
  action('/quizzes/:id/reveal', 'Show the correct answer and the counts to the class', 'reveal', [409]);

  api.post<WithId & { Body: Static<typeof AnswerBody> }>(
    '/quizzes/:id/answers',
    {
      schema: {
        tags,
        summary: 'Answer the open run (student): 201 new, 200 the same answerId again',
        security: SECURED,
        params: IdParams,
        body: AnswerBody,
        response: { 200: AnswerView, 201: AnswerView, ...errors(400, 401, 403, 404, 409, 429) },
      },
      config: { rateLimit: { max: deps.answerRateLimit ?? 60, timeWindow: 60_000, keyGenerator: tokenKey } },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      const r = await quizzes.answer(p, req.params.id, req.body);
      return reply.code(r.created ? 201 : 200).send(r.answer);
    },
  );

  api.get<WithId>(
    '/quizzes/:id/results',
    {
      schema: {
        tags,
        summary: 'Results of the last run: counts, answers by student, leaderboard (teacher, admin, monitor)',
        security: SECURED,
        params: IdParams,
        response: { 200: Results, ...errors(401, 403, 404) },
      },
    },
    async (req) => quizzes.resultsOf(await authenticator.require(req), req.params.id),
  );
}
