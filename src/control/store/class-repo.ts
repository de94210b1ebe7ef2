/**
 * Classes on Drizzle: join codes (6 random digits, unique among classes not ended, retried on
 * collision), stream keys (40 random URL-safe characters), the lifecycle scheduled → live →
 * ended, and the per-class sequence counter (`UPDATE … SET seq = seq + 1 RETURNING seq`).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { and, asc, eq, inArray, ne, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { classes } from './schema.ts';
import { guard, isForeignKeyViolation, isUniqueViolation, isUuid, type Db } from './sql.ts';
import type { ClassRecord, ClassRepo, ClassStatus } from './types.ts';

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

/** Which states each status may be entered from (same status = no-op). */
const ENTERED_FROM: Record<ClassStatus, ClassStatus[]> = {
  scheduled: [],
  live: ['scheduled'],
  ended: ['scheduled', 'live'],
};

function toRecord(r: Row): ClassRecord {
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
    endedAt: r.endedAt,
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
    return this.#one(and(eq(classes.joinCode, code), ne(classes.status, 'ended')));
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

  /**
   * scheduled → live (sets startedAt), scheduled | live → ended (sets endedAt). Setting the
   * current status again is a no-op; any other move is `CONFLICT`. Undefined when not found.
   */
  setStatus(id: string, status: ClassStatus): Promise<ClassRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const from = ENTERED_FROM[status];
      if (from.length > 0) {
        const rows = await this.#db
          .update(classes)
          .set({
            status,
            ...(status === 'live' ? { startedAt: sql`coalesce(${classes.startedAt}, now())` } : {}),
            ...(status === 'ended' ? { endedAt: sql`now()` } : {}),
          })
          .where(and(eq(classes.id, id), inArray(classes.status, from)))
          .returning();
        if (rows[0]) return toRecord(rows[0]);
      }
      const current = await this.byId(id);
      if (!current || current.status === status) return current;
      throw new AirError('CONFLICT', `A class that is ${current.status} cannot become ${status}.`);
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
