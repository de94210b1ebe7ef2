/**
 * Lessons on Drizzle. A lesson is one start → end of a class. Starting inserts the next
 * numbered lesson and sets the class live, in one transaction; the partial unique index
 * `lessons_class_running_key` keeps at most one running lesson per class, so two replicas
 * starting at once agree on one. Ending is final: it stamps `ended_at`, increments the class's
 * `epoch` (every token issued for the lesson carries the old one and is refused from now on),
 * sets `last_ended_at`, closes the lesson's attendance and puts the class back to scheduled.
 */
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { toRecord } from './class-repo.ts';
import { classes, lessons, participants } from './schema.ts';
import { guard, isUniqueViolation, isUuid, type Db } from './sql.ts';
import type { ClassRecord, Lesson, LessonRepo } from './types.ts';

type Row = typeof lessons.$inferSelect;

function toLesson(r: Row): Lesson {
  return { id: r.id, classId: r.classId, number: r.number, startedAt: r.startedAt, endedAt: r.endedAt };
}

/** `LessonRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleLessonRepo implements LessonRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Starts the next lesson (idempotent while one runs). CLASS_ARCHIVED, CLASS_NOT_FOUND. */
  start(classId: string): Promise<{ lesson: Lesson; class: ClassRecord; started: boolean }> {
    if (!isUuid(classId)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#db.transaction(async (tx) => {
            const [c] = await tx.select().from(classes).where(eq(classes.id, classId)).for('update');
            if (!c) throw new AirError('CLASS_NOT_FOUND');
            if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
            const [running] = await tx
              .select()
              .from(lessons)
              .where(and(eq(lessons.classId, classId), isNull(lessons.endedAt)));
            if (running) return { lesson: toLesson(running), class: toRecord(c), started: false };
            const [inserted] = await tx
              .insert(lessons)
              .values({
                classId,
                number: sql`(SELECT coalesce(max(${lessons.number}), 0) + 1 FROM ${lessons} WHERE ${lessons.classId} = ${classId})`,
              })
              .returning();
            const lesson = toLesson(inserted!);
            const [updated] = await tx
              .update(classes)
              .set({ status: 'live', startedAt: lesson.startedAt })
              .where(eq(classes.id, classId))
              .returning();
            // Students who joined while the class waited belong to this lesson.
            await tx
              .update(participants)
              .set({ lessonId: lesson.id })
              .where(
                and(
                  eq(participants.classId, classId),
                  isNull(participants.lessonId),
                  isNull(participants.leftAt),
                ),
              );
            return { lesson, class: toRecord(updated!), started: true };
          });
        } catch (e) {
          // Another replica started one at the same moment: take theirs.
          const raced =
            isUniqueViolation(e, 'lessons_class_running_key') ||
            isUniqueViolation(e, 'lessons_class_number_key');
          if (!raced || attempt >= 3) throw e;
        }
      }
    });
  }

  /** Ends the running lesson (final); `lesson` undefined when none ran. CLASS_NOT_FOUND. */
  end(classId: string): Promise<{ lesson: Lesson | undefined; class: ClassRecord }> {
    if (!isUuid(classId)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(() =>
      this.#db.transaction(async (tx) => {
        const [ended] = await tx
          .update(lessons)
          .set({ endedAt: sql`now()` })
          .where(and(eq(lessons.classId, classId), isNull(lessons.endedAt)))
          .returning();
        if (!ended) {
          const [c] = await tx.select().from(classes).where(eq(classes.id, classId));
          if (!c) throw new AirError('CLASS_NOT_FOUND');
          return { lesson: undefined, class: toRecord(c) };
        }
        await tx
          .update(participants)
          .set({ leftAt: ended.endedAt })
          .where(and(eq(participants.lessonId, ended.id), isNull(participants.leftAt)));
        const [c] = await tx
          .update(classes)
          .set({
            status: sql`CASE WHEN ${classes.status} = 'archived' THEN 'archived' ELSE 'scheduled' END`,
            epoch: sql`${classes.epoch} + 1`,
            lastEndedAt: ended.endedAt,
            endedAt: ended.endedAt,
          })
          .where(eq(classes.id, classId))
          .returning();
        return { lesson: toLesson(ended), class: toRecord(c!) };
      }),
    );
  }

  current(classId: string): Promise<Lesson | undefined> {
    if (!isUuid(classId)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(lessons)
        .where(and(eq(lessons.classId, classId), isNull(lessons.endedAt)));
      return rows[0] && toLesson(rows[0]);
    });
  }

  last(classId: string): Promise<Lesson | undefined> {
    if (!isUuid(classId)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(lessons)
        .where(eq(lessons.classId, classId))
        .orderBy(desc(lessons.number))
        .limit(1);
      return rows[0] && toLesson(rows[0]);
    });
  }

  byId(id: string): Promise<Lesson | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db.select().from(lessons).where(eq(lessons.id, id));
      return rows[0] && toLesson(rows[0]);
    });
  }

  /** Newest first. */
  list(classId: string): Promise<Lesson[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(lessons)
        .where(eq(lessons.classId, classId))
        .orderBy(desc(lessons.number));
      return rows.map(toLesson);
    });
  }
}
