/**
 * Drizzle (pg-core) definitions of the tables of `migrations/0003_quizzes.sql`: the quiz bank,
 * quiz runs and answers, interactions and engagement samples (with the `stalled` of 0004).
 * Mirrors the SQL (the source of truth); `migrate.test.ts` checks they agree. Foreign keys
 * live in the SQL only (this file does not import schema.ts, which imports it, so there is no
 * import cycle).
 */
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/** `timestamptz` read as a `Date`. */
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The kinds of quiz. */
export const QUIZ_KINDS = ['single', 'multiple', 'truefalse', 'short'] as const;
/** A kind of quiz. */
export type QuizKind = (typeof QUIZ_KINDS)[number];

/** The quiz bank of a class (`correct`: option indexes, or accepted strings for `short`). */
export const quizzes = pgTable(
  'quizzes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id').notNull(),
    kind: text('kind', { enum: QUIZ_KINDS }).notNull(),
    question: text('question').notNull(),
    options: jsonb('options').$type<string[]>().notNull().default([]),
    correct: jsonb('correct').$type<number[] | string[]>().notNull().default([]),
    timeLimitSec: integer('time_limit_sec').notNull(),
    anonymous: boolean('anonymous').notNull().default(false),
    createdAt: tstz('created_at').notNull().defaultNow(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [index('quizzes_class_idx').on(t.classId, t.createdAt)],
);

/** One push of a quiz during a lesson; at most one open run per lesson. */
export const quizRuns = pgTable(
  'quiz_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    quizId: uuid('quiz_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    openedAt: tstz('opened_at').notNull().defaultNow(),
    closesAt: tstz('closes_at').notNull(),
    closedAt: tstz('closed_at'),
    revealedAt: tstz('revealed_at'),
  },
  (t) => [
    index('quiz_runs_quiz_idx').on(t.quizId, t.openedAt),
    uniqueIndex('quiz_runs_lesson_open_key')
      .on(t.lessonId)
      .where(sql`closed_at IS NULL`),
  ],
);

/** One answer per student per run. */
export const quizAnswers = pgTable(
  'quiz_answers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    runId: uuid('run_id').notNull(),
    participantId: uuid('participant_id').notNull(),
    answerId: text('answer_id').notNull(),
    choices: jsonb('choices').$type<number[]>(),
    text: text('text'),
    correct: boolean('correct').notNull(),
    ms: integer('ms').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [
    unique('quiz_answers_run_participant_key').on(t.runId, t.participantId),
    index('quiz_answers_participant_idx').on(t.participantId),
  ],
);

/** The kinds of interaction recorded. */
export type InteractionKind = 'chat' | 'reaction' | 'hand' | 'quiz';

/** What a student did (reactions, hands, answers), for "my data" and engagement. */
export const interactions = pgTable(
  'interactions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    lessonId: uuid('lesson_id'),
    classId: uuid('class_id').notNull(),
    participantId: uuid('participant_id').notNull(),
    kind: text('kind', { enum: ['chat', 'reaction', 'hand', 'quiz'] }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    at: tstz('at').notNull().defaultNow(),
  },
  (t) => [
    index('interactions_participant_idx').on(t.participantId, t.at),
    index('interactions_class_kind_idx').on(t.classId, t.kind, t.at),
  ],
);

/**
 * Engagement per student every 10 s of a lesson (`at` = the 10-s bucket); `stalled`: their
 * player reported "stalled" at some moment of the bucket (0004_recordings.sql).
 */
export const engagementSamples = pgTable(
  'engagement_samples',
  {
    lessonId: uuid('lesson_id').notNull(),
    participantId: uuid('participant_id').notNull(),
    score: doublePrecision('score').notNull(),
    watching: doublePrecision('watching').notNull(),
    at: tstz('at').notNull(),
    stalled: boolean('stalled').notNull().default(false),
  },
  (t) => [
    primaryKey({ name: 'engagement_samples_pkey', columns: [t.lessonId, t.participantId, t.at] }),
    index('engagement_samples_lesson_at_idx').on(t.lessonId, t.at),
  ],
);

/** The tables of this file, for `tables` in schema.ts. */
export const quizTables = { quizzes, quizRuns, quizAnswers, interactions, engagementSamples };
