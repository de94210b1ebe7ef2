/**
 * Quizzes of a class (docs/classroom.md): the bank (create, list, delete), runs (open during a
 * live lesson, closed by the teacher or at the time limit, revealed) and answers (students of
 * the class and of the lesson; one per run; the same `answerId` again is harmless). Events go
 * to the class through the hub: `quiz.opened` / `quiz.closed` / `quiz.revealed` to everyone
 * (never the correct answer before reveal), `quiz.results` to staff, at most every 100 ms.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { canManageClass, canMonitorClass, check, type Principal } from '../auth/policy.ts';
import type { AddAnswerResult, DrizzleQuizRepo, QuizRecord, QuizRun } from '../store/quiz-repo.ts';
import type { ClassRecord, ClassRepo, ParticipantRepo } from '../store/types.ts';
import type { UnsequencedEvent } from '../ws/hub.ts';
import { checkQuiz, countAnswers, gradeAnswer, type AnswerInput, type QuizInput } from './definition.ts';
import { buildResults, type QuizResults } from './results.ts';
import { RunTimers, Throttle } from './timers.ts';
import { answerView, pushedQuiz, view, type AnswerView, type QuizView } from './views.ts';

/** The running lesson of a class (LessonRepo fits). */
export interface LiveLesson {
  current(classId: string): Promise<{ id: string; number: number; startedAt: Date } | undefined>;
}

/** What {@link QuizService} needs. */
export interface QuizServiceDeps {
  quizzes: DrizzleQuizRepo;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: LiveLesson;
  participants: Pick<ParticipantRepo, 'byId'>;
  hub: { publish(classId: string, event: UnsequencedEvent): Promise<unknown> };
  logger: Logger;
  /** Least time between two `quiz.results` of a run (ms, default 100). */
  resultsEveryMs?: number;
}

/** The quiz bank, runs, answers and their events. */
export class QuizService {
  private readonly deps: QuizServiceDeps;
  private readonly log: Logger;
  private readonly timers: RunTimers;
  private readonly results: Throttle;
  /** Run id → where its results go. */
  private readonly runs = new Map<string, { classId: string; quiz: QuizRecord }>();
  /**
   * Quiz id → its open run, so an answer costs one insert (the insert itself checks the run is
   * still open: a run closed elsewhere is looked up again).
   */
  private readonly answering = new Map<string, { quiz: QuizRecord; run: QuizRun }>();

  constructor(deps: QuizServiceDeps) {
    this.deps = deps;
    this.log = deps.logger;
    this.timers = new RunTimers(
      (runId) => this.closeRun(runId).then(() => undefined),
      (e, runId) => this.log.warn({ err: e, runId }, 'closing a quiz at its time failed'),
    );
    this.results = new Throttle(
      deps.resultsEveryMs ?? 100,
      (runId) => this.pushResults(runId),
      (e) => this.log.warn({ err: e }, 'quiz results not pushed'),
    );
  }

  /** Schedules the close of every open run (overdue ones close at once); call on start. */
  async start(): Promise<number> {
    const open = await this.deps.quizzes.openRuns();
    for (const r of open) this.timers.schedule(r.id, r.closesAt);
    return open.length;
  }

  /** Stops the timers (runs stay open in the database for the next start). Idempotent. */
  stop(): void {
    this.timers.close();
    this.results.close();
  }

  private async classOf(classId: string): Promise<ClassRecord> {
    const c = await this.deps.classes.byId(classId);
    if (!c) throw new AirError('CLASS_NOT_FOUND');
    return c;
  }

  /** The quiz (not deleted) and its class; QUIZ_NOT_FOUND. */
  private async load(quizId: string): Promise<{ quiz: QuizRecord; cls: ClassRecord }> {
    const quiz = await this.deps.quizzes.byId(quizId);
    if (!quiz || quiz.deletedAt) throw new AirError('QUIZ_NOT_FOUND');
    return { quiz, cls: await this.classOf(quiz.classId) };
  }

  /** Adds a quiz to the class's bank (its teacher, admin). */
  async create(p: Principal, classId: string, input: QuizInput): Promise<QuizView> {
    check(canManageClass(p, await this.classOf(classId)));
    const def = checkQuiz(input);
    return view(await this.deps.quizzes.create({ classId, ...def }), undefined);
  }

  /** The bank with each quiz's last run (teacher, admin, monitor). */
  async list(p: Principal, classId: string): Promise<QuizView[]> {
    check(canMonitorClass(p, await this.classOf(classId)));
    const list = await this.deps.quizzes.listByClass(classId);
    const last = await this.deps.quizzes.lastRuns(list.map((q) => q.id));
    return list.map((q) => view(q, last.get(q.id)));
  }

  /** Removes a quiz from the bank (an open run is closed first). */
  async remove(p: Principal, quizId: string): Promise<void> {
    const { quiz, cls } = await this.load(quizId);
    check(canManageClass(p, cls));
    const run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    if (run && !run.closedAt) await this.closeRun(run.id);
    this.answering.delete(quiz.id);
    await this.deps.quizzes.remove(quiz.id);
  }

  /** Pushes the quiz: a new run in the live lesson; LESSON_NOT_LIVE, QUIZ_OPEN. */
  async open(p: Principal, quizId: string): Promise<QuizView> {
    const { quiz, cls } = await this.load(quizId);
    check(canManageClass(p, cls));
    const lesson = await this.deps.lessons.current(cls.id);
    if (!lesson) throw new AirError('LESSON_NOT_LIVE');
    // An open run past its time (its timer is late or on a replica that died) is closed first.
    const current = await this.deps.quizzes.openRunOfLesson(lesson.id);
    if (current && current.closesAt.getTime() <= Date.now()) await this.closeRun(current.id);
    const run = await this.deps.quizzes.openRun(quiz.id, lesson.id, quiz.timeLimitSec);
    this.runs.set(run.id, { classId: cls.id, quiz });
    this.answering.set(quiz.id, { quiz, run });
    this.timers.schedule(run.id, run.closesAt);
    await this.deps.hub.publish(cls.id, { type: 'quiz.opened', quiz: pushedQuiz(quiz, run) });
    return view(quiz, run);
  }

  /** Closes the quiz's open run (idempotent: an already closed run stays as it is). */
  async close(p: Principal, quizId: string): Promise<QuizView> {
    const { quiz, cls } = await this.load(quizId);
    check(canManageClass(p, cls));
    const run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    if (!run) throw new AirError('CONFLICT', 'The quiz has not been pushed yet.');
    const closed = run.closedAt ? run : ((await this.closeRun(run.id)) ?? run);
    return view(quiz, closed);
  }

  /**
   * Closes a run if it is still open and tells the class; undefined when another call (or
   * replica) closed it first.
   */
  async closeRun(runId: string): Promise<QuizRun | undefined> {
    this.timers.cancel(runId);
    for (const [quizId, a] of this.answering) if (a.run.id === runId) this.answering.delete(quizId);
    const run = await this.deps.quizzes.closeRun(runId);
    if (!run) {
      this.runs.delete(runId);
      return undefined;
    }
    const quiz = (await this.deps.quizzes.byId(run.quizId))!;
    this.runs.set(run.id, { classId: quiz.classId, quiz });
    await this.deps.hub.publish(quiz.classId, { type: 'quiz.closed', quizId: quiz.id, runId: run.id });
    await this.results.flush(run.id);
    this.runs.delete(run.id);
    return run;
  }

  /** Closes the open runs of a class (its lesson ended): idempotent, never rejects. */
  async closeOpen(classId: string): Promise<void> {
    try {
      const open = await this.deps.quizzes.openRuns();
      for (const r of open) if (r.classId === classId) await this.closeRun(r.id);
    } catch (e) {
      this.log.warn({ err: e, classId }, 'closing the open quiz of an ended lesson failed');
    }
  }

  /** Shows the correct answer and the aggregates to the class (closes an open run first). */
  async reveal(p: Principal, quizId: string): Promise<QuizView> {
    const { quiz, cls } = await this.load(quizId);
    check(canManageClass(p, cls));
    const last = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    if (!last) throw new AirError('CONFLICT', 'The quiz has not been pushed yet.');
    if (!last.closedAt) await this.closeRun(last.id);
    const run = (await this.deps.quizzes.revealRun(last.id)) ?? last;
    const answers = await this.deps.quizzes.answers(run.id);
    await this.deps.hub.publish(cls.id, {
      type: 'quiz.revealed',
      quizId: quiz.id,
      runId: run.id,
      correct: quiz.correct,
      counts: countAnswers(quiz, answers),
      answered: answers.length,
    });
    return view(quiz, run);
  }

  /**
   * A student's answer to the quiz's open run: `created` (201) or the stored one again
   * (`exists`, 200, same answerId); QUIZ_ALREADY_ANSWERED, QUIZ_CLOSED, FORBIDDEN.
   */
  async answer(
    p: Principal,
    quizId: string,
    input: AnswerInput & { answerId: string },
  ): Promise<{ created: boolean; answer: AnswerView }> {
    if (p.role !== 'student') throw new AirError('FORBIDDEN', 'Only students answer quizzes.');
    let r = await this.tryAnswer(p, quizId, input, this.answering.get(quizId));
    // The cached run was closed (here or by another replica): look the quiz up again, once.
    if (r.result.status === 'closed' && r.cached) r = await this.tryAnswer(p, quizId, input, undefined);
    const { quiz, run, result } = r;
    if (result.status === 'closed') throw new AirError('QUIZ_CLOSED');
    if (result.status === 'forbidden') {
      throw new AirError('FORBIDDEN', 'Only students of this lesson answer its quiz.');
    }
    if (result.status === 'exists') {
      if (result.answer.answerId !== input.answerId) throw new AirError('QUIZ_ALREADY_ANSWERED');
      return { created: false, answer: answerView(result.answer, quiz.id) };
    }
    this.runs.set(run.id, { classId: quiz.classId, quiz });
    this.results.poke(run.id);
    return { created: true, answer: answerView(result.answer, quiz.id) };
  }

  /** One attempt at storing an answer, with the quiz's open run from the cache or the database. */
  private async tryAnswer(
    p: Principal,
    quizId: string,
    input: AnswerInput & { answerId: string },
    cached: { quiz: QuizRecord; run: QuizRun } | undefined,
  ): Promise<{ quiz: QuizRecord; run: QuizRun; result: AddAnswerResult; cached: boolean }> {
    let quiz = cached?.quiz;
    let run = cached?.run;
    if (!quiz || !run) {
      quiz = await this.deps.quizzes.byId(quizId);
      if (!quiz || p.classId !== quiz.classId) throw new AirError('QUIZ_NOT_FOUND');
      run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
      if (!run) throw new AirError('QUIZ_CLOSED', 'The quiz is not open.');
      if (!run.closedAt && run.closesAt.getTime() > Date.now()) this.answering.set(quiz.id, { quiz, run });
    }
    if (p.classId !== quiz.classId) throw new AirError('QUIZ_NOT_FOUND');
    const graded = gradeAnswer(quiz, input);
    const result = await this.deps.quizzes.addAnswer({
      runId: run.id,
      participantId: p.sub,
      answerId: input.answerId,
      ...graded,
    });
    return { quiz, run, result, cached: cached !== undefined };
  }

  /** Results of the quiz's last run (teacher, admin, monitor). */
  async resultsOf(p: Principal, quizId: string): Promise<QuizResults> {
    const { quiz, cls } = await this.load(quizId).catch(async (e: unknown) => {
      // A deleted quiz still has results for those allowed to see them.
      const q = await this.deps.quizzes.byId(quizId);
      if (!q) throw e;
      return { quiz: q, cls: await this.classOf(q.classId) };
    });
    check(canMonitorClass(p, cls));
    const run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    return buildResults(quiz, run, run ? await this.deps.quizzes.answers(run.id) : []);
  }

  private async pushResults(runId: string): Promise<void> {
    const target = this.runs.get(runId);
    if (!target) return;
    const answers = await this.deps.quizzes.tally(runId);
    await this.deps.hub.publish(target.classId, {
      type: 'quiz.results',
      audience: 'staff',
      quizId: target.quiz.id,
      runId,
      answered: answers.length,
      correct: answers.filter((a) => a.correct).length,
      counts: countAnswers(target.quiz, answers),
    });
  }
}
