/**
 * Recordings on Drizzle (migrations/0004_recordings.sql): one row per recorded stretch of a
 * lesson, written by the recorder's callbacks (created, progress, closed), repaired after a
 * crash, shared with students, and removed by the retention job (`deleted_at`; the files go
 * first). Deleted rows are invisible to every read but `expired`.
 */
import { and, asc, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import { classes, lessons, recordings } from './schema.ts';
import { guard, isUuid, type Db } from './sql.ts';

/** One stored recording. */
export type RecordingRow = typeof recordings.$inferSelect;

/** A recording with its lesson's number and its class's retention (what views need). */
export interface RecordingRecord extends RecordingRow {
  lessonNumber: number | null;
  retentionDays: number;
  teacherId: string;
}

/** How a recording closed. */
export type RecordingEnd = 'complete' | 'interrupted' | 'stopped';

/** Recordings over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleRecordingRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  private select() {
    return this.#db
      .select({
        row: recordings,
        lessonNumber: lessons.number,
        retentionDays: classes.retentionDays,
        teacherId: classes.teacherId,
      })
      .from(recordings)
      .innerJoin(classes, eq(classes.id, recordings.classId))
      .leftJoin(lessons, eq(lessons.id, recordings.lessonId));
  }

  /** A new recording (status `recording`). */
  create(r: { classId: string; lessonId: string | null; node: string }): Promise<RecordingRow> {
    return guard(async () => {
      const rows = await this.#db.insert(recordings).values(r).returning();
      return rows[0]!;
    });
  }

  /** A recording that was not deleted. */
  byId(id: string): Promise<RecordingRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.select().where(and(eq(recordings.id, id), isNull(recordings.deletedAt)));
      return rows[0] && flat(rows[0]);
    });
  }

  /** A class's recordings, newest first (`sharedOnly`: those shared with students). */
  listByClass(classId: string, opts: { sharedOnly?: boolean } = {}): Promise<RecordingRecord[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.select()
        .where(
          and(
            eq(recordings.classId, classId),
            isNull(recordings.deletedAt),
            opts.sharedOnly ? sql`${recordings.sharedAt} IS NOT NULL` : undefined,
          ),
        )
        .orderBy(desc(recordings.startedAt));
      return rows.map(flat);
    });
  }

  /** A lesson's recordings, oldest first. */
  listByLesson(lessonId: string, opts: { sharedOnly?: boolean } = {}): Promise<RecordingRecord[]> {
    if (!isUuid(lessonId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.select()
        .where(
          and(
            eq(recordings.lessonId, lessonId),
            isNull(recordings.deletedAt),
            opts.sharedOnly ? sql`${recordings.sharedAt} IS NOT NULL` : undefined,
          ),
        )
        .orderBy(asc(recordings.startedAt));
      return rows.map(flat);
    });
  }

  /** Recordings a node left open (`recording`): after a crash they are repaired and closed. */
  openOn(node: string): Promise<RecordingRow[]> {
    return guard(() =>
      this.#db
        .select()
        .from(recordings)
        .where(
          and(eq(recordings.node, node), eq(recordings.status, 'recording'), isNull(recordings.deletedAt)),
        ),
    );
  }

  /** Duration and size so far (only while recording). */
  progress(id: string, p: { durationMs: number; sizeBytes: number }): Promise<void> {
    return guard(async () => {
      await this.#db
        .update(recordings)
        .set({ durationMs: Math.round(p.durationMs), sizeBytes: Math.round(p.sizeBytes) })
        .where(and(eq(recordings.id, id), eq(recordings.status, 'recording')));
    });
  }

  /** Closes a recording with its final duration and size. */
  finish(
    id: string,
    f: { status: RecordingEnd; reason?: string | null; durationMs: number; sizeBytes: number },
  ): Promise<RecordingRow | undefined> {
    return guard(async () => {
      const rows = await this.#db
        .update(recordings)
        .set({
          status: f.status,
          reason: f.reason ?? null,
          durationMs: Math.round(f.durationMs),
          sizeBytes: Math.round(f.sizeBytes),
          endedAt: sql`coalesce(${recordings.endedAt}, now())`,
        })
        .where(eq(recordings.id, id))
        .returning();
      return rows[0];
    });
  }

  /** Shares with the class's students (or stops sharing). */
  setShared(id: string, shared: boolean): Promise<RecordingRow | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(recordings)
        .set({ sharedAt: shared ? sql`coalesce(${recordings.sharedAt}, now())` : null })
        .where(and(eq(recordings.id, id), isNull(recordings.deletedAt)))
        .returning();
      return rows[0];
    });
  }

  /** Marks recordings deleted (their files are gone). */
  markDeleted(ids: string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return guard(async () => {
      await this.#db
        .update(recordings)
        .set({ deletedAt: sql`now()` })
        .where(inArray(recordings.id, ids));
    });
  }

  /** Recordings past their class's retention at `now` (closed ones; a running one waits). */
  expired(now: Date): Promise<RecordingRow[]> {
    return guard(async () => {
      const rows = await this.#db
        .select({ row: recordings })
        .from(recordings)
        .innerJoin(classes, eq(classes.id, recordings.classId))
        .where(
          and(
            isNull(recordings.deletedAt),
            sql`${recordings.status} <> 'recording'`,
            lt(
              recordings.startedAt,
              sql`${now.toISOString()}::timestamptz - make_interval(days => ${classes.retentionDays})`,
            ),
          ),
        );
      return rows.map((r) => r.row);
    });
  }
}

function flat(r: {
  row: RecordingRow;
  lessonNumber: number | null;
  retentionDays: number;
  teacherId: string;
}): RecordingRecord {
  return { ...r.row, lessonNumber: r.lessonNumber, retentionDays: r.retentionDays, teacherId: r.teacherId };
}
