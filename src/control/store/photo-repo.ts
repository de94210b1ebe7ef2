/**
 * Students' photos of their work on Drizzle (`photos` of migrations/0006_ai_lesson.sql): the
 * row of each upload (the file itself lives under `<dataDir>/photos/<lessonId>/`), what its
 * sender already sent in the lesson (for the per-student limits), the description an AI
 * provider gave it, and when the teacher saw it. Rows go with their lesson and class (ON DELETE
 * CASCADE), and are removed with their file once past the class's retention.
 */
import { and, asc, count, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { classes } from './schema.ts';
import { photos } from './schema-ai.ts';
import { guard, isUuid, type Db } from './sql.ts';

/** One stored photo. */
export type PhotoRow = typeof photos.$inferSelect;

/** What a new photo's row holds. */
export type NewPhoto = Pick<
  PhotoRow,
  'classId' | 'lessonId' | 'participantId' | 'senderName' | 'mime' | 'sizeBytes' | 'width' | 'height'
> & { id?: string };

/** Photos over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzlePhotoRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores a new photo's row. */
  create(p: NewPhoto): Promise<PhotoRow> {
    return guard(async () => (await this.#db.insert(photos).values(p).returning())[0]!);
  }

  /** Removes a row whose file could not be written. */
  remove(id: string): Promise<void> {
    return guard(async () => {
      await this.#db.delete(photos).where(eq(photos.id, id));
    });
  }

  /** A photo by id. */
  byId(id: string): Promise<PhotoRow | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => (await this.#db.select().from(photos).where(eq(photos.id, id)))[0]);
  }

  /** The lesson's photos, oldest first. */
  byLesson(lessonId: string): Promise<PhotoRow[]> {
    if (!isUuid(lessonId)) return Promise.resolve([]);
    return guard(() =>
      this.#db.select().from(photos).where(eq(photos.lessonId, lessonId)).orderBy(asc(photos.createdAt)),
    );
  }

  /** How many photos the participant sent in the lesson, and when the last one came. */
  sentBy(lessonId: string, participantId: string): Promise<{ count: number; last: Date | null }> {
    return guard(async () => {
      const where = and(eq(photos.lessonId, lessonId), eq(photos.participantId, participantId));
      const [n] = await this.#db.select({ n: count() }).from(photos).where(where);
      const [last] = await this.#db
        .select({ at: photos.createdAt })
        .from(photos)
        .where(where)
        .orderBy(desc(photos.createdAt))
        .limit(1);
      return { count: Number(n?.n ?? 0), last: last?.at ?? null };
    });
  }

  /** Stores what a provider said the photo shows. */
  describe(id: string, description: string, provider: 'builtin' | 'gemini'): Promise<void> {
    return guard(async () => {
      await this.#db.update(photos).set({ description, provider }).where(eq(photos.id, id));
    });
  }

  /** Marks the photo seen (the first time only); the row. */
  seen(id: string): Promise<PhotoRow | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      await this.#db
        .update(photos)
        .set({ seenAt: new Date() })
        .where(and(eq(photos.id, id), isNull(photos.seenAt)));
      return (await this.#db.select().from(photos).where(eq(photos.id, id)))[0];
    });
  }

  /** Photos past their class's retention (`created_at + retention_days < now`), oldest first. */
  expired(now: Date, limit = 1000): Promise<PhotoRow[]> {
    return guard(async () => {
      const rows = await this.#db
        .select({ photo: photos })
        .from(photos)
        .innerJoin(classes, eq(classes.id, photos.classId))
        .where(sql`${photos.createdAt} + make_interval(days => ${classes.retentionDays}) < ${now}`)
        .orderBy(asc(photos.createdAt))
        .limit(limit);
      return rows.map((r) => r.photo);
    });
  }

  /** Deletes rows (expired ones). */
  removeMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return guard(async () => {
      await this.#db.delete(photos).where(inArray(photos.id, ids));
    });
  }
}
