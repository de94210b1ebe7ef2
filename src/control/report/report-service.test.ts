import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger as DrizzleLogger } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrizzleStore } from '../store/db.ts';
import { chatMessages, lessons, participants, recordings, tables } from '../store/schema.ts';
import { engagementSamples, interactions, quizAnswers, quizRuns, quizzes } from '../store/schema-quiz.ts';
import type { Db } from '../store/sql.ts';
import { STORE_BACKENDS } from '../store/testing.ts';
import { classCsv } from './csv.ts';
import { ReportService } from './report-service.ts';

const at = (day: number, hhmmss: string) => new Date(`2026-03-${String(day).padStart(2, '0')}T${hhmmss}Z`);
const iso = (day: number, hhmmss: string) => at(day, hhmmss).toISOString();

/** The store's database again, with every query counted. */
function countingDb(store: DrizzleStore): { db: Db; count: () => number; reset: () => void } {
  let n = 0;
  const logger: DrizzleLogger = { logQuery: () => void n++ };
  const client = (store.db as unknown as { $client: unknown }).$client;
  const db: Db =
    store.dialect === 'pglite'
      ? drizzlePglite({ client: client as PGlite, schema: tables, logger })
      : drizzleNodePg({ client: client as pg.Pool, schema: tables, logger });
  return { db, count: () => n, reset: () => void (n = 0) };
}

describe.each(STORE_BACKENDS)('ReportService on $name', ({ open }) => {
  let store: DrizzleStore;
  let db: Db;
  let reports: ReportService;
  let teacherId: string;
  beforeAll(async () => {
    store = await open();
    db = store.db;
    reports = new ReportService({ db });
    const t = await store.users.create({
      email: `t-${randomUUID()}@school.example`,
      name: '선생님',
      role: 'teacher',
      passwordHash: 'h',
    });
    teacherId = t.id;
  });
  afterAll(async () => {
    await store?.close();
  });

  let seq = 0;
  const lesson = async (classId: string, number: number, day: number, ended = true) =>
    (
      await db
        .insert(lessons)
        .values({
          classId,
          number,
          startedAt: at(day, '09:00:00'),
          endedAt: ended ? at(day, '09:50:00') : null,
        })
        .returning()
    )[0]!;
  const join = async (
    classId: string,
    lessonId: string,
    name: string,
    joined: Date,
    left: Date | null,
    role: 'student' | 'teacher' = 'student',
  ) =>
    (
      await db
        .insert(participants)
        .values({ classId, lessonId, name, role, joinedAt: joined, leftAt: left })
        .returning()
    )[0]!.id;
  const run = async (quizId: string, lessonId: string, opened: Date) =>
    (
      await db
        .insert(quizRuns)
        .values({
          quizId,
          lessonId,
          openedAt: opened,
          closesAt: new Date(opened.getTime() + 30_000),
          closedAt: new Date(opened.getTime() + 30_000),
        })
        .returning()
    )[0]!.id;
  const answer = (
    runId: string,
    participantId: string,
    a: { choices?: number[]; text?: string },
    correct: boolean,
    ms: number,
  ) =>
    db.insert(quizAnswers).values({
      runId,
      participantId,
      answerId: randomUUID(),
      choices: a.choices ?? null,
      text: a.text ?? null,
      correct,
      ms,
    });
  const samples = (
    lessonId: string,
    when: Date,
    rows: [participantId: string, score: number, watching: number, stalled?: boolean][],
  ) =>
    db.insert(engagementSamples).values(
      rows.map(([participantId, score, watching, stalled]) => ({
        lessonId,
        participantId,
        score,
        watching,
        at: when,
        stalled: stalled ?? false,
      })),
    );
  const chat = (
    classId: string,
    lessonId: string,
    from: { id: string; name: string; role?: 'student' | 'teacher' },
    when: Date,
    deleted = false,
  ) =>
    db.insert(chatMessages).values({
      classId,
      lessonId,
      seq: ++seq,
      senderId: from.id,
      senderName: from.name,
      senderRole: from.role ?? 'student',
      text: '안녕하세요, "여러분"',
      createdAt: when,
      deletedAt: deleted ? when : null,
    });
  const act = (
    classId: string,
    lessonId: string,
    participantId: string,
    kind: 'hand' | 'reaction',
    data: Record<string, unknown>,
    when: Date,
  ) => db.insert(interactions).values({ classId, lessonId, participantId, kind, data, at: when });

  /**
   * 수학 3반: three lessons (2, 9 and 16 March, 09:00–09:50 UTC) of 김민수, 이지은 and 박서준.
   * In lesson 3 이지은 joins twice (" 이지은 " the second time); 박서준's answers turn wrong after
   * lesson 1 and 김민수's engagement falls from 80 to 50.
   */
  async function scriptedClass() {
    const c = await store.classes.create({ teacherId, title: '수학 3반' });
    const l1 = await lesson(c.id, 1, 2);
    const l2 = await lesson(c.id, 2, 9);
    const l3 = await lesson(c.id, 3, 16);
    const quiz = async (q: Omit<typeof quizzes.$inferInsert, 'classId' | 'timeLimitSec'>) =>
      (
        await db
          .insert(quizzes)
          .values({ classId: c.id, timeLimitSec: 30, ...q })
          .returning()
      )[0]!.id;
    const q1 = await quiz({ kind: 'single', question: '2 + 3 = ?', options: ['4', '5', '6'], correct: [1] });
    const q2 = await quiz({
      kind: 'multiple',
      question: '소수를 모두 고르세요',
      options: ['2', '3', '4', '9'],
      correct: [0, 1],
    });
    const q3 = await quiz({ kind: 'short', question: '대한민국의 수도는?', correct: ['서울', 'Seoul'] });
    const q4 = await quiz({
      kind: 'truefalse',
      question: '지구는 둥글다',
      options: ['True', 'False'],
      correct: [0],
    });

    // Lessons 1 and 2: one quiz and one sample bucket each.
    for (const [l, day, right, scores] of [
      [l1, 2, [true, true, true], [80, 80, 80]],
      [l2, 9, [true, true, false], [50, 80, 50]],
    ] as const) {
      const ids = [
        await join(c.id, l.id, '김민수', at(day, '09:00:00'), at(day, '09:50:00')),
        await join(c.id, l.id, '이지은', at(day, '09:00:00'), at(day, '09:50:00')),
        await join(c.id, l.id, '박서준', at(day, '09:00:00'), at(day, '09:50:00')),
      ];
      const r = await run(q1, l.id, at(day, '09:05:00'));
      for (const [i, id] of ids.entries())
        await answer(r, id, { choices: [right[i] ? 1 : 0] }, right[i]!, 1000);
      await samples(
        l.id,
        at(day, '09:10:00'),
        ids.map((id, i) => [id, scores[i]!, 1]),
      );
      await chat(c.id, l.id, { id: ids[0]!, name: '김민수' }, at(day, '09:01:00'));
    }

    // Lesson 3, in detail.
    const km = await join(c.id, l3.id, '김민수', at(16, '09:00:00'), at(16, '09:50:00'));
    const jA = await join(c.id, l3.id, '이지은', at(16, '09:01:00'), at(16, '09:20:00'));
    const ps = await join(c.id, l3.id, '박서준', at(16, '09:02:00'), at(16, '09:50:00'));
    const jB = await join(c.id, l3.id, ' 이지은 ', at(16, '09:21:00'), at(16, '09:50:00'));
    await join(c.id, l3.id, '선생님', at(16, '08:59:00'), at(16, '09:50:00'), 'teacher');

    const r1 = await run(q1, l3.id, at(16, '09:05:00'));
    await answer(r1, km, { choices: [1] }, true, 3000);
    await answer(r1, jA, { choices: [1] }, true, 2000);
    await answer(r1, ps, { choices: [2] }, false, 5000);
    const r2 = await run(q2, l3.id, at(16, '09:15:00'));
    await answer(r2, km, { choices: [0, 1] }, true, 8000);
    await answer(r2, jA, { choices: [0, 3] }, false, 6000);
    await answer(r2, ps, { choices: [2] }, false, 9000);
    const r3 = await run(q3, l3.id, at(16, '09:25:00'));
    await answer(r3, km, { text: '서울' }, true, 4000);
    await answer(r3, jB, { text: 'seoul' }, true, 7000);
    await answer(r3, ps, { text: '부산' }, false, 10_000);
    const r4 = await run(q4, l3.id, at(16, '09:35:00'));

    await samples(l3.id, at(16, '09:10:00'), [
      [km, 50, 1],
      [jA, 90, 1],
      [ps, 70, 1],
    ]);
    await samples(l3.id, at(16, '09:20:00'), [
      [km, 50, 1],
      [jA, 30, 0, true],
      [ps, 0, 0, true],
    ]);
    await samples(l3.id, at(16, '09:30:00'), [
      [km, 50, 1],
      [jB, 90, 1],
      [ps, 70, 0.5],
    ]);
    await samples(l3.id, at(16, '09:40:00'), [
      [km, 50, 1],
      [jB, 90, 1],
      [ps, 70, 1, true],
    ]);

    await chat(c.id, l3.id, { id: km, name: '김민수' }, at(16, '09:00:30'));
    await chat(c.id, l3.id, { id: km, name: '김민수' }, at(16, '09:00:45'));
    await chat(c.id, l3.id, { id: jA, name: '이지은' }, at(16, '09:05:10'));
    await chat(c.id, l3.id, { id: teacherId, name: '선생님', role: 'teacher' }, at(16, '09:05:20'));
    await chat(c.id, l3.id, { id: ps, name: '박서준' }, at(16, '09:12:00'), true);
    await chat(c.id, l3.id, { id: jB, name: '이지은' }, at(16, '09:30:00'));

    await act(c.id, l3.id, km, 'hand', { action: 'raise', name: '김민수' }, at(16, '09:06:00'));
    await act(
      c.id,
      l3.id,
      km,
      'hand',
      { action: 'lower', by: 'teacher', name: '김민수' },
      at(16, '09:07:00'),
    );
    await act(c.id, l3.id, km, 'hand', { action: 'raise', name: '김민수' }, at(16, '09:30:00'));
    await act(c.id, l3.id, jB, 'hand', { action: 'raise', name: '이지은' }, at(16, '09:31:00'));
    await act(c.id, l3.id, ps, 'reaction', { kind: 'clap' }, at(16, '09:08:00'));
    await act(c.id, l3.id, ps, 'reaction', { kind: 'clap' }, at(16, '09:08:01'));
    await act(c.id, l3.id, km, 'reaction', { kind: 'heart' }, at(16, '09:09:00'));

    const rec = async (v: Partial<typeof recordings.$inferInsert>) =>
      (
        await db
          .insert(recordings)
          .values({ classId: c.id, lessonId: l3.id, startedAt: at(16, '09:00:05'), ...v })
          .returning()
      )[0]!.id;
    const recA = await rec({ status: 'complete', durationMs: 2_990_400 });
    await rec({ status: 'complete', durationMs: 60_000, deletedAt: at(16, '10:00:00') });
    const recB = await rec({ status: 'interrupted', durationMs: 15_000, startedAt: at(16, '09:49:00') });
    return { c, l1, l2, l3, km, jA, jB, ps, quiz: { q1, q2, q3, q4 }, run: { r1, r2, r3, r4 }, recA, recB };
  }

  let s: Awaited<ReturnType<typeof scriptedClass>>;
  beforeAll(async () => {
    s = await scriptedClass();
  });

  it('reports a lesson: attendance by student, viewers, stalls, engagement, chat, hands, recordings', async () => {
    const r = await reports.lessonReport(s.l3.id);
    expect(r?.lesson).toEqual({
      id: s.l3.id,
      number: 3,
      classId: s.c.id,
      classTitle: '수학 3반',
      startedAt: iso(16, '09:00:00'),
      endedAt: iso(16, '09:50:00'),
      durationSec: 3000,
    });
    // Students only (not the teacher's row), one line for 이지은's two joins, by name.
    expect(r!.attendance).toEqual([
      {
        participantId: s.km,
        name: '김민수',
        joinedAt: iso(16, '09:00:00'),
        leftAt: iso(16, '09:50:00'),
        minutesWatched: 0.7, // 4 samples watching → 40 s
        engagement: 50,
        quizAnswered: 3,
        quizCorrect: 3,
        chatMessages: 2,
        hands: 2,
        removed: false,
      },
      {
        participantId: s.ps,
        name: '박서준',
        joinedAt: iso(16, '09:02:00'),
        leftAt: iso(16, '09:50:00'),
        minutesWatched: 0.4, // 1 + 0 + 0.5 + 1 → 25 s
        engagement: 53, // 52.5
        quizAnswered: 3,
        quizCorrect: 0,
        chatMessages: 0, // the one message was deleted
        hands: 0,
        removed: false,
      },
      {
        participantId: s.jA,
        name: '이지은',
        joinedAt: iso(16, '09:01:00'),
        leftAt: iso(16, '09:50:00'),
        minutesWatched: 0.5,
        engagement: 75,
        quizAnswered: 3,
        quizCorrect: 2,
        chatMessages: 2,
        hands: 1,
        removed: false,
      },
    ]);
    expect(r!.viewers).toEqual({
      peak: 3,
      average: 2.5,
      timeline: [
        { at: iso(16, '09:10:00'), viewers: 3 },
        { at: iso(16, '09:20:00'), viewers: 1 },
        { at: iso(16, '09:30:00'), viewers: 3 },
        { at: iso(16, '09:40:00'), viewers: 3 },
      ],
    });
    expect(r!.stalls).toBe(3);
    expect(r!.engagement).toEqual([
      { at: iso(16, '09:10:00'), score: 70, watching: 1 },
      { at: iso(16, '09:20:00'), score: 27, watching: 0.333 },
      { at: iso(16, '09:30:00'), score: 70, watching: 0.833 },
      { at: iso(16, '09:40:00'), score: 70, watching: 1 },
    ]);
    // Every minute of the 50-min lesson; the teacher's message counts, the deleted one does not.
    expect(r!.chat.messages).toBe(5);
    expect(r!.chat.perMinute).toHaveLength(50);
    expect(r!.chat.perMinute.filter((m) => m.count > 0)).toEqual([
      { at: iso(16, '09:00:00'), count: 2 },
      { at: iso(16, '09:05:00'), count: 2 },
      { at: iso(16, '09:30:00'), count: 1 },
    ]);
    expect([r!.hands, r!.reactions]).toEqual([3, 3]);
    expect(r!.recordings).toEqual([
      { id: s.recA, durationSec: 2990, status: 'complete' },
      { id: s.recB, durationSec: 15, status: 'interrupted' },
    ]);
  });

  it('reports every quiz item: accuracy, option counts, each student', async () => {
    const r = (await reports.lessonReport(s.l3.id))!;
    expect(r.quizzes.map((q) => [q.question, q.kind, q.answered, q.correct, q.accuracy])).toEqual([
      ['2 + 3 = ?', 'single', 3, 2, 0.667],
      ['소수를 모두 고르세요', 'multiple', 3, 1, 0.333],
      ['대한민국의 수도는?', 'short', 3, 2, 0.667],
      ['지구는 둥글다', 'truefalse', 0, 0, null],
    ]);
    const [q1, q2, q3, q4] = r.quizzes;
    expect(q1).toMatchObject({ runId: s.run.r1, quizId: s.quiz.q1, openedAt: iso(16, '09:05:00') });
    expect(q1!.options).toEqual([
      { text: '4', count: 0, correct: false },
      { text: '5', count: 2, correct: true },
      { text: '6', count: 1, correct: false },
    ]);
    expect(q2!.options).toEqual([
      { text: '2', count: 2, correct: true },
      { text: '3', count: 1, correct: true },
      { text: '4', count: 1, correct: false },
      { text: '9', count: 1, correct: false },
    ]);
    expect(q3!.options).toEqual([]);
    expect(q4!.options).toEqual([
      { text: 'True', count: 0, correct: true },
      { text: 'False', count: 0, correct: false },
    ]);
    // Fastest first; 이지은's second join answers under her line's id.
    expect(q3!.perStudent).toEqual([
      { participantId: s.km, name: '김민수', correct: true, ms: 4000 },
      { participantId: s.jA, name: '이지은', correct: true, ms: 7000 },
      { participantId: s.ps, name: '박서준', correct: false, ms: 10_000 },
    ]);
    expect(q4!.perStudent).toEqual([]);
  });

  it('fills the summary from the report', async () => {
    const r = (await reports.lessonReport(s.l3.id))!;
    expect(r.summary).toEqual({
      provider: 'rules',
      ko: [
        '학생 3명이 참석했고 평균 1분 시청했습니다.',
        '가장 어려운 문항은 "소수를 모두 고르세요"(정답률 33%)였고, 가장 많이 고른 오답은 "4"(1명)입니다.',
        '수업 20분쯤 참여도가 27점으로 가장 낮았습니다(평균 59점).',
        '학생 화면에서 재생이 멈춘 10초 구간이 3번 있었습니다.',
        '채팅 5개, 손들기 3번이 있었습니다.',
        '도움이 필요할 수 있는 학생(참여도나 정답률이 낮음): 박서준',
      ],
      en: [
        '3 students attended and watched 1 min on average.',
        'Hardest question: "소수를 모두 고르세요" (33% correct); most chosen wrong answer: "4" (1 student).',
        'Engagement dipped to 27 about 20 min into the lesson (mean 59).',
        "Students' playback stalled in 3 10-s intervals.",
        '5 chat messages and 3 raised hands.',
        'May need help (low engagement or accuracy): 박서준.',
      ],
    });
  });

  it('reports the class across its lessons and finds the slipping students', async () => {
    const r = await reports.classReport(s.c.id);
    expect(r?.class).toEqual({ id: s.c.id, title: '수학 3반' });
    expect(r!.lessons).toEqual([
      {
        id: s.l1.id,
        number: 1,
        startedAt: iso(2, '09:00:00'),
        endedAt: iso(2, '09:50:00'),
        attendance: 3,
        accuracy: 1,
        engagement: 80,
      },
      {
        id: s.l2.id,
        number: 2,
        startedAt: iso(9, '09:00:00'),
        endedAt: iso(9, '09:50:00'),
        attendance: 3,
        accuracy: 0.667,
        engagement: 60,
      },
      // 이지은 twice is one student; 5 of 9 answers right; (70 + 26.7 + 70 + 70) / 4.
      {
        id: s.l3.id,
        number: 3,
        startedAt: iso(16, '09:00:00'),
        endedAt: iso(16, '09:50:00'),
        attendance: 3,
        accuracy: 0.556,
        engagement: 59,
      },
    ]);
    expect(r!.slipping).toEqual([
      { name: '김민수', reason: 'engagement', detail: 'engagement 50 in the last 2 lessons, 80 before' },
      { name: '박서준', reason: 'accuracy', detail: 'accuracy 0 % in the last 2 lessons, 100 % before' },
      { name: '박서준', reason: 'engagement', detail: 'engagement 51 in the last 2 lessons, 80 before' },
    ]);
  });

  it('finds a student who stopped coming (ended lessons only)', async () => {
    const c = await store.classes.create({ teacherId, title: '출석' });
    const ls = [
      await lesson(c.id, 1, 2),
      await lesson(c.id, 2, 3),
      await lesson(c.id, 3, 4),
      await lesson(c.id, 4, 5),
    ];
    const came = { 가영: [1, 2], 나래: [1], 다솜: [1, 2, 3], 라희: [2, 3, 4] };
    for (const [name, nums] of Object.entries(came)) {
      for (const n of nums) await join(c.id, ls[n - 1]!.id, name, at(n + 1, '09:00:00'), null);
    }
    // Lesson 5 runs now and nobody is in it yet: it does not count as missed.
    await lesson(c.id, 5, 6, false);
    const r = (await reports.classReport(c.id))!;
    expect(r.lessons.map((l) => l.attendance)).toEqual([3, 3, 2, 1, 0]);
    expect(r.slipping).toEqual([
      {
        name: '가영',
        reason: 'attendance',
        detail: 'attended 2 of the first 2 lessons, missed the last 2 (lessons 3 and 4)',
      },
    ]);
  });

  it('lists each student per lesson for the class CSV', async () => {
    const rows = await reports.classStudentRows(s.c.id);
    expect(rows.filter((x) => x.lessonId === s.l3.id)).toEqual([
      {
        lessonId: s.l3.id,
        lessonNumber: 3,
        name: '김민수',
        minutesWatched: 0.7,
        engagement: 50,
        quizAnswered: 3,
        quizCorrect: 3,
        chatMessages: 2,
        hands: 2,
      },
      {
        lessonId: s.l3.id,
        lessonNumber: 3,
        name: '박서준',
        minutesWatched: 0.4,
        engagement: 53,
        quizAnswered: 3,
        quizCorrect: 0,
        chatMessages: 0,
        hands: 0,
      },
      {
        lessonId: s.l3.id,
        lessonNumber: 3,
        name: '이지은',
        minutesWatched: 0.5,
        engagement: 75,
        quizAnswered: 3,
        quizCorrect: 2,
        chatMessages: 2,
        hands: 1,
      },
    ]);
    expect(rows.map((x) => x.lessonNumber)).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const csv = classCsv((await reports.classReport(s.c.id))!, rows);
    expect(csv.split('\r\n')).toHaveLength(1 + 9 + 1);
    expect(csv).toContain('\r\n3,2026-03-16,이지은,yes,0.5,75,3,2,67,2,1\r\n');
  });

  it('answers undefined for unknown lessons and classes', async () => {
    expect(await reports.lessonReport(randomUUID())).toBeUndefined();
    expect(await reports.lessonReport('not-a-uuid')).toBeUndefined();
    expect(await reports.classReport(randomUUID())).toBeUndefined();
    expect(await reports.classStudentRows(randomUUID())).toEqual([]);
  });

  it('makes the same few queries for 40 students and 10 quizzes as for 3', async () => {
    const counted = countingDb(store);
    const svc = new ReportService({ db: counted.db });
    await svc.lessonReport(s.l3.id);
    const small = counted.count();
    counted.reset();
    await svc.classReport(s.c.id);
    const smallClass = counted.count();

    const c = await store.classes.create({ teacherId, title: '큰 반' });
    const big = await lesson(c.id, 1, 20);
    const ids: string[] = (
      await db
        .insert(participants)
        .values(
          Array.from({ length: 40 }, (_, i) => ({
            classId: c.id,
            lessonId: big.id,
            name: `학생${i + 1}`,
            role: 'student' as const,
            joinedAt: at(20, '09:00:00'),
          })),
        )
        .returning({ id: participants.id })
    ).map((p) => p.id);
    const q = (
      await db
        .insert(quizzes)
        .values({
          classId: c.id,
          kind: 'single',
          question: 'q',
          options: ['a', 'b'],
          correct: [0],
          timeLimitSec: 30,
        })
        .returning()
    )[0]!.id;
    for (let k = 0; k < 10; k++) {
      const runId = await run(q, big.id, new Date(at(20, '09:05:00').getTime() + k * 60_000));
      await db.insert(quizAnswers).values(
        ids.map((participantId, i) => ({
          runId,
          participantId,
          answerId: `a${k}-${i}`,
          choices: [i % 4 === 0 ? 1 : 0],
          correct: i % 4 !== 0,
          ms: 1000 + i,
        })),
      );
    }
    for (let b = 0; b < 30; b++) {
      await samples(
        big.id,
        new Date(at(20, '09:00:00').getTime() + b * 10_000),
        ids.map((id) => [id, 60, 1]),
      );
    }
    counted.reset();
    const r = (await svc.lessonReport(big.id))!;
    expect(counted.count()).toBe(small);
    expect(small).toBeLessThanOrEqual(10);
    expect(r.attendance).toHaveLength(40);
    expect(r.attendance[0]).toMatchObject({ quizAnswered: 10, minutesWatched: 5, engagement: 60 });
    expect(r.quizzes.map((x) => x.accuracy)).toEqual(Array(10).fill(0.75));
    counted.reset();
    await svc.classReport(c.id);
    expect(counted.count()).toBe(smallClass);
    expect(smallClass).toBeLessThanOrEqual(10);
  });
});
