/**
 * Attendance on Drizzle: a row per join, closed by a leave. A leave keeps the first leave time
 * (repeated leaves are no-ops); `leaveAll` closes every open row of a class at once.
 */
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { lessons, participants } from './schema.ts';
import { guard, isForeignKeyViolation, isUuid, type Db } from './sql.ts';
import type { Participant, ParticipantRepo, ParticipantRole } from './types.ts';

type Row = typeof participants.$inferSelect;

function toParticipant(r: Row): Participant {
  return {
    id: r.id,
    classId: r.classId,
    name: r.name,
    role: r.role,
    joinedAt: r.joinedAt,
    leftAt: r.leftAt,
    lessonId: r.lessonId,
    removedAt: r.removedAt,
  };
}

/** `ParticipantRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleParticipantRepo implements ParticipantRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Records a join now, in the running lesson if any; `CLASS_NOT_FOUND` for an unknown class. */
  join(p: { classId: string; name: string; role: ParticipantRole }): Promise<Participant> {
    if (!isUuid(p.classId)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(async () => {
      try {
        const rows = await this.#db
          .insert(participants)
          .values({
            classId: p.classId,
            name: p.name,
            role: p.role,
            lessonId: sql`(SELECT ${lessons.id} FROM ${lessons} WHERE ${lessons.classId} = ${p.classId} AND ${lessons.endedAt} IS NULL)`,
          })
          .returning();
        return toParticipant(rows[0]!);
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new AirError('CLASS_NOT_FOUND');
        throw e;
      }
    });
  }

  /** Records the leave time; no-op when already left or unknown. */
  leave(id: string): Promise<void> {
    if (!isUuid(id)) return Promise.resolve();
    return guard(async () => {
      await this.#db
        .update(participants)
        .set({ leftAt: sql`now()` })
        .where(and(eq(participants.id, id), isNull(participants.leftAt)));
    });
  }

  /** Closes every open attendance of a class (class ended, or a restart); returns how many. */
  leaveAll(classId: string): Promise<number> {
    if (!isUuid(classId)) return Promise.resolve(0);
    return guard(async () => {
      const rows = await this.#db
        .update(participants)
        .set({ leftAt: sql`now()` })
        .where(and(eq(participants.classId, classId), isNull(participants.leftAt)))
        .returning({ id: participants.id });
      return rows.length;
    });
  }

  /** Marks a student of the class removed (and left, if present). */
  remove(classId: string, id: string): Promise<Participant | undefined> {
    if (!isUuid(classId) || !isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(participants)
        .set({
          removedAt: sql`coalesce(${participants.removedAt}, now())`,
          leftAt: sql`coalesce(${participants.leftAt}, now())`,
        })
        .where(
          and(eq(participants.id, id), eq(participants.classId, classId), eq(participants.role, 'student')),
        )
        .returning();
      return rows[0] && toParticipant(rows[0]);
    });
  }

  byId(id: string): Promise<Participant | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db.select().from(participants).where(eq(participants.id, id));
      return rows[0] && toParticipant(rows[0]);
    });
  }

  /**
   * Every attendance row of the class (present and left), in join order (PGlite's clock has
   * millisecond resolution; joins within one millisecond are ordered by id).
   */
  listByClass(classId: string): Promise<Participant[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(participants)
        .where(eq(participants.classId, classId))
        .orderBy(asc(participants.joinedAt), asc(participants.id));
      return rows.map(toParticipant);
    });
  }
}
