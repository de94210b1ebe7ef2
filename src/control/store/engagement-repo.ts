/**
 * Interactions and engagement samples on Drizzle. Interactions record what a student did
 * (reactions, hands, quiz answers) for "my data" and for the hand queue after a restart.
 * Samples are written per 10-s bucket, once (replicas sampling the same lesson at the same
 * moment write one row per student); only their `stalled` flag may be raised afterwards.
 */
import { and, asc, avg, desc, eq, inArray, sql } from 'drizzle-orm';
import { chatMessages, participants } from './schema.ts';
import { engagementSamples, interactions, type InteractionKind } from './schema-quiz.ts';
import { guard, isUuid, type Db } from './sql.ts';

/** One stored interaction. */
export type Interaction = typeof interactions.$inferSelect;
/** One stored sample. */
export type EngagementSample = typeof engagementSamples.$inferSelect;

/** A new interaction. */
export interface NewInteraction {
  lessonId: string | null;
  classId: string;
  participantId: string;
  kind: InteractionKind;
  data?: Record<string, unknown>;
}

/** A raised hand, as the queue holds it. */
export interface RaisedHand {
  id: string;
  name: string;
  at: string;
}

/** Interactions and engagement samples over a Drizzle database. */
export class DrizzleEngagementRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Records an interaction. */
  add(i: NewInteraction): Promise<void> {
    return guard(async () => {
      await this.#db.insert(interactions).values({ ...i, data: i.data ?? {} });
    });
  }

  /** A student's interactions (optionally of one kind), oldest first. */
  of(participantId: string, kind?: InteractionKind): Promise<Interaction[]> {
    if (!isUuid(participantId)) return Promise.resolve([]);
    return guard(() =>
      this.#db
        .select()
        .from(interactions)
        .where(
          and(eq(interactions.participantId, participantId), kind ? eq(interactions.kind, kind) : undefined),
        )
        .orderBy(asc(interactions.at), asc(interactions.id)),
    );
  }

  /**
   * The raised hands of a class since `since` (a lesson's start), oldest first: each student's
   * last hand interaction is a raise (data `{ action: 'raise', name }`).
   */
  raisedHands(classId: string, since: Date): Promise<RaisedHand[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .selectDistinctOn([interactions.participantId])
        .from(interactions)
        .where(
          and(
            eq(interactions.classId, classId),
            eq(interactions.kind, 'hand'),
            sql`${interactions.at} >= ${since.toISOString()}::timestamptz`,
          ),
        )
        .orderBy(interactions.participantId, desc(interactions.at), desc(interactions.id));
      return rows
        .filter((r) => r.data.action === 'raise')
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .map((r) => ({ id: r.participantId, name: String(r.data.name ?? ''), at: r.at.toISOString() }));
    });
  }

  /**
   * Writes samples taken at `at` (rounded down to its 10-s bucket). A bucket's score and
   * watching are written once (another replica's duplicates are ignored); `stalled` is or-ed in,
   * so a stall reported later in the bucket still marks its sample.
   */
  addSamples(
    lessonId: string,
    at: Date,
    samples: { participantId: string; score: number; watching: number; stalled?: boolean }[],
  ): Promise<void> {
    if (samples.length === 0) return Promise.resolve();
    const bucket = new Date(Math.floor(at.getTime() / 10_000) * 10_000);
    // One row per student (an upsert may not touch a row twice in one statement).
    const rows = new Map<string, typeof engagementSamples.$inferInsert>();
    for (const s of samples) {
      const stalled = (s.stalled ?? false) || (rows.get(s.participantId)?.stalled ?? false);
      rows.set(s.participantId, { lessonId, at: bucket, ...s, stalled });
    }
    return guard(async () => {
      await this.#db
        .insert(engagementSamples)
        .values([...rows.values()])
        .onConflictDoUpdate({
          target: [engagementSamples.lessonId, engagementSamples.participantId, engagementSamples.at],
          set: { stalled: true },
          setWhere: sql`excluded.stalled AND NOT ${engagementSamples.stalled}`,
        });
    });
  }

  /** The class mean per sample time of a lesson, oldest first. */
  series(lessonId: string): Promise<{ at: Date; class: number }[]> {
    if (!isUuid(lessonId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select({ at: engagementSamples.at, mean: avg(engagementSamples.score) })
        .from(engagementSamples)
        .where(eq(engagementSamples.lessonId, lessonId))
        .groupBy(engagementSamples.at)
        .orderBy(asc(engagementSamples.at));
      return rows.map((r) => ({ at: r.at, class: Math.round(Number(r.mean ?? 0)) }));
    });
  }

  /** The last sample of each student of a lesson, with their name. */
  latest(lessonId: string): Promise<(EngagementSample & { name: string })[]> {
    if (!isUuid(lessonId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .selectDistinctOn([engagementSamples.participantId], {
          s: engagementSamples,
          name: participants.name,
        })
        .from(engagementSamples)
        .innerJoin(participants, eq(participants.id, engagementSamples.participantId))
        .where(eq(engagementSamples.lessonId, lessonId))
        .orderBy(engagementSamples.participantId, desc(engagementSamples.at));
      return rows.map((r) => ({ ...r.s, name: r.name }));
    });
  }

  /** A student's chat messages in a class (their attendance id is their sender id), oldest first. */
  chatOf(classId: string, senderId: string): Promise<{ text: string; at: Date; deleted: boolean }[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select({ text: chatMessages.text, at: chatMessages.createdAt, deletedAt: chatMessages.deletedAt })
        .from(chatMessages)
        .where(and(eq(chatMessages.classId, classId), eq(chatMessages.senderId, senderId)))
        .orderBy(asc(chatMessages.seq));
      return rows.map((r) => ({ text: r.text, at: r.at, deleted: r.deletedAt !== null }));
    });
  }

  /** The samples of some students (one student: "my data"), oldest first. */
  samplesOf(participantIds: string[]): Promise<EngagementSample[]> {
    const ids = participantIds.filter(isUuid);
    if (ids.length === 0) return Promise.resolve([]);
    return guard(() =>
      this.#db
        .select()
        .from(engagementSamples)
        .where(inArray(engagementSamples.participantId, ids))
        .orderBy(asc(engagementSamples.at)),
    );
  }
}
