/**
 * Chat on Drizzle. Messages carry the per-class sequence number from `ClassRepo.nextSeq`
 * (unique per class); a reconnecting client reads what it missed with `since`. Deleting marks
 * a message (`deletedAt`) so clients that already have it can be told to hide it.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { chatMessages, lessons } from './schema.ts';
import { guard, isForeignKeyViolation, isUniqueViolation, isUuid, type Db } from './sql.ts';
import type { ChatMessage, ChatRepo } from './types.ts';

type Row = typeof chatMessages.$inferSelect;

/** Most messages `since` returns in one call, whatever `limit` asks. */
export const MAX_SINCE_LIMIT = 1000;

function toMessage(r: Row): ChatMessage {
  return {
    id: r.id,
    classId: r.classId,
    seq: r.seq,
    senderId: r.senderId,
    senderName: r.senderName,
    senderRole: r.senderRole,
    text: r.text,
    createdAt: r.createdAt,
    deletedAt: r.deletedAt,
  };
}

/** `ChatRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleChatRepo implements ChatRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores a message; `CLASS_NOT_FOUND` for an unknown class, `CONFLICT` for a reused seq. */
  add(m: Omit<ChatMessage, 'id' | 'createdAt' | 'deletedAt'>): Promise<ChatMessage> {
    if (!isUuid(m.classId)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(async () => {
      try {
        const rows = await this.#db
          .insert(chatMessages)
          .values({
            classId: m.classId,
            seq: m.seq,
            senderId: m.senderId,
            senderName: m.senderName,
            senderRole: m.senderRole,
            text: m.text,
            lessonId: sql`(SELECT ${lessons.id} FROM ${lessons} WHERE ${lessons.classId} = ${m.classId} AND ${lessons.endedAt} IS NULL)`,
          })
          .returning();
        return toMessage(rows[0]!);
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new AirError('CLASS_NOT_FOUND');
        if (isUniqueViolation(e, 'chat_messages_class_seq_key')) {
          throw new AirError('CONFLICT', `Sequence number ${m.seq} is already used in this class.`);
        }
        throw e;
      }
    });
  }

  /** Messages with seq > `seq`, oldest first, at most `limit` (capped at MAX_SINCE_LIMIT). */
  since(classId: string, seq: number, limit: number): Promise<ChatMessage[]> {
    const n = Math.min(Math.floor(limit), MAX_SINCE_LIMIT);
    if (!isUuid(classId) || !(n > 0)) return Promise.resolve([]);
    const after = Number.isFinite(seq) ? Math.floor(seq) : 0;
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(chatMessages)
        .where(and(eq(chatMessages.classId, classId), gt(chatMessages.seq, after)))
        .orderBy(asc(chatMessages.seq))
        .limit(n);
      return rows.map(toMessage);
    });
  }

  /** Marks a message deleted (the first deletion time is kept); undefined if not in that class. */
  delete(classId: string, id: string): Promise<ChatMessage | undefined> {
    if (!isUuid(classId) || !isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(chatMessages)
        .set({ deletedAt: sql`coalesce(${chatMessages.deletedAt}, now())` })
        .where(and(eq(chatMessages.classId, classId), eq(chatMessages.id, id)))
        .returning();
      return rows[0] && toMessage(rows[0]);
    });
  }
}
