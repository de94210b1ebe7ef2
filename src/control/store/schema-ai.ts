/**
 * Drizzle (pg-core) definitions of the tables of `migrations/0006_ai_lesson.sql`: held chat
 * messages, slide snapshots, students' photos and stored AI results. Mirrors the SQL (the source
 * of truth); `migrate.test.ts` checks they agree. Foreign keys live in the SQL only (this file
 * does not import schema.ts, which imports it, so there is no import cycle).
 */
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/** `timestamptz` read as a `Date`. */
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Which analyzer produced a result. */
export type AiProviderName = 'builtin' | 'gemini';

/** Why a message was held (src/control/ai/builtin/moderation.ts). */
export type HoldReason = 'phone' | 'email' | 'rrn' | 'address' | 'insult';

/** Students' chat messages held for the teacher's approval. */
export const chatHeld = pgTable(
  'chat_held',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id').notNull(),
    lessonId: uuid('lesson_id'),
    senderId: text('sender_id').notNull(),
    senderName: text('sender_name').notNull(),
    text: text('text').notNull(),
    reasons: jsonb('reasons').$type<HoldReason[]>().notNull().default([]),
    status: text('status', { enum: ['held', 'approved', 'rejected'] })
      .notNull()
      .default('held'),
    createdAt: tstz('created_at').notNull().defaultNow(),
    decidedAt: tstz('decided_at'),
    messageId: uuid('message_id'),
  },
  (t) => [index('chat_held_class_idx').on(t.classId, t.status, t.createdAt)],
);

/** Snapshots of the live picture with the text read from them. */
export const slides = pgTable(
  'slides',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    takenAt: tstz('taken_at').notNull().defaultNow(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    text: text('text').notNull().default(''),
    reader: text('reader', { enum: ['gemini', 'tesseract', 'none'] }).notNull(),
  },
  (t) => [index('slides_lesson_idx').on(t.lessonId, t.takenAt)],
);

/** Students' photos of their work. */
export const photos = pgTable(
  'photos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    classId: uuid('class_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    participantId: text('participant_id').notNull(),
    senderName: text('sender_name').notNull(),
    mime: text('mime', { enum: ['image/jpeg', 'image/png', 'image/webp'] }).notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    description: text('description'),
    provider: text('provider', { enum: ['builtin', 'gemini'] }),
    createdAt: tstz('created_at').notNull().defaultNow(),
    seenAt: tstz('seen_at'),
  },
  (t) => [index('photos_lesson_idx').on(t.lessonId, t.createdAt)],
);

/** The kinds of stored AI result. */
export const AI_RESULT_KINDS = ['quiz', 'questions', 'summary', 'draft'] as const;
/** A kind of stored AI result. */
export type AiResultKind = (typeof AI_RESULT_KINDS)[number];

/** AI results of a lesson, the latest per (kind, subject), marked with their provider. */
export const aiResults = pgTable(
  'ai_results',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    lessonId: uuid('lesson_id').notNull(),
    kind: text('kind', { enum: AI_RESULT_KINDS }).notNull(),
    subject: text('subject').notNull().default(''),
    provider: text('provider', { enum: ['builtin', 'gemini'] }).notNull(),
    result: jsonb('result').$type<unknown>().notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('ai_results_lesson_kind_subject_key').on(t.lessonId, t.kind, t.subject)],
);

/** The tables of this file. */
export const aiTables = { chatHeld, slides, photos, aiResults };
