import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import type { DrizzleStore } from './db.ts';
import { DrizzleQuizRepo, type NewQuiz } from './quiz-repo.ts';
import { STORE_BACKENDS } from './testing.ts';

describe.each(STORE_BACKENDS)('QuizRepo on $name', ({ open }) => {
  let store: DrizzleStore;
  let repo: DrizzleQuizRepo;
  let teacherId: string;
  beforeAll(async () => {
    store = await open();
    repo = new DrizzleQuizRepo(store.db);
    const t = await store.users.create({
      email: `t-${randomUUID()}@school.example`,
      name: 'T',
      role: 'teacher',
      passwordHash: 'h',
    });
    teacherId = t.id;
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A class with a running lesson, a student and a single-choice quiz. */
  async function setUp(limitSec = 30) {
    const c = await store.classes.create({ teacherId, title: 'quiz' });
    const { lesson } = await store.lessons.start(c.id);
    const student = await store.participants.join({ classId: c.id, name: '민수', role: 'student' });
    const q: NewQuiz = {
      classId: c.id,
      kind: 'single',
      question: '2 + 2 = ?',
      options: ['3', '4'],
      correct: [1],
      timeLimitSec: limitSec,
      anonymous: false,
    };
    return { c, lesson, student, quiz: await repo.create(q) };
  }

  it('keeps a bank per class, lists it without deleted quizzes', async () => {
    const { c, quiz } = await setUp();
    expect(quiz).toMatchObject({ kind: 'single', options: ['3', '4'], correct: [1], deletedAt: null });
    expect((await repo.listByClass(c.id)).map((q) => q.id)).toEqual([quiz.id]);
    expect(await repo.remove(quiz.id)).toBe(true);
    expect(await repo.remove(quiz.id)).toBe(false);
    expect(await repo.listByClass(c.id)).toEqual([]);
    expect((await repo.byId(quiz.id))?.deletedAt).toBeInstanceOf(Date);
  });

  it('opens one run per lesson at a time and closes it once', async () => {
    const { lesson, quiz } = await setUp(30);
    const run = await repo.openRun(quiz.id, lesson.id, 30);
    expect(run.closesAt.getTime() - run.openedAt.getTime()).toBe(30_000);
    const again = await repo.openRun(quiz.id, lesson.id, 30).catch((e: unknown) => e);
    expect(isAirError(again, 'QUIZ_OPEN')).toBe(true);
    expect((await repo.openRuns()).some((r) => r.id === run.id)).toBe(true);
    expect((await repo.openRunOfLesson(lesson.id))?.id).toBe(run.id);
    const [a, b] = await Promise.all([repo.closeRun(run.id), repo.closeRun(run.id)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(await repo.openRunOfLesson(lesson.id)).toBeUndefined();
    expect((await repo.lastRuns([quiz.id])).get(quiz.id)?.closedAt).toBeInstanceOf(Date);
    const next = await repo.openRun(quiz.id, lesson.id, 30);
    expect((await repo.lastRuns([quiz.id])).get(quiz.id)?.id).toBe(next.id);
    expect((await repo.revealRun(run.id))?.revealedAt).toBeInstanceOf(Date);
  });

  it('stores one answer per student per run, and none once closed', async () => {
    const { c, lesson, student, quiz } = await setUp();
    const run = await repo.openRun(quiz.id, lesson.id, 30);
    const answer = {
      runId: run.id,
      participantId: student.id,
      answerId: 'a1',
      choices: [1],
      text: null,
      correct: true,
    };
    const first = await repo.addAnswer(answer);
    expect(first.status).toBe('created');
    if (first.status !== 'created') return;
    expect(first.answer).toMatchObject({ answerId: 'a1', choices: [1], correct: true });
    expect(first.answer.ms).toBeGreaterThanOrEqual(0);
    const again = await repo.addAnswer({ ...answer, answerId: 'a2', choices: [0], correct: false });
    expect(again).toMatchObject({ status: 'exists', answer: { answerId: 'a1', choices: [1] } });
    const other = await store.participants.join({ classId: c.id, name: '지은', role: 'student' });
    await repo.closeRun(run.id);
    expect(await repo.addAnswer({ ...answer, participantId: other.id })).toEqual({ status: 'closed' });
    expect((await repo.answers(run.id)).map((a) => a.participantId)).toEqual([student.id]);
    const mine = await repo.answersOf(student.id);
    expect(mine).toMatchObject([{ question: '2 + 2 = ?', kind: 'single', choices: [1] }]);
    const stats = await repo.lessonStats(lesson.id);
    expect(stats.runs).toMatchObject([{ id: run.id, limitMs: 30_000 }]);
    expect(stats.answers).toMatchObject([{ runId: run.id, participantId: student.id }]);
  });

  it('refuses an answer after closes_at even before the run is closed', async () => {
    const { lesson, student, quiz } = await setUp();
    const run = await repo.openRun(quiz.id, lesson.id, 0);
    const r = await repo.addAnswer({
      runId: run.id,
      participantId: student.id,
      answerId: 'late',
      choices: [1],
      text: null,
      correct: true,
    });
    expect(r).toEqual({ status: 'closed' });
  });
});
