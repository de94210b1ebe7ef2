/**
 * Held chat messages on Drizzle (`chat_held`, migrations/0006_ai_lesson.sql): a student's
 * message that the moderation hold flagged waits here, in the lesson it was sent in, until the
 * teacher approves it (it then becomes an ordinary chat message, linked by `messageId`) or
 * rejects it. A decision changes only a row that is still `held`, so two teachers deciding at
 * once (or a repeated click) decide it once.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { chatHeld } from './schema-ai.ts';
import { lessons } from './schema.ts';
import { guard, isForeignKeyViolation, isUuid, type Db } from './sql.ts';
import type { HeldMessage, HeldRepo } from './types.ts';

type Row = typeof chatHeld.$inferSelect;

/** Most held messages `listHeld` returns. */
export const MAX_HELD_LIST = 200;

function toHeld(r: Row): HeldMessage {
  return {
    id: r.id,
    classId: r.classId,
    lessonId: r.lessonId,
    senderId: r.senderId,
    senderName: r.senderName,
    text: r.text,
    reasons: r.reasons,
    status: r.status,
    createdAt: r.createdAt,
    decidedAt: r.decidedAt,
    messageId: r.messageId,
  };
}

/** `HeldRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleHeldRepo implements HeldRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores a held message in the class's running lesson; CLASS_NOT_FOUND for an unknown class. */
  add(
    m: Pick<HeldMessage, 'classId' | 'senderId' | 'senderName' | 'text' | 'reasons'>,
  ): Promise<HeldMessage> {
    if (!isUuid(m.classId)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(async () => {
      try {
        const rows = await this.#db
          .insert(chatHeld)
          .values({
            classId: m.classId,
            senderId: m.senderId,
            senderName: m.senderName,
            text: m.text,
            reasons: m.reasons,
            lessonId: sql`(SELECT ${lessons.id} FROM ${lessons} WHERE ${lessons.classId} = ${m.classId} AND ${lessons.endedAt} IS NULL)`,
          })
          .returning();
        return toHeld(rows[0]!);
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new AirError('CLASS_NOT_FOUND');
        throw e;
      }
    });
  }

  /** The class's messages still waiting, oldest first, at most MAX_HELD_LIST. */
  listHeld(classId: string): Promise<HeldMessage[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(chatHeld)
        .where(and(eq(chatHeld.classId, classId), eq(chatHeld.status, 'held')))
        .orderBy(asc(chatHeld.createdAt), asc(chatHeld.id))
        .limit(MAX_HELD_LIST);
      return rows.map(toHeld);
    });
  }

  /** Decides a message of the class that is still held; undefined otherwise. */
  decide(
    classId: string,
    id: string,
    status: 'approved' | 'rejected',
    messageId?: string,
  ): Promise<HeldMessage | undefined> {
    if (!isUuid(classId) || !isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(chatHeld)
        .set({ status, decidedAt: sql`now()`, messageId: messageId ?? null })
        .where(and(eq(chatHeld.classId, classId), eq(chatHeld.id, id), eq(chatHeld.status, 'held')))
        .returning();
      return rows[0] && toHeld(rows[0]);
    });
  }

  /** Records the chat message an approved one became. */
  linkMessage(classId: string, id: string, messageId: string): Promise<void> {
    if (!isUuid(classId) || !isUuid(id)) return Promise.resolve();
    return guard(async () => {
      await this.#db
        .update(chatHeld)
        .set({ messageId })
        .where(and(eq(chatHeld.classId, classId), eq(chatHeld.id, id)));
    });
  }
}
