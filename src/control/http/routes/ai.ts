/**
 * The teacher's analyses (issue 10): `GET /api/quizzes/:id/analysis` and
 * `GET /api/lessons/:id/questions`, answered by the built-in analyzer and marked with it.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { AnalysisService } from '../../ai/analysis-service.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the analysis routes need. */
export interface AiRouteDeps {
  analysis: AnalysisService;
  authenticator: Authenticator;
}

const Provider = Type.Union([Type.Literal('builtin'), Type.Literal('gemini')], {
  description: 'Which analyzer answered',
});
const Note = Type.Object({ ko: Type.String(), en: Type.String() });
const Nullable = (t: ReturnType<typeof Type.Number>) => Type.Union([t, Type.Null()]);

const QuizAnalysis = Type.Object({
  provider: Provider,
  quizId: Type.String(),
  runId: Type.Union([Type.String(), Type.Null()]),
  answered: Type.Integer(),
  difficulty: Nullable(Type.Number({ description: 'Share of answerers correct, 0–1' })),
  discrimination: Nullable(Type.Number({ description: 'Upper minus lower 27 % group, −1–1' })),
  distractors: Type.Array(
    Type.Object({ option: Type.String(), count: Type.Integer(), correct: Type.Boolean() }),
  ),
  clusters: Type.Array(
    Type.Object({
      kind: Type.Union([Type.Literal('misconception'), Type.Literal('near-correct')]),
      label: Type.String(),
      count: Type.Integer(),
      answers: Type.Array(Type.String()),
      note: Note,
    }),
  ),
});

const Questions = Type.Object({
  provider: Provider,
  lessonId: Type.String(),
  groups: Type.Array(
    Type.Object({ label: Type.String(), count: Type.Integer(), messages: Type.Array(Type.String()) }),
  ),
});

/** Registers the routes (call inside the /api context). */
export function aiRoutes(api: FastifyInstance, deps: AiRouteDeps): void {
  const { analysis, authenticator } = deps;
  api.get<{ Params: IdParams }>(
    '/quizzes/:id/analysis',
    {
      schema: {
        tags: ['ai'],
        summary: "The quiz's last run: difficulty, discrimination, distractors, misconception clusters",
        security: SECURED,
        params: IdParams,
        response: { 200: QuizAnalysis, ...errors(401, 403, 404) },
      },
    },
    async (req) => analysis.quiz(await authenticator.require(req), req.params.id),
  );
  api.get<{ Params: IdParams }>(
    '/lessons/:id/questions',
    {
      schema: {
        tags: ['ai'],
        summary: "The lesson's chat questions, grouped by what they ask",
        security: SECURED,
        params: IdParams,
        response: { 200: Questions, ...errors(401, 403, 404) },
      },
    },
    async (req) => analysis.questions(await authenticator.require(req), req.params.id),
  );
}
