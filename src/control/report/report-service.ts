/**
 * The teacher's dashboard, read from the database (never from logs; issue 9): a lesson's report
 * (attendance, viewers, stalls, quiz items, engagement, chat, hands, reactions, recordings and a
 * rule-based summary), a class's report across its lessons with the students who are slipping,
 * and the per-student, per-lesson rows of the class CSV. Each report is a fixed handful of
 * grouped queries, whatever the number of students, quizzes or samples.
 *
 * Students have no accounts: a participant row is one join of one lesson (a second tab or a
 * rejoin makes another), so a student is known by name — trimmed, NFC and case-folded
 * ({@link nameKey}) — within a lesson as across lessons.
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { chatMessages, classes, lessons, participants, recordings } from '../store/schema.ts';
import { engagementSamples, interactions, quizAnswers, quizRuns, quizzes } from '../store/schema-quiz.ts';
import { guard, isUuid, type Db } from '../store/sql.ts';
import { lessonSummary } from './summary.ts';
import type { AttendanceRow, ClassReport, LessonReport, QuizItemReport } from './types.ts';

/** Seconds per engagement sample (one per student per 10-s bucket). */
const SAMPLE_SEC = 10;
/** Chat per minute is filled with zero minutes up to a day of lesson, no further. */
const MAX_FILLED_MINUTES = 24 * 60;
/** Slipping: accuracy this many points (of 100) below the student's earlier mean. */
export const SLIP_ACCURACY_POINTS = 25;
/** Slipping: engagement this many points below the student's earlier mean. */
export const SLIP_ENGAGEMENT_POINTS = 20;

/** How a student is recognised across joins and lessons. */
export function nameKey(name: string): string {
  return name.normalize('NFC').trim().toLocaleLowerCase('ko');
}

/** One student in one lesson, for the class CSV (only lessons they came to). */
export interface ClassStudentRow {
  lessonId: string;
  lessonNumber: number;
  name: string;
  minutesWatched: number;
  /** Mean engagement 0–100; null without samples. */
  engagement: number | null;
  quizAnswered: number;
  quizCorrect: number;
  chatMessages: number;
  hands: number;
}

/** A student's lessons as {@link findSlipping} reads them (ended lessons, oldest first). */
export interface StudentHistory {
  name: string;
  /** Per lesson of the list: attended, and their accuracy (0–1) and engagement (0–100), or null. */
  lessons: { attended: boolean; accuracy: number | null; engagement: number | null }[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The slipping students: came to ≥ 2 of the lessons before the last 2 and to neither of the
 * last 2 (`attendance`); or whose mean over their last 2 lessons (with answers, with samples)
 * is ≥ 25 accuracy points or ≥ 20 engagement points below their mean before (`accuracy`,
 * `engagement`). A student may be listed once per reason. Pure.
 */
export function findSlipping(
  lessonNumbers: readonly number[],
  students: readonly StudentHistory[],
): ClassReport['slipping'] {
  const out: ClassReport['slipping'] = [];
  const n = lessonNumbers.length;
  for (const s of students) {
    if (n >= 4) {
      const before = s.lessons.slice(0, n - 2).filter((l) => l.attended).length;
      if (before >= 2 && !s.lessons[n - 2]!.attended && !s.lessons[n - 1]!.attended) {
        out.push({
          name: s.name,
          reason: 'attendance',
          detail:
            `attended ${before} of the first ${n - 2} lessons, ` +
            `missed the last 2 (lessons ${lessonNumbers[n - 2]} and ${lessonNumbers[n - 1]})`,
        });
      }
    }
    const acc = s.lessons.flatMap((l) => (l.accuracy === null ? [] : [l.accuracy * 100]));
    const drop = slip(acc, SLIP_ACCURACY_POINTS);
    if (drop) {
      out.push({
        name: s.name,
        reason: 'accuracy',
        detail: `accuracy ${Math.round(drop.recent)} % in the last 2 lessons, ${Math.round(drop.before)} % before`,
      });
    }
    const eng = s.lessons.flatMap((l) => (l.engagement === null ? [] : [l.engagement]));
    const fall = slip(eng, SLIP_ENGAGEMENT_POINTS);
    if (fall) {
      out.push({
        name: s.name,
        reason: 'engagement',
        detail: `engagement ${Math.round(fall.recent)} in the last 2 lessons, ${Math.round(fall.before)} before`,
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name, 'ko'));
}

/** The last 2 values' mean against the mean of those before, when it fell by ≥ `points`. */
function slip(values: readonly number[], points: number): { recent: number; before: number } | undefined {
  if (values.length < 3) return undefined;
  const recent = mean(values.slice(-2));
  const before = mean(values.slice(0, -2));
  return before - recent >= points - 1e-9 ? { recent, before } : undefined;
}

/** A student's tallies in one lesson (summed over their participant rows). */
interface Tally {
  name: string;
  ids: string[];
  samples: number;
  scoreSum: number;
  watchingSum: number;
  answered: number;
  correct: number;
  chat: number;
  hands: number;
}

const emptyTally = (name: string): Tally => ({
  name,
  ids: [],
  samples: 0,
  scoreSum: 0,
  watchingSum: 0,
  answered: 0,
  correct: 0,
  chat: 0,
  hands: 0,
});

const minutesOf = (t: Tally) => round1((t.watchingSum * SAMPLE_SEC) / 60);
const engagementOf = (t: Tally) => (t.samples > 0 ? Math.round(t.scoreSum / t.samples) : null);

/** What {@link ReportService} reads. */
export interface ReportServiceDeps {
  db: Db;
}

/** The dashboard's reports over the Drizzle database. */
export class ReportService {
  readonly #db: Db;

  constructor(deps: ReportServiceDeps) {
    this.#db = deps.db;
  }

  /** A lesson's report (undefined for an unknown lesson). Nine queries. */
  lessonReport(lessonId: string): Promise<LessonReport | undefined> {
    if (!isUuid(lessonId)) return Promise.resolve(undefined);
    return guard(async () => {
      const db = this.#db;
      const [head] = await db
        .select({ lesson: lessons, classTitle: classes.title })
        .from(lessons)
        .innerJoin(classes, eq(classes.id, lessons.classId))
        .where(eq(lessons.id, lessonId));
      if (!head) return undefined;
      const { lesson } = head;
      const started = lesson.startedAt;
      const es = engagementSamples;
      const [people, perStudent, buckets, runs, answers, chat, acts, recs] = await Promise.all([
        db
          .select()
          .from(participants)
          .where(and(eq(participants.lessonId, lessonId), eq(participants.role, 'student')))
          .orderBy(asc(participants.joinedAt), asc(participants.id)),
        db
          .select({
            participantId: es.participantId,
            n: sql<number>`count(*)::int`,
            score: sql<number>`sum(${es.score})`,
            watching: sql<number>`sum(${es.watching})`,
          })
          .from(es)
          .where(eq(es.lessonId, lessonId))
          .groupBy(es.participantId),
        db
          .select({
            at: es.at,
            viewers: sql<number>`(count(*) filter (where ${es.watching} > 0))::int`,
            score: sql<number>`avg(${es.score})`,
            watching: sql<number>`avg(${es.watching})`,
            stalls: sql<number>`(count(*) filter (where ${es.stalled}))::int`,
          })
          .from(es)
          .where(eq(es.lessonId, lessonId))
          .groupBy(es.at)
          .orderBy(asc(es.at)),
        db
          .select({ run: quizRuns, quiz: quizzes })
          .from(quizRuns)
          .innerJoin(quizzes, eq(quizzes.id, quizRuns.quizId))
          .where(eq(quizRuns.lessonId, lessonId))
          .orderBy(asc(quizRuns.openedAt), asc(quizRuns.id)),
        db
          .select({
            runId: quizAnswers.runId,
            participantId: quizAnswers.participantId,
            name: participants.name,
            choices: quizAnswers.choices,
            correct: quizAnswers.correct,
            ms: quizAnswers.ms,
          })
          .from(quizAnswers)
          .innerJoin(quizRuns, eq(quizRuns.id, quizAnswers.runId))
          .innerJoin(participants, eq(participants.id, quizAnswers.participantId))
          .where(eq(quizRuns.lessonId, lessonId))
          .orderBy(asc(quizAnswers.ms), asc(quizAnswers.id)),
        db
          .select({
            senderId: chatMessages.senderId,
            minute: sql<number>`greatest(0, floor(extract(epoch from (${chatMessages.createdAt} - ${started.toISOString()}::timestamptz)) / 60))::int`,
            n: sql<number>`count(*)::int`,
          })
          .from(chatMessages)
          .where(and(eq(chatMessages.lessonId, lessonId), isNull(chatMessages.deletedAt)))
          .groupBy(sql`1`, sql`2`),
        db
          .select({
            participantId: interactions.participantId,
            kind: interactions.kind,
            n: sql<number>`(count(*) filter (where ${interactions.kind} = 'reaction' or ${interactions.data}->>'action' = 'raise'))::int`,
          })
          .from(interactions)
          .where(and(eq(interactions.lessonId, lessonId), inArray(interactions.kind, ['hand', 'reaction'])))
          .groupBy(interactions.participantId, interactions.kind),
        db
          .select({ id: recordings.id, durationMs: recordings.durationMs, status: recordings.status })
          .from(recordings)
          .where(and(eq(recordings.lessonId, lessonId), isNull(recordings.deletedAt)))
          .orderBy(asc(recordings.startedAt), asc(recordings.id)),
      ]);

      // One line per student (by name) over their joins.
      const groups = new Map<string, Tally & { joinedAt: Date; leftAt: Date | null; removed: boolean }>();
      const keyOf = new Map<string, string>();
      for (const p of people) {
        const key = nameKey(p.name);
        keyOf.set(p.id, key);
        const g = groups.get(key);
        if (!g) {
          groups.set(key, {
            ...emptyTally(p.name.trim()),
            ids: [p.id],
            joinedAt: p.joinedAt,
            leftAt: p.leftAt,
            removed: p.removedAt !== null,
          });
          continue;
        }
        g.ids.push(p.id);
        if (p.joinedAt < g.joinedAt) g.joinedAt = p.joinedAt;
        g.leftAt = g.leftAt === null || p.leftAt === null ? null : p.leftAt > g.leftAt ? p.leftAt : g.leftAt;
        g.removed ||= p.removedAt !== null;
      }
      const tallyOf = (participantId: string) => {
        const key = keyOf.get(participantId);
        return key === undefined ? undefined : groups.get(key);
      };
      for (const s of perStudent) {
        const g = tallyOf(s.participantId);
        if (!g) continue;
        g.samples += Number(s.n);
        g.scoreSum += Number(s.score);
        g.watchingSum += Number(s.watching);
      }
      for (const a of answers) {
        const g = tallyOf(a.participantId);
        if (!g) continue;
        g.answered += 1;
        if (a.correct) g.correct += 1;
      }
      let chatTotal = 0;
      const perMinute = new Map<number, number>();
      for (const c of chat) {
        const n = Number(c.n);
        chatTotal += n;
        perMinute.set(Number(c.minute), (perMinute.get(Number(c.minute)) ?? 0) + n);
        const g = tallyOf(c.senderId);
        if (g) g.chat += n;
      }
      let hands = 0;
      let reactions = 0;
      for (const i of acts) {
        const n = Number(i.n);
        if (i.kind === 'reaction') reactions += n;
        else {
          hands += n;
          const g = tallyOf(i.participantId);
          if (g) g.hands += n;
        }
      }

      const attendance: AttendanceRow[] = [...groups.values()]
        .map((g) => ({
          participantId: g.ids[0]!,
          name: g.name,
          joinedAt: g.joinedAt.toISOString(),
          leftAt: g.leftAt?.toISOString() ?? null,
          minutesWatched: minutesOf(g),
          engagement: engagementOf(g),
          quizAnswered: g.answered,
          quizCorrect: g.correct,
          chatMessages: g.chat,
          hands: g.hands,
          removed: g.removed,
        }))
        .sort((a, b) => a.name.localeCompare(b.name, 'ko') || a.joinedAt.localeCompare(b.joinedAt));

      const byRun = new Map<string, typeof answers>();
      for (const a of answers) {
        const list = byRun.get(a.runId);
        if (list) list.push(a);
        else byRun.set(a.runId, [a]);
      }
      const quizItems: QuizItemReport[] = runs.map(({ run, quiz }) => {
        const list = byRun.get(run.id) ?? [];
        const correct = list.filter((a) => a.correct).length;
        const right = new Set(quiz.kind === 'short' ? [] : (quiz.correct as number[]));
        return {
          runId: run.id,
          quizId: quiz.id,
          question: quiz.question,
          kind: quiz.kind,
          openedAt: run.openedAt.toISOString(),
          answered: list.length,
          correct,
          accuracy: list.length > 0 ? round3(correct / list.length) : null,
          options:
            quiz.kind === 'short'
              ? []
              : quiz.options.map((text, i) => ({
                  text,
                  count: list.filter((a) => a.choices?.includes(i)).length,
                  correct: right.has(i),
                })),
          perStudent: list.map((a) => {
            const g = tallyOf(a.participantId);
            return {
              participantId: g?.ids[0] ?? a.participantId,
              name: g?.name ?? a.name,
              correct: a.correct,
              ms: a.ms,
            };
          }),
        };
      });

      const durationSec = Math.max(
        0,
        Math.round(((lesson.endedAt ?? new Date()).getTime() - started.getTime()) / 1000),
      );
      const viewers = buckets.map((b) => Number(b.viewers));
      // Every minute of the lesson (up to a day), and any minute with messages.
      const filled = Math.min(Math.ceil(durationSec / 60), MAX_FILLED_MINUTES);
      const minutes = [...new Set([...Array.from({ length: filled }, (_, m) => m), ...perMinute.keys()])];
      minutes.sort((a, b) => a - b);
      const report: Omit<LessonReport, 'summary'> = {
        lesson: {
          id: lesson.id,
          number: lesson.number,
          classId: lesson.classId,
          classTitle: head.classTitle,
          startedAt: started.toISOString(),
          endedAt: lesson.endedAt?.toISOString() ?? null,
          durationSec,
        },
        attendance,
        viewers: {
          peak: viewers.length > 0 ? Math.max(...viewers) : 0,
          average: viewers.length > 0 ? round1(mean(viewers)) : 0,
          timeline: buckets.map((b) => ({ at: b.at.toISOString(), viewers: Number(b.viewers) })),
        },
        stalls: buckets.reduce((n, b) => n + Number(b.stalls), 0),
        quizzes: quizItems,
        engagement: buckets.map((b) => ({
          at: b.at.toISOString(),
          score: Math.round(Number(b.score)),
          watching: round3(Number(b.watching)),
        })),
        chat: {
          messages: chatTotal,
          perMinute: minutes.map((m) => ({
            at: new Date(started.getTime() + m * 60_000).toISOString(),
            count: perMinute.get(m) ?? 0,
          })),
        },
        hands,
        reactions,
        recordings: recs.map((r) => ({
          id: r.id,
          durationSec: Math.round(Number(r.durationMs) / 1000),
          status: r.status,
        })),
      };
      return { ...report, summary: lessonSummary(report) };
    });
  }

  /** A class across its lessons, oldest first, with the slipping students (undefined: unknown class). */
  classReport(classId: string): Promise<ClassReport | undefined> {
    return guard(async () => {
      const data = await this.#classData(classId);
      if (!data) return undefined;
      const { cls, lessonList, tallies, classEngagement } = data;
      const ended = lessonList.filter((l) => l.endedAt !== null);
      const students = new Map<string, StudentHistory>();
      ended.forEach((l, i) => {
        for (const [key, t] of tallies.get(l.id) ?? []) {
          let s = students.get(key);
          if (!s) {
            s = {
              name: t.name,
              lessons: ended.map(() => ({ attended: false, accuracy: null, engagement: null })),
            };
            students.set(key, s);
          }
          s.name = t.name; // the latest spelling
          s.lessons[i] = {
            attended: true,
            accuracy: t.answered > 0 ? t.correct / t.answered : null,
            engagement: t.samples > 0 ? t.scoreSum / t.samples : null,
          };
        }
      });
      return {
        class: { id: cls.id, title: cls.title },
        lessons: lessonList.map((l) => {
          const ts = [...(tallies.get(l.id)?.values() ?? [])];
          const answered = ts.reduce((n, t) => n + t.answered, 0);
          const correct = ts.reduce((n, t) => n + t.correct, 0);
          const e = classEngagement.get(l.id);
          return {
            id: l.id,
            number: l.number,
            startedAt: l.startedAt.toISOString(),
            endedAt: l.endedAt?.toISOString() ?? null,
            attendance: ts.length,
            accuracy: answered > 0 ? round3(correct / answered) : null,
            engagement: e === undefined ? null : Math.round(e),
          };
        }),
        slipping: findSlipping(
          ended.map((l) => l.number),
          [...students.values()],
        ),
      };
    });
  }

  /** Every student of every lesson they came to (the class CSV), by lesson then name. */
  classStudentRows(classId: string): Promise<ClassStudentRow[]> {
    return guard(async () => {
      const data = await this.#classData(classId);
      if (!data) return [];
      return data.lessonList.flatMap((l) =>
        [...(data.tallies.get(l.id)?.values() ?? [])]
          .sort((a, b) => a.name.localeCompare(b.name, 'ko'))
          .map((t) => ({
            lessonId: l.id,
            lessonNumber: l.number,
            name: t.name,
            minutesWatched: minutesOf(t),
            engagement: engagementOf(t),
            quizAnswered: t.answered,
            quizCorrect: t.correct,
            chatMessages: t.chat,
            hands: t.hands,
          })),
      );
    });
  }

  /**
   * A class's lessons and, per lesson, each student's tallies (lesson id → name key → tally),
   * plus each lesson's class engagement (the mean of its per-bucket class means). Eight queries.
   */
  async #classData(classId: string) {
    if (!isUuid(classId)) return undefined;
    const db = this.#db;
    const [cls] = await db
      .select({ id: classes.id, title: classes.title })
      .from(classes)
      .where(eq(classes.id, classId));
    if (!cls) return undefined;
    const es = engagementSamples;
    const ofClass = eq(lessons.classId, classId);
    const perBucket = db
      .select({ lessonId: es.lessonId, mean: sql<number>`avg(${es.score})`.as('mean') })
      .from(es)
      .innerJoin(lessons, eq(lessons.id, es.lessonId))
      .where(ofClass)
      .groupBy(es.lessonId, es.at)
      .as('per_bucket');
    const [lessonList, people, answers, samples, lessonMeans, chat, hands] = await Promise.all([
      db.select().from(lessons).where(ofClass).orderBy(asc(lessons.number)),
      db
        .select({ id: participants.id, lessonId: participants.lessonId, name: participants.name })
        .from(participants)
        .where(and(eq(participants.classId, classId), eq(participants.role, 'student')))
        .orderBy(asc(participants.joinedAt), asc(participants.id)),
      db
        .select({
          lessonId: quizRuns.lessonId,
          participantId: quizAnswers.participantId,
          n: sql<number>`count(*)::int`,
          correct: sql<number>`(count(*) filter (where ${quizAnswers.correct}))::int`,
        })
        .from(quizAnswers)
        .innerJoin(quizRuns, eq(quizRuns.id, quizAnswers.runId))
        .innerJoin(lessons, eq(lessons.id, quizRuns.lessonId))
        .where(ofClass)
        .groupBy(quizRuns.lessonId, quizAnswers.participantId),
      db
        .select({
          lessonId: es.lessonId,
          participantId: es.participantId,
          n: sql<number>`count(*)::int`,
          score: sql<number>`sum(${es.score})`,
          watching: sql<number>`sum(${es.watching})`,
        })
        .from(es)
        .innerJoin(lessons, eq(lessons.id, es.lessonId))
        .where(ofClass)
        .groupBy(es.lessonId, es.participantId),
      db
        .select({ lessonId: perBucket.lessonId, mean: sql<number>`avg(${perBucket.mean})` })
        .from(perBucket)
        .groupBy(perBucket.lessonId),
      db
        .select({
          lessonId: chatMessages.lessonId,
          senderId: chatMessages.senderId,
          n: sql<number>`count(*)::int`,
        })
        .from(chatMessages)
        .where(
          and(
            eq(chatMessages.classId, classId),
            isNotNull(chatMessages.lessonId),
            isNull(chatMessages.deletedAt),
          ),
        )
        .groupBy(chatMessages.lessonId, chatMessages.senderId),
      db
        .select({
          lessonId: interactions.lessonId,
          participantId: interactions.participantId,
          n: sql<number>`count(*)::int`,
        })
        .from(interactions)
        .where(
          and(
            eq(interactions.classId, classId),
            eq(interactions.kind, 'hand'),
            sql`${interactions.data}->>'action' = 'raise'`,
          ),
        )
        .groupBy(interactions.lessonId, interactions.participantId),
    ]);

    const names = new Map(people.map((p) => [p.id, p.name.trim()]));
    const tallies = new Map<string, Map<string, Tally>>();
    /** The tally of a participant in a lesson (their row's lesson, or where they acted). */
    const tally = (lessonId: string | null, participantId: string): Tally | undefined => {
      const name = names.get(participantId);
      if (lessonId === null || name === undefined) return undefined;
      let byName = tallies.get(lessonId);
      if (!byName) tallies.set(lessonId, (byName = new Map()));
      const key = nameKey(name);
      let t = byName.get(key);
      if (!t) byName.set(key, (t = emptyTally(name)));
      if (!t.ids.includes(participantId)) t.ids.push(participantId);
      return t;
    };
    for (const p of people) tally(p.lessonId, p.id);
    for (const a of answers) {
      const t = tally(a.lessonId, a.participantId);
      if (!t) continue;
      t.answered += Number(a.n);
      t.correct += Number(a.correct);
    }
    for (const s of samples) {
      const t = tally(s.lessonId, s.participantId);
      if (!t) continue;
      t.samples += Number(s.n);
      t.scoreSum += Number(s.score);
      t.watchingSum += Number(s.watching);
    }
    for (const c of chat) {
      // Only students' messages: a teacher's sender id is not a student participant.
      const t = tally(c.lessonId, c.senderId);
      if (t) t.chat += Number(c.n);
    }
    for (const h of hands) {
      const t = tally(h.lessonId, h.participantId);
      if (t) t.hands += Number(h.n);
    }
    const classEngagement = new Map(lessonMeans.map((m) => [m.lessonId, Number(m.mean)]));
    return { cls, lessonList, tallies, classEngagement };
  }
}
