/**
 * The teacher's analyses (issue 10): `GET /api/quizzes/:id/analysis` and
 * `GET /api/lessons/:id/questions`, `GET /api/lessons/:id/summary`, each marked with the provider
 * that answered; the class's AI setting and the school's Gemini key.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { AiSettings } from '../../ai/ai-settings.ts';
import type { AnalysisService } from '../../ai/analysis-service.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the analysis routes need. */
export interface AiRouteDeps {
  analysis: AnalysisService;
  settings: AiSettings;
  authenticator: Authenticator;
}

const ClassAi = Type.Object({
  enabled: Type.Boolean({ description: 'Student data may go to the provider (off by default)' }),
  provider: Type.Union([Type.Literal('builtin'), Type.Literal('gemini')]),
  active: Type.Union([Type.Literal('builtin'), Type.Literal('gemini')], {
    description: 'What answers now (Gemini needs the setting and a key)',
  }),
});
const ClassAiBody = Type.Object(
  { enabled: Type.Boolean(), provider: Type.Union([Type.Literal('builtin'), Type.Literal('gemini')]) },
  { additionalProperties: false },
);
const KeyView = Type.Object({
  provider: Type.Literal('gemini'),
  configured: Type.Boolean(),
  key: Type.Union([Type.String({ description: 'Masked: the last 4 characters' }), Type.Null()]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
const KeyBody = Type.Object(
  { key: Type.String({ maxLength: 256, description: 'Empty: remove the key' }) },
  { additionalProperties: false },
);

const Provider = Type.Union([Type.Literal('builtin'), Type.Literal('gemini')], {
  description: 'Which analyzer answered',
});
const Note = Type.Object({ ko: Type.String(), en: Type.String() });
const Nullable = (t: ReturnType<typeof Type.Number>) => Type.Union([t, Type.Null()]);

/** Provider of an analysis. */
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

const Bilingual = Type.Object({ ko: Type.String(), en: Type.String() });
const Summary = Type.Object({
  provider: Provider,
  lessonId: Type.String(),
  at: Type.String({ format: 'date-time' }),
  covered: Type.Array(Type.String(), { description: "Topics covered, from the slides' text" }),
  hardItems: Type.Array(
    Type.Object({
      quizId: Type.String(),
      question: Type.String(),
      difficulty: Type.Number({ description: 'Share correct, 0–1' }),
      why: Bilingual,
    }),
  ),
  openQuestions: Type.Array(Type.Object({ label: Type.String(), count: Type.Integer() })),
  needHelp: Type.Array(
    Type.Object({
      name: Type.String(),
      reasons: Type.Array(
        Type.Union([
          Type.Literal('low-accuracy'),
          Type.Literal('low-engagement'),
          Type.Literal('no-answers'),
          Type.Literal('asked'),
        ]),
      ),
      note: Bilingual,
    }),
  ),
  text: Bilingual,
});
const SummaryQuery = Type.Object(
  {
    refresh: Type.Optional(
      Type.Boolean({ description: 'Make it again (an ended lesson keeps its summary)' }),
    ),
  },
  { additionalProperties: false },
);

/** Registers the routes (call inside the /api context). */
export function aiRoutes(api: FastifyInstance, deps: AiRouteDeps): void {
  const { analysis, settings, authenticator } = deps;
  api.get<{ Params: IdParams }>(
    '/classes/:id/ai',
    {
      schema: {
        tags: ['ai'],
        summary: "The class's AI setting",
        security: SECURED,
        params: IdParams,
        response: { 200: ClassAi, ...errors(401, 403, 404) },
      },
    },
    async (req) => settings.classAi(await authenticator.require(req), req.params.id),
  );
  api.put<{ Params: IdParams; Body: Static<typeof ClassAiBody> }>(
    '/classes/:id/ai',
    {
      schema: {
        tags: ['ai'],
        summary: 'Turns AI on or off for the class, and picks the provider',
        security: SECURED,
        params: IdParams,
        body: ClassAiBody,
        response: { 200: ClassAi, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => settings.setClassAi(await authenticator.require(req), req.params.id, req.body),
  );
  api.get(
    '/ai/keys/gemini',
    {
      schema: {
        tags: ['ai'],
        summary: "The school's Gemini key, masked (admin)",
        security: SECURED,
        response: { 200: KeyView, ...errors(401, 403) },
      },
    },
    async (req) => settings.geminiKey(await authenticator.require(req)),
  );
  api.put<{ Body: Static<typeof KeyBody> }>(
    '/ai/keys/gemini',
    {
      schema: {
        tags: ['ai'],
        summary: "Sets the school's Gemini key (stored encrypted; answered masked) (admin)",
        security: SECURED,
        body: KeyBody,
        response: { 200: KeyView, ...errors(400, 401, 403) },
      },
    },
    async (req) => settings.setGeminiKey(await authenticator.require(req), req.body.key),
  );
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
  api.get<{ Params: IdParams; Querystring: Static<typeof SummaryQuery> }>(
    '/lessons/:id/summary',
    {
      schema: {
        tags: ['ai'],
        summary:
          'The lesson summary: what was covered, hard items and why, open questions, who may need help',
        security: SECURED,
        params: IdParams,
        querystring: SummaryQuery,
        response: { 200: Summary, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) =>
      analysis.summary(await authenticator.require(req), req.params.id, {
        refresh: req.query.refresh === true,
      }),
  );
}
