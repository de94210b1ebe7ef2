/**
 * Stored AI results (migrations/0006_ai_lesson.sql): the latest result per lesson, kind and
 * subject (a quiz id, a slide id, or '' for the lesson), marked with the provider that produced
 * it, so what the teacher saw in the lesson is still there after it.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { aiResults, type AiProviderName, type AiResultKind } from './schema-ai.ts';
import { guard, isUuid, type Db } from './sql.ts';

/** One stored result. */
export type AiResultRow = typeof aiResults.$inferSelect;

/** AI results over a Drizzle database. */
export class DrizzleAiResultRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Stores (or replaces) the result of (lesson, kind, subject). */
  put(lessonId: string, kind: AiResultKind, subject: string, provider: AiProviderName, result: unknown) {
    return guard(async () => {
      const rows = await this.#db
        .insert(aiResults)
        .values({ lessonId, kind, subject, provider, result })
        .onConflictDoUpdate({
          target: [aiResults.lessonId, aiResults.kind, aiResults.subject],
          set: { provider, result, createdAt: sql`now()` },
        })
        .returning();
      return rows[0]!;
    });
  }

  get(lessonId: string, kind: AiResultKind, subject = ''): Promise<AiResultRow | undefined> {
    if (!isUuid(lessonId)) return Promise.resolve(undefined);
    return guard(
      async () =>
        (
          await this.#db
            .select()
            .from(aiResults)
            .where(
              and(eq(aiResults.lessonId, lessonId), eq(aiResults.kind, kind), eq(aiResults.subject, subject)),
            )
        )[0],
    );
  }

  /** Every result of a lesson, oldest first. */
  list(lessonId: string): Promise<AiResultRow[]> {
    if (!isUuid(lessonId)) return Promise.resolve([]);
    return guard(() =>
      this.#db
        .select()
        .from(aiResults)
        .where(eq(aiResults.lessonId, lessonId))
        .orderBy(asc(aiResults.createdAt)),
    );
  }
}
