/**
 * Drizzle (pg-core) definitions of the tables in `migrations/*.sql`. The SQL files are the
 * source of truth (written by hand: no drizzle-kit); these mirror them so queries are typed.
 * `migrate.test.ts` checks column names, types and nullability against a migrated database.
 * CHECK constraints live in the SQL only (Drizzle needs them only to generate migrations).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** `timestamptz` read as a `Date`. */
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Accounts (admins and teachers); email unique regardless of case. */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: ['admin', 'teacher'] }).notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)],
);

/** Classes, with the per-class sequence counter `seq`. */
export const classes = pgTable(
  'classes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    teacherId: uuid('teacher_id')
      .notNull()
      .references(() => users.id),
    title: text('title').notNull(),
    joinCode: text('join_code').notNull(),
    streamKey: text('stream_key').notNull(),
    status: text('status', { enum: ['scheduled', 'live', 'ended'] })
      .notNull()
      .default('scheduled'),
    chatLocked: boolean('chat_locked').notNull().default(false),
    seq: bigint('seq', { mode: 'number' }).notNull().default(0),
    createdAt: tstz('created_at').notNull().defaultNow(),
    startedAt: tstz('started_at'),
    endedAt: tstz('ended_at'),
  },
  (t) => [
    uniqueIndex('classes_stream_key_key').on(t.streamKey),
    uniqueIndex('classes_join_code_active_key')
      .on(t.joinCode)
      .where(sql`status <> 'ended'`),
    index('classes_join_code_ended_idx')
      .on(t.joinCode, t.endedAt)
      .where(sql`status = 'ended'`),
    index('classes_teacher_idx').on(t.teacherId, t.createdAt),
  ],
);

/** Attendance: one row per join, `leftAt` set on leave. */
export const participants = pgTable(
  'participants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    role: text('role', { enum: ['teacher', 'student', 'monitor'] }).notNull(),
    joinedAt: tstz('joined_at').notNull().defaultNow(),
    leftAt: tstz('left_at'),
  },
  (t) => [index('participants_class_idx').on(t.classId, t.joinedAt)],
);

/** Chat messages, unique per (class, seq). */
export const chatMessages = pgTable(
  'chat_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    senderId: text('sender_id').notNull(),
    senderName: text('sender_name').notNull(),
    senderRole: text('sender_role', { enum: ['teacher', 'student', 'monitor'] }).notNull(),
    text: text('text').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [uniqueIndex('chat_messages_class_seq_key').on(t.classId, t.seq)],
);

/** Quizzes (a later issue). */
export const quizzes = pgTable(
  'quizzes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    question: text('question').notNull(),
    kind: text('kind', { enum: ['choice', 'multi', 'text'] })
      .notNull()
      .default('choice'),
    options: jsonb('options').$type<unknown[]>().notNull().default([]),
    answer: jsonb('answer'),
    status: text('status', { enum: ['draft', 'open', 'closed'] })
      .notNull()
      .default('draft'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    openedAt: tstz('opened_at'),
    closedAt: tstz('closed_at'),
  },
  (t) => [index('quizzes_class_idx').on(t.classId, t.createdAt)],
);

/** Quiz answers: one per student per quiz. */
export const quizResponses = pgTable(
  'quiz_responses',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    quizId: uuid('quiz_id')
      .notNull()
      .references(() => quizzes.id, { onDelete: 'cascade' }),
    participantId: uuid('participant_id')
      .notNull()
      .references(() => participants.id, { onDelete: 'cascade' }),
    answer: jsonb('answer').notNull(),
    correct: boolean('correct'),
    submittedAt: tstz('submitted_at').notNull().defaultNow(),
  },
  (t) => [
    unique('quiz_responses_quiz_participant_key').on(t.quizId, t.participantId),
    index('quiz_responses_participant_idx').on(t.participantId),
  ],
);

/** Engagement samples from interactions only (DESIGN §11). */
export const engagementSamples = pgTable(
  'engagement_samples',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    participantId: uuid('participant_id').references(() => participants.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    value: doublePrecision('value'),
    data: jsonb('data'),
    at: tstz('at').notNull().defaultNow(),
  },
  (t) => [
    index('engagement_samples_class_at_idx').on(t.classId, t.at),
    index('engagement_samples_participant_idx').on(t.participantId, t.at),
  ],
);

/** Recordings (HLS on disk; `path` relative to the data dir). */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    status: text('status', { enum: ['recording', 'ready', 'failed'] })
      .notNull()
      .default('recording'),
    startedAt: tstz('started_at').notNull().defaultNow(),
    endedAt: tstz('ended_at'),
    durationMs: integer('duration_ms'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
  },
  (t) => [index('recordings_class_idx').on(t.classId, t.startedAt)],
);

/** Every table, for `drizzle(…, { schema })` and the schema check. */
export const tables = {
  users,
  classes,
  participants,
  chatMessages,
  quizzes,
  quizResponses,
  engagementSamples,
  recordings,
};
