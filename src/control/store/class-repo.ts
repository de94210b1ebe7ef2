/**
 * Classes on Drizzle: join codes (6 random digits, unique among classes not archived, retried
 * on collision), stream keys (40 random URL-safe characters), rename and archive, and the
 * per-class sequence counter (`UPDATE … SET seq = seq + 1 RETURNING seq`). Lessons (start,
 * end: status live ↔ scheduled, epoch) are in lesson-repo.ts.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { and, asc, desc, eq, gt, ne, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { classes } from './schema.ts';
import { guard, isForeignKeyViolation, isUniqueViolation, isUuid, type Db } from './sql.ts';
import type { ClassRecord, ClassRepo } from './types.ts';

type Row = typeof classes.$inferSelect;

/** A random 6-digit join code ("000000"–"999999"). */
export function randomJoinCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** A random stream key: 30 bytes as base64url (40 characters, 240 bits). */
export function randomStreamKey(): string {
  return randomBytes(30).toString('base64url');
}

/** Options of `DrizzleClassRepo`; the generators are injectable so tests can force collisions. */
export interface ClassRepoOptions {
  joinCode?: () => string;
  streamKey?: () => string;
  /** Attempts at a free join code (and stream key) before giving up with CONFLICT; default 20. */
  maxAttempts?: number;
}

/** A class row as a record. */
export function toRecord(r: Row): ClassRecord {
  return {
    id: r.id,
    teacherId: r.teacherId,
    title: r.title,
    joinCode: r.joinCode,
    streamKey: r.streamKey,
    status: r.status,
    chatLocked: r.chatLocked,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    endedAt: r.lastEndedAt ?? r.endedAt,
    epoch: r.epoch,
    archivedAt: r.archivedAt,
    lastEndedAt: r.lastEndedAt,
    retentionDays: r.retentionDays,
    aiEnabled: r.aiEnabled,
    aiProvider: r.aiProvider,
  };
}

/** `ClassRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleClassRepo implements ClassRepo {
  readonly #db: Db;
  readonly #joinCode: () => string;
  readonly #streamKey: () => string;
  readonly #maxAttempts: number;

  constructor(db: Db, opts: ClassRepoOptions = {}) {
    this.#db = db;
    this.#joinCode = opts.joinCode ?? randomJoinCode;
    this.#streamKey = opts.streamKey ?? randomStreamKey;
    this.#maxAttempts = opts.maxAttempts ?? 20;
  }

  /**
   * Creates a scheduled class; retries on a join-code or stream-key collision.
   * `USER_NOT_FOUND` when the teacher does not exist.
   */
  create(c: { teacherId: string; title: string }): Promise<ClassRecord> {
    if (!isUuid(c.teacherId)) return Promise.reject(new AirError('USER_NOT_FOUND'));
    return guard(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const rows = await this.#db
            .insert(classes)
            .values({
              teacherId: c.teacherId,
              title: c.title,
              joinCode: this.#joinCode(),
              streamKey: this.#streamKey(),
            })
            .returning();
          return toRecord(rows[0]!);
        } catch (e) {
          if (isForeignKeyViolation(e)) throw new AirError('USER_NOT_FOUND');
          const collision =
            isUniqueViolation(e, 'classes_join_code_active_key') ||
            isUniqueViolation(e, 'classes_stream_key_key');
          if (!collision) throw e;
          if (attempt >= this.#maxAttempts) {
            throw new AirError('CONFLICT', 'No free join code found; try again.');
          }
        }
      }
    });
  }

  byId(id: string): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return this.#one(eq(classes.id, id));
  }

  byJoinCode(code: string): Promise<ClassRecord | undefined> {
    if (!/^[0-9]{6}$/.test(code)) return Promise.resolve(undefined);
    return this.#one(and(eq(classes.joinCode, code), ne(classes.status, 'archived')));
  }

  /** The class most recently archived with `code` within `withinMs` (so a join says why). */
  archivedByJoinCode(code: string, withinMs: number = 7 * 24 * 3600_000): Promise<ClassRecord | undefined> {
    if (!/^[0-9]{6}$/.test(code)) return Promise.resolve(undefined);
    const since = new Date(Date.now() - withinMs);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(classes)
        .where(and(eq(classes.joinCode, code), eq(classes.status, 'archived'), gt(classes.archivedAt, since)))
        .orderBy(desc(classes.archivedAt))
        .limit(1);
      return rows[0] && toRecord(rows[0]);
    });
  }

  byStreamKey(key: string): Promise<ClassRecord | undefined> {
    if (key === '') return Promise.resolve(undefined);
    return this.#one(eq(classes.streamKey, key));
  }

  /** The teacher's classes, oldest first. */
  listByTeacher(teacherId: string): Promise<ClassRecord[]> {
    if (!isUuid(teacherId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(classes)
        .where(eq(classes.teacherId, teacherId))
        .orderBy(asc(classes.createdAt), asc(classes.id));
      return rows.map(toRecord);
    });
  }

  /** Every class, oldest first. */
  listAll(): Promise<ClassRecord[]> {
    return guard(async () => {
      const rows = await this.#db.select().from(classes).orderBy(asc(classes.createdAt), asc(classes.id));
      return rows.map(toRecord);
    });
  }

  /** A new title (the caller checks it). Undefined when not found. */
  rename(id: string, title: string): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db.update(classes).set({ title }).where(eq(classes.id, id)).returning();
      return rows[0] && toRecord(rows[0]);
    });
  }

  /**
   * → archived (epoch + 1, archivedAt): the join code is free again and the key refused. The
   * caller ends a running lesson first. Idempotent; undefined when not found.
   */
  archive(id: string): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(classes)
        .set({ status: 'archived', archivedAt: sql`now()`, epoch: sql`${classes.epoch} + 1` })
        .where(and(eq(classes.id, id), ne(classes.status, 'archived')))
        .returning();
      return rows[0] ? toRecord(rows[0]) : this.byId(id);
    });
  }

  /** A fresh stream key; the old one stops working at once. */
  rotateStreamKey(id: string): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const rows = await this.#db
            .update(classes)
            .set({ streamKey: this.#streamKey() })
            .where(eq(classes.id, id))
            .returning();
          return rows[0] && toRecord(rows[0]);
        } catch (e) {
          if (!isUniqueViolation(e, 'classes_stream_key_key') || attempt >= this.#maxAttempts) throw e;
        }
      }
    });
  }

  setChatLocked(id: string, locked: boolean): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(classes)
        .set({ chatLocked: locked })
        .where(eq(classes.id, id))
        .returning();
      return rows[0] && toRecord(rows[0]);
    });
  }

  /** AI for the class: on or off, and which provider. */
  setAi(id: string, enabled: boolean, provider: 'builtin' | 'gemini'): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(classes)
        .set({ aiEnabled: enabled, aiProvider: provider })
        .where(eq(classes.id, id))
        .returning();
      return rows[0] && toRecord(rows[0]);
    });
  }

  /** Days the class's recordings are kept (1–3650). */
  setRetention(id: string, days: number): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(classes)
        .set({ retentionDays: days })
        .where(eq(classes.id, id))
        .returning();
      return rows[0] && toRecord(rows[0]);
    });
  }

  /** Atomic in the database; `CLASS_NOT_FOUND` for an unknown class. */
  nextSeq(classId: string): Promise<number> {
    return guard(async () => {
      const rows = isUuid(classId)
        ? await this.#db
            .update(classes)
            .set({ seq: sql`${classes.seq} + 1` })
            .where(eq(classes.id, classId))
            .returning({ seq: classes.seq })
        : [];
      if (!rows[0]) throw new AirError('CLASS_NOT_FOUND');
      return rows[0].seq;
    });
  }

  /** The last sequence number handed out for the class (0 before the first); undefined if unknown. */
  currentSeq(classId: string): Promise<number | undefined> {
    if (!isUuid(classId)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db.select({ seq: classes.seq }).from(classes).where(eq(classes.id, classId));
      return rows[0]?.seq;
    });
  }

  #one(where: ReturnType<typeof eq> | undefined): Promise<ClassRecord | undefined> {
    return guard(async () => {
      const rows = await this.#db.select().from(classes).where(where);
      return rows[0] && toRecord(rows[0]);
    });
  }
}
