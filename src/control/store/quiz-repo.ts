/**
 * Quizzes on Drizzle: the bank of a class, runs (one push each; at most one open run per
 * lesson, enforced by a partial unique index so two replicas cannot both open one), answers
 * (one per student per run; the insert only succeeds while the run is open, in one statement,
 * so an answer racing the close is either stored or refused, never lost after a 201).
 */
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { quizAnswers, quizRuns, quizzes, type QuizKind } from './schema-quiz.ts';
import { participants } from './schema.ts';
import { guard, isUniqueViolation, isUuid, type Db } from './sql.ts';

/** A quiz of a class's bank. */
export type QuizRecord = typeof quizzes.$inferSelect;
/** One push of a quiz. */
export type QuizRun = typeof quizRuns.$inferSelect;
/** One student's answer to a run. */
export type QuizAnswer = typeof quizAnswers.$inferSelect;

/** A new quiz (already validated). */
export interface NewQuiz {
  classId: string;
  kind: QuizKind;
  question: string;
  options: string[];
  correct: number[] | string[];
  timeLimitSec: number;
  anonymous: boolean;
}

/** A new answer (already graded); `ms` is computed by the database from the run's opening. */
export interface NewAnswer {
  runId: string;
  participantId: string;
  answerId: string;
  choices: number[] | null;
  text: string | null;
  correct: boolean;
}

/** What `addAnswer` did. */
export type AddAnswerResult =
  | { status: 'created'; answer: QuizAnswer }
  | { status: 'exists'; answer: QuizAnswer }
  | { status: 'closed' }
  /** Not a student of the run's class and lesson. */
  | { status: 'forbidden' };

/** One answer with its quiz, for "my data". */
export interface AnswerWithQuiz extends QuizAnswer {
  question: string;
  kind: QuizKind;
  options: string[];
}

interface RawAnswer {
  id: string;
  run_id: string;
  participant_id: string;
  answer_id: string;
  choices: number[] | null;
  text: string | null;
  correct: boolean;
  ms: number;
  created_at: Date | string;
}

function fromRaw(r: RawAnswer): QuizAnswer {
  return {
    id: r.id,
    runId: r.run_id,
    participantId: r.participant_id,
    answerId: r.answer_id,
    choices: r.choices,
    text: r.text,
    correct: r.correct,
    ms: Number(r.ms),
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
  };
}

/** Quiz bank, runs and answers over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleQuizRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  create(q: NewQuiz): Promise<QuizRecord> {
    return guard(async () => (await this.#db.insert(quizzes).values(q).returning())[0]!);
  }

  /** A quiz by id (deleted ones too: their runs still have results). */
  byId(id: string): Promise<QuizRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => (await this.#db.select().from(quizzes).where(eq(quizzes.id, id)))[0]);
  }

  /** The bank of a class (not deleted), oldest first. */
  listByClass(classId: string): Promise<QuizRecord[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(() =>
      this.#db
        .select()
        .from(quizzes)
        .where(and(eq(quizzes.classId, classId), isNull(quizzes.deletedAt)))
        .orderBy(asc(quizzes.createdAt), asc(quizzes.id)),
    );
  }

  /** Marks a quiz deleted; false when it was not there (or already deleted). */
  remove(id: string): Promise<boolean> {
    if (!isUuid(id)) return Promise.resolve(false);
    return guard(async () => {
      const rows = await this.#db
        .update(quizzes)
        .set({ deletedAt: sql`now()` })
        .where(and(eq(quizzes.id, id), isNull(quizzes.deletedAt)))
        .returning({ id: quizzes.id });
      return rows.length > 0;
    });
  }

  /** Opens a run closing `limitSec` from now (database time); QUIZ_OPEN if the lesson has one open. */
  openRun(quizId: string, lessonId: string, limitSec: number): Promise<QuizRun> {
    return guard(async () => {
      try {
        const rows = await this.#db
          .insert(quizRuns)
          .values({ quizId, lessonId, closesAt: sql`now() + make_interval(secs => ${limitSec})` })
          .returning();
        return rows[0]!;
      } catch (e) {
        if (isUniqueViolation(e, 'quiz_runs_lesson_open_key')) throw new AirError('QUIZ_OPEN');
        throw e;
      }
    });
  }

  /** Closes a run if it is open; the run as closed, or undefined when it was closed already. */
  closeRun(runId: string): Promise<QuizRun | undefined> {
    if (!isUuid(runId)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(quizRuns)
        .set({ closedAt: sql`least(now(), ${quizRuns.closesAt})` })
        .where(and(eq(quizRuns.id, runId), isNull(quizRuns.closedAt)))
        .returning();
      return rows[0];
    });
  }

  /** Marks a run revealed (the first time is kept). */
  revealRun(runId: string): Promise<QuizRun | undefined> {
    return guard(async () => {
      const rows = await this.#db
        .update(quizRuns)
        .set({ revealedAt: sql`coalesce(${quizRuns.revealedAt}, now())` })
        .where(eq(quizRuns.id, runId))
        .returning();
      return rows[0];
    });
  }

  /** The latest run of each quiz given (by quiz id). */
  async lastRuns(quizIds: string[]): Promise<Map<string, QuizRun>> {
    const ids = quizIds.filter(isUuid);
    if (ids.length === 0) return new Map();
    const rows = await guard(() =>
      this.#db
        .selectDistinctOn([quizRuns.quizId])
        .from(quizRuns)
        .where(inArray(quizRuns.quizId, ids))
        .orderBy(quizRuns.quizId, desc(quizRuns.openedAt), desc(quizRuns.id)),
    );
    return new Map(rows.map((r) => [r.quizId, r]));
  }

  /** The open run of a lesson, if any. */
  openRunOfLesson(lessonId: string): Promise<QuizRun | undefined> {
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(quizRuns)
        .where(and(eq(quizRuns.lessonId, lessonId), isNull(quizRuns.closedAt)));
      return rows[0];
    });
  }

  /** Every open run (for the close timers on start), with its class. */
  openRuns(): Promise<(QuizRun & { classId: string })[]> {
    return guard(() =>
      this.#db
        .select({
          id: quizRuns.id,
          quizId: quizRuns.quizId,
          lessonId: quizRuns.lessonId,
          openedAt: quizRuns.openedAt,
          closesAt: quizRuns.closesAt,
          closedAt: quizRuns.closedAt,
          revealedAt: quizRuns.revealedAt,
          classId: quizzes.classId,
        })
        .from(quizRuns)
        .innerJoin(quizzes, eq(quizzes.id, quizRuns.quizId))
        .where(isNull(quizRuns.closedAt)),
    );
  }

  /**
   * Stores an answer if the run is open (not closed, before `closes_at`) and the student has
   * none; else returns the student's stored answer, or `closed`.
   */
  addAnswer(a: NewAnswer): Promise<AddAnswerResult> {
    if (!isUuid(a.participantId) || !isUuid(a.runId)) return Promise.resolve({ status: 'forbidden' });
    return guard(async () => {
      // One statement on the happy path: the run is open and the student is of its class and
      // lesson (a student who joined between lessons has no lesson yet, and may answer).
      const res = (await this.#db.execute(sql`
        INSERT INTO quiz_answers (run_id, participant_id, answer_id, choices, text, correct, ms)
        SELECT r.id, p.id, ${a.answerId}, ${a.choices === null ? null : JSON.stringify(a.choices)}::jsonb,
               ${a.text}, ${a.correct},
               greatest(0, round(extract(epoch from (now() - r.opened_at)) * 1000))::int
          FROM quiz_runs r
          JOIN quizzes q ON q.id = r.quiz_id
          JOIN participants p ON p.id = ${a.participantId}::uuid AND p.class_id = q.class_id
                             AND p.role = 'student' AND (p.lesson_id IS NULL OR p.lesson_id = r.lesson_id)
         WHERE r.id = ${a.runId}::uuid AND r.closed_at IS NULL AND r.closes_at > now()
        ON CONFLICT (run_id, participant_id) DO NOTHING
        RETURNING *`)) as unknown as { rows: RawAnswer[] };
      if (res.rows[0]) return { status: 'created', answer: fromRaw(res.rows[0]) };
      const existing = await this.#db
        .select()
        .from(quizAnswers)
        .where(and(eq(quizAnswers.runId, a.runId), eq(quizAnswers.participantId, a.participantId)));
      if (existing[0]) return { status: 'exists', answer: existing[0] };
      const why = (await this.#db.execute(sql`
        SELECT EXISTS (SELECT 1 FROM quiz_runs r JOIN quizzes q ON q.id = r.quiz_id
                         JOIN participants p ON p.id = ${a.participantId}::uuid AND p.class_id = q.class_id
                          AND p.role = 'student' AND (p.lesson_id IS NULL OR p.lesson_id = r.lesson_id)
                        WHERE r.id = ${a.runId}::uuid) AS allowed`)) as unknown as {
        rows: { allowed: boolean }[];
      };
      return why.rows[0]?.allowed ? { status: 'closed' } : { status: 'forbidden' };
    });
  }

  /** What the counts of a run need (no names, no order): cheap enough to read every 100 ms. */
  tally(runId: string): Promise<{ choices: number[] | null; correct: boolean }[]> {
    return guard(async () =>
      this.#db
        .select({ choices: quizAnswers.choices, correct: quizAnswers.correct })
        .from(quizAnswers)
        .where(eq(quizAnswers.runId, runId)),
    );
  }

  /** The answers of a run with the students' names, first answered first. */
  answers(runId: string): Promise<(QuizAnswer & { name: string })[]> {
    return guard(async () => {
      const rows = await this.#db
        .select({ a: quizAnswers, name: participants.name })
        .from(quizAnswers)
        .innerJoin(participants, eq(participants.id, quizAnswers.participantId))
        .where(eq(quizAnswers.runId, runId))
        .orderBy(asc(quizAnswers.createdAt), asc(quizAnswers.id));
      return rows.map((r) => ({ ...r.a, name: r.name }));
    });
  }

  /** A run by id. */
  runById(runId: string): Promise<QuizRun | undefined> {
    if (!isUuid(runId)) return Promise.resolve(undefined);
    return guard(async () => (await this.#db.select().from(quizRuns).where(eq(quizRuns.id, runId)))[0]);
  }

  /** A student's answers with their quizzes (for "my data"), oldest first. */
  answersOf(participantId: string): Promise<AnswerWithQuiz[]> {
    if (!isUuid(participantId)) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .select({ a: quizAnswers, question: quizzes.question, kind: quizzes.kind, options: quizzes.options })
        .from(quizAnswers)
        .innerJoin(quizRuns, eq(quizRuns.id, quizAnswers.runId))
        .innerJoin(quizzes, eq(quizzes.id, quizRuns.quizId))
        .where(eq(quizAnswers.participantId, participantId))
        .orderBy(asc(quizAnswers.createdAt));
      return rows.map((r) => ({ ...r.a, question: r.question, kind: r.kind, options: r.options }));
    });
  }

  /** The runs of a lesson (with their limits) and every answer's student and time, for engagement. */
  lessonStats(lessonId: string): Promise<{
    runs: { id: string; openedAt: Date; limitMs: number; closed: boolean }[];
    answers: { runId: string; participantId: string; ms: number }[];
  }> {
    return guard(async () => {
      const runs = await this.#db
        .select({
          id: quizRuns.id,
          openedAt: quizRuns.openedAt,
          closedAt: quizRuns.closedAt,
          limitSec: quizzes.timeLimitSec,
        })
        .from(quizRuns)
        .innerJoin(quizzes, eq(quizzes.id, quizRuns.quizId))
        .where(eq(quizRuns.lessonId, lessonId))
        .orderBy(asc(quizRuns.openedAt));
      if (runs.length === 0) return { runs: [], answers: [] };
      const answers = await this.#db
        .select({ runId: quizAnswers.runId, participantId: quizAnswers.participantId, ms: quizAnswers.ms })
        .from(quizAnswers)
        .where(
          inArray(
            quizAnswers.runId,
            runs.map((r) => r.id),
          ),
        );
      const list = runs.map((r) => ({
        id: r.id,
        openedAt: r.openedAt,
        limitMs: r.limitSec * 1000,
        closed: r.closedAt !== null,
      }));
      return { runs: list, answers };
    });
  }
}
