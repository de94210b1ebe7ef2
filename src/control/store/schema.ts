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
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { aiTables } from './schema-ai.ts';
import { quizTables } from './schema-quiz.ts';

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
    disabledAt: tstz('disabled_at'),
    sessionsValidAfter: tstz('sessions_valid_after'),
  },
  (t) => [uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)],
);

/** Classes (courses), with the per-class sequence counter `seq` and the lesson `epoch`. */
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
    status: text('status', { enum: ['scheduled', 'live', 'archived'] })
      .notNull()
      .default('scheduled'),
    chatLocked: boolean('chat_locked').notNull().default(false),
    seq: bigint('seq', { mode: 'number' }).notNull().default(0),
    createdAt: tstz('created_at').notNull().defaultNow(),
    startedAt: tstz('started_at'),
    endedAt: tstz('ended_at'),
    epoch: integer('epoch').notNull().default(0),
    archivedAt: tstz('archived_at'),
    lastEndedAt: tstz('last_ended_at'),
    retentionDays: integer('retention_days').notNull().default(30),
    aiEnabled: boolean('ai_enabled').notNull().default(false),
    aiProvider: text('ai_provider', { enum: ['builtin', 'gemini'] })
      .notNull()
      .default('builtin'),
  },
  (t) => [
    uniqueIndex('classes_stream_key_key').on(t.streamKey),
    uniqueIndex('classes_join_code_active_key')
      .on(t.joinCode)
      .where(sql`status <> 'archived'`),
    index('classes_join_code_archived_idx')
      .on(t.joinCode, t.archivedAt)
      .where(sql`status = 'archived'`),
    index('classes_teacher_idx').on(t.teacherId, t.createdAt),
  ],
);

/** One start → end of a class; at most one running (ended_at null) per class. */
export const lessons = pgTable(
  'lessons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    startedAt: tstz('started_at').notNull().defaultNow(),
    endedAt: tstz('ended_at'),
  },
  (t) => [
    uniqueIndex('lessons_class_number_key').on(t.classId, t.number),
    uniqueIndex('lessons_class_running_key')
      .on(t.classId)
      .where(sql`ended_at IS NULL`),
  ],
);

/** Attendance: one row per join, `leftAt` set on leave; `removedAt` when the teacher removed them. */
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
    lessonId: uuid('lesson_id').references(() => lessons.id, { onDelete: 'set null' }),
    removedAt: tstz('removed_at'),
  },
  (t) => [
    index('participants_class_idx').on(t.classId, t.joinedAt),
    index('participants_lesson_idx').on(t.lessonId, t.joinedAt),
  ],
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
    lessonId: uuid('lesson_id').references(() => lessons.id, { onDelete: 'set null' }),
  },
  (t) => [uniqueIndex('chat_messages_class_seq_key').on(t.classId, t.seq)],
);

/**
 * Recordings: a live stretch of a lesson as HLS on disk in `<dataDir>/recordings/<id>/`
 * (migrations/0004_recordings.sql).
 */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    lessonId: uuid('lesson_id').references(() => lessons.id, { onDelete: 'set null' }),
    node: text('node').notNull().default('main'),
    status: text('status', { enum: ['recording', 'complete', 'interrupted', 'stopped'] })
      .notNull()
      .default('recording'),
    reason: text('reason'),
    startedAt: tstz('started_at').notNull().defaultNow(),
    endedAt: tstz('ended_at'),
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull().default(0),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    sharedAt: tstz('shared_at'),
    deletedAt: tstz('deleted_at'),
  },
  (t) => [
    index('recordings_class_idx').on(t.classId, t.startedAt),
    index('recordings_lesson_idx').on(t.lessonId),
  ],
);

/** Secrets of the school, sealed (migrations/0005_ai.sql). */
export const secrets = pgTable('secrets', {
  name: text('name').primaryKey(),
  sealed: text('sealed').notNull(),
  last4: text('last4').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** Tokens revoked before their expiry (sign-out). */
export const revokedTokens = pgTable(
  'revoked_tokens',
  {
    jti: text('jti').primaryKey(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [index('revoked_tokens_expires_idx').on(t.expiresAt)],
);

/** Monitor share links (listed and revoked by the teacher). */
export const monitorLinks = pgTable(
  'monitor_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id')
      .notNull()
      .references(() => classes.id, { onDelete: 'cascade' }),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: tstz('created_at').notNull().defaultNow(),
    expiresAt: tstz('expires_at').notNull(),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [index('monitor_links_class_idx').on(t.classId, t.createdAt)],
);

/** Every table, for `drizzle(…, { schema })` and the schema check. */
export const tables = {
  users,
  classes,
  participants,
  lessons,
  chatMessages,
  revokedTokens,
  monitorLinks,
  recordings,
  secrets,
  ...quizTables,
  ...aiTables,
};
