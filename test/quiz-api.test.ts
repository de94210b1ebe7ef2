import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClassroomApp, type ClassroomApp } from './helpers/classroom-app.ts';
import { sql } from 'drizzle-orm';
import { TestSocket } from './helpers/ws-client.ts';

/**
 * The quiz API end to end (issue 6 item 5) against the real app on PGlite in a data dir: a
 * teacher builds a bank, pushes quizzes during a lesson, students answer over HTTP, the
 * server closes the quiz at its time limit — also after the process restarts mid-quiz.
 */

type Json = Record<string, unknown>;

describe('quiz API', () => {
  let a: ClassroomApp;
  let teacher: string;
  let classId: string;
  let joinCode: string;
  const students: { token: string; id: string; name: string }[] = [];

  const post = (url: string, token: string, payload?: unknown) =>
    a.call({ method: 'POST', url, token, ...(payload === undefined ? {} : { payload: payload as Json }) });
  const get = (url: string, token: string) => a.call({ method: 'GET', url, token });
  const quiz = async (body: Json): Promise<Json> => {
    const res = await post(`/api/classes/${classId}/quizzes`, teacher, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Json;
  };
  const join = async (name: string) => {
    const res = await a.call({ method: 'POST', url: '/api/join', payload: { code: joinCode, name } });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { token: string; participantId: string };
    return { token: body.token, id: body.participantId, name };
  };
  /** Waits (polling the API) until the quiz's last run is closed; returns its results. */
  const closedResults = async (id: string, app = a, token = teacher): Promise<Json> => {
    for (;;) {
      const r = (await app.call({ method: 'GET', url: `/api/quizzes/${id}/results`, token })).json() as Json;
      if (r.status === 'closed') return r;
      await new Promise((res) => setTimeout(res, 200));
    }
  };

  beforeAll(async () => {
    a = await startClassroomApp();
    teacher = (await a.teacher()).token;
    const c = (await post('/api/classes', teacher, { title: '과학' })).json() as {
      id: string;
      joinCode: string;
    };
    classId = c.id;
    joinCode = c.joinCode;
  });
  afterAll(async () => {
    await a?.remove();
  });

  it('documents the quiz, lesson and my-data routes at /docs', async () => {
    const res = await a.call({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys((res.json() as { paths: Json }).paths);
    for (const p of [
      '/api/classes/{id}/quizzes',
      '/api/quizzes/{id}',
      '/api/quizzes/{id}/open',
      '/api/quizzes/{id}/close',
      '/api/quizzes/{id}/reveal',
      '/api/quizzes/{id}/answers',
      '/api/quizzes/{id}/results',
      '/api/lessons/{id}/engagement',
      '/api/me',
    ]) {
      expect(paths).toContain(p);
    }
  });

  it('validates quizzes per kind and keeps a bank per class', async () => {
    const bad = [
      { kind: 'single', question: 'q', options: ['a', 'b'], correct: [0, 1], timeLimitSec: 30 },
      { kind: 'multiple', question: 'q', options: ['a', 'b'], correct: [], timeLimitSec: 30 },
      { kind: 'single', question: 'q', options: ['a'], correct: [0], timeLimitSec: 30 },
      { kind: 'single', question: '   ', options: ['a', 'b'], correct: [0], timeLimitSec: 30 },
      { kind: 'truefalse', question: 'q', correct: [0], timeLimitSec: 4 },
      { kind: 'short', question: 'q', correct: ['x'], timeLimitSec: 601 },
      { kind: 'essay', question: 'q', timeLimitSec: 30 },
    ];
    for (const body of bad) {
      const res = await post(`/api/classes/${classId}/quizzes`, teacher, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect((res.json() as { error: { code: string } }).error.code).toBe('VALIDATION');
    }
    const tf = await quiz({ kind: 'truefalse', question: '지구는 둥글다', correct: [0], timeLimitSec: 30 });
    expect(tf).toMatchObject({ kind: 'truefalse', options: ['True', 'False'], correct: [0], lastRun: null });
    const list = (await get(`/api/classes/${classId}/quizzes`, teacher)).json() as { quizzes: Json[] };
    expect(list.quizzes.map((q) => q.id)).toContain(tf.id);
    expect(
      (await a.call({ method: 'DELETE', url: `/api/quizzes/${tf.id}`, token: teacher })).statusCode,
    ).toBe(204);
    const after = (await get(`/api/classes/${classId}/quizzes`, teacher)).json() as { quizzes: Json[] };
    expect(after.quizzes.map((q) => q.id)).not.toContain(tf.id);
    expect((await post(`/api/quizzes/${tf.id}/open`, teacher)).statusCode).toBe(404);
  });

  it('runs a quiz: open needs a live lesson, answers 201/200/409, results, close, reveal', async () => {
    const q = await quiz({
      kind: 'multiple',
      question: '소수는?',
      options: ['2', '4', '5', '9'],
      correct: [0, 2],
      timeLimitSec: 120,
    });
    const notLive = await post(`/api/quizzes/${q.id}/open`, teacher);
    expect(notLive.statusCode).toBe(409);
    expect((notLive.json() as { error: { code: string } }).error.code).toBe('LESSON_NOT_LIVE');
    expect((await post(`/api/classes/${classId}/start`, teacher)).statusCode).toBe(200);
    for (const name of ['민수', '지은', 'Alex']) students.push(await join(name));
    const [s1, s2, s3] = students as [(typeof students)[0], (typeof students)[0], (typeof students)[0]];
    const ws: TestSocket = await a.connect(s1.token);

    const opened = await post(`/api/quizzes/${q.id}/open`, teacher);
    expect(opened.statusCode, opened.body).toBe(200);
    const pushed = await ws.nextOf('quiz.opened');
    expect(pushed.quiz).toMatchObject({
      id: q.id,
      kind: 'multiple',
      options: ['2', '4', '5', '9'],
      timeLimitSec: 120,
    });
    expect(pushed.quiz).not.toHaveProperty('correct');
    const again = await post(`/api/quizzes/${q.id}/open`, teacher);
    expect((again.json() as { error: { code: string } }).error.code).toBe('QUIZ_OPEN');

    const first = await post(`/api/quizzes/${q.id}/answers`, s1.token, { answerId: 'a-1', choices: [2, 0] });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({ answerId: 'a-1', choices: [0, 2] });
    expect(first.json()).not.toHaveProperty('correct');
    const same = await post(`/api/quizzes/${q.id}/answers`, s1.token, { answerId: 'a-1', choices: [2, 0] });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toEqual(first.json());
    const other = await post(`/api/quizzes/${q.id}/answers`, s1.token, { answerId: 'a-2', choices: [1] });
    expect(other.statusCode).toBe(409);
    expect((other.json() as { error: { code: string } }).error.code).toBe('QUIZ_ALREADY_ANSWERED');
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s2.token, { answerId: 'b', choices: [9] })).statusCode,
    ).toBe(400);
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s2.token, { answerId: 'b', text: 'two' })).statusCode,
    ).toBe(400);
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s2.token, { answerId: 'b', choices: [1] })).statusCode,
    ).toBe(201);
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, teacher, { answerId: 't', choices: [1] })).statusCode,
    ).toBe(403);

    const results = (await get(`/api/quizzes/${q.id}/results`, teacher)).json() as Json;
    expect(results).toMatchObject({ status: 'open', answered: 2, correct: 1, counts: [1, 1, 1, 0] });
    expect(results.students).toEqual([
      expect.objectContaining({ name: '민수', choices: [0, 2], correct: true }),
      expect.objectContaining({ name: '지은', choices: [1], correct: false }),
    ]);
    expect((results.leaderboard as Json[]).map((r) => [r.name, r.rank])).toEqual([
      ['민수', 1],
      ['지은', 2],
    ]);
    // Students never see the results.
    expect((await get(`/api/quizzes/${q.id}/results`, s1.token)).statusCode).toBe(403);

    expect((await post(`/api/quizzes/${q.id}/close`, teacher)).json()).toMatchObject({
      lastRun: { status: 'closed' },
    });
    expect(await ws.nextOf('quiz.closed')).toMatchObject({ quizId: q.id });
    const late = await post(`/api/quizzes/${q.id}/answers`, s3.token, { answerId: 'c', choices: [0, 2] });
    expect(late.statusCode).toBe(409);
    expect((late.json() as { error: { code: string } }).error.code).toBe('QUIZ_CLOSED');
    // The stored answer is still returned to its student after the close.
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s1.token, { answerId: 'a-1', choices: [0, 2] })).statusCode,
    ).toBe(200);

    await post(`/api/quizzes/${q.id}/reveal`, teacher);
    const revealed = await ws.nextOf('quiz.revealed');
    expect(revealed).toMatchObject({ quizId: q.id, correct: [0, 2], counts: [1, 1, 1, 0], answered: 2 });
    expect(JSON.stringify(revealed)).not.toContain('민수');
    await ws.close();
  });

  it('grades short answers trimmed and case-insensitively', async () => {
    const q = await quiz({
      kind: 'short',
      question: '대한민국의 수도?',
      correct: ['서울', 'Seoul'],
      timeLimitSec: 60,
    });
    await post(`/api/quizzes/${q.id}/open`, teacher);
    const [s1, s2] = students as [(typeof students)[0], (typeof students)[0]];
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s1.token, { answerId: 'x', text: '  SEOUL ' })).statusCode,
    ).toBe(201);
    expect(
      (await post(`/api/quizzes/${q.id}/answers`, s2.token, { answerId: 'y', text: '부산' })).statusCode,
    ).toBe(201);
    await post(`/api/quizzes/${q.id}/close`, teacher);
    const r = (await get(`/api/quizzes/${q.id}/results`, teacher)).json() as Json;
    expect(r).toMatchObject({ status: 'closed', answered: 2, correct: 1, counts: [1, 1] });
    expect(r.students).toEqual([
      expect.objectContaining({ name: '민수', text: 'SEOUL', correct: true }),
      expect.objectContaining({ name: '지은', text: '부산', correct: false }),
    ]);
  });

  it('closes the quiz at its time limit', async () => {
    const q = await quiz({
      kind: 'single',
      question: '1 + 1?',
      options: ['1', '2'],
      correct: [1],
      timeLimitSec: 5,
    });
    const ws = await a.connect(teacher, classId);
    await post(`/api/quizzes/${q.id}/open`, teacher);
    await post(`/api/quizzes/${q.id}/answers`, students[0]!.token, { answerId: 'fast', choices: [1] });
    const closed = await ws.nextOf('quiz.closed', (m) => m.quizId === q.id, 15_000);
    expect(closed.runId).toBeTruthy();
    const r = await closedResults(q.id as string);
    expect(r).toMatchObject({ status: 'closed', answered: 1, correct: 1 });
    const late = await post(`/api/quizzes/${q.id}/answers`, students[1]!.token, {
      answerId: 'slow',
      choices: [1],
    });
    expect((late.json() as { error: { code: string } }).error.code).toBe('QUIZ_CLOSED');
    await ws.close();
  }, 30_000);

  it('closes an open quiz on time across a restart, with its answers intact', async () => {
    const q = await quiz({
      kind: 'single',
      question: '재시작?',
      options: ['예', '아니오'],
      correct: [0],
      timeLimitSec: 5,
    });
    const opened = (await post(`/api/quizzes/${q.id}/open`, teacher)).json() as {
      lastRun: { closesAt: string };
    };
    await post(`/api/quizzes/${q.id}/answers`, students[0]!.token, { answerId: 'before', choices: [0] });
    const dataDir = a.dataDir;
    await a.close();
    a = await startClassroomApp({ dataDir });
    // The restarted server closes the run itself (and says so: replayed from its history).
    const ws = await TestSocket.open(
      `${a.wsUrl}?${new URLSearchParams({ token: teacher, classId, since: '0' })}`,
    );
    const closed = await ws.nextOf('quiz.closed', (m) => m.quizId === q.id, 15_000);
    await ws.close();
    const run = await a.store.db.execute(
      sql`SELECT closed_at FROM quiz_runs WHERE id = ${closed.runId as string}`,
    );
    expect((run as unknown as { rows: { closed_at: unknown }[] }).rows[0]?.closed_at).toBeTruthy();
    const r = await closedResults(q.id as string);
    expect(r).toMatchObject({ status: 'closed', answered: 1, correct: 1, counts: [1, 0] });
    expect(r.closesAt).toBe(opened.lastRun.closesAt);
    const late = await post(`/api/quizzes/${q.id}/answers`, students[1]!.token, {
      answerId: 'after',
      choices: [0],
    });
    expect((late.json() as { error: { code: string } }).error.code).toBe('QUIZ_CLOSED');
    // A run that came due while the server was down is closed as the server starts.
    const q2 = await quiz({ kind: 'truefalse', question: '늦었나?', correct: [1], timeLimitSec: 5 });
    const o2 = (await post(`/api/quizzes/${q2.id}/open`, teacher)).json() as {
      lastRun: { closesAt: string };
    };
    await a.close();
    while (Date.now() <= Date.parse(o2.lastRun.closesAt) + 200)
      await new Promise((res) => setTimeout(res, 100));
    a = await startClassroomApp({ dataDir });
    const ws2 = await TestSocket.open(
      `${a.wsUrl}?${new URLSearchParams({ token: teacher, classId, since: '0' })}`,
    );
    expect(await ws2.nextOf('quiz.closed', (m) => m.quizId === q2.id)).toBeTruthy();
    await ws2.close();
    expect(await closedResults(q2.id as string)).toMatchObject({
      answered: 0,
      closesAt: o2.lastRun.closesAt,
    });
    // Nothing is left scheduled once it closed.
    expect((await get(`/api/classes/${classId}/quizzes`, teacher)).json()).toMatchObject({
      quizzes: expect.arrayContaining([
        expect.objectContaining({ id: q.id, lastRun: expect.objectContaining({ status: 'closed' }) }),
      ]),
    });
  }, 45_000);
});

describe('quiz answers: limits', () => {
  let a: ClassroomApp;
  afterAll(async () => {
    await a?.remove();
  });

  it('rate-limits answers per token, and refuses oversized bodies', async () => {
    a = await startClassroomApp({ answerRateLimit: 3 });
    const { token } = await a.teacher();
    const call = (url: string, t: string, payload?: Json) =>
      a.call({ method: 'POST', url, token: t, ...(payload ? { payload } : {}) });
    const c = (await call('/api/classes', token, { title: 'limits' })).json() as {
      id: string;
      joinCode: string;
    };
    await call(`/api/classes/${c.id}/start`, token);
    const q = (
      await call(`/api/classes/${c.id}/quizzes`, token, {
        kind: 'truefalse',
        question: 'q',
        correct: [0],
        timeLimitSec: 60,
      })
    ).json() as { id: string };
    await call(`/api/quizzes/${q.id}/open`, token);
    const join = async (name: string) =>
      (
        (await a.call({ method: 'POST', url: '/api/join', payload: { code: c.joinCode, name } })).json() as {
          token: string;
        }
      ).token;
    const [s1, s2] = [await join('one'), await join('two')];
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await call(`/api/quizzes/${q.id}/answers`, s1, { answerId: 'same', choices: [0] })).statusCode,
      );
    }
    expect(statuses).toEqual([201, 200, 200, 429]);
    // Another student's token has its own budget.
    expect((await call(`/api/quizzes/${q.id}/answers`, s2, { answerId: 'x', choices: [1] })).statusCode).toBe(
      201,
    );
    const big = await a.call({
      method: 'POST',
      url: `/api/quizzes/${q.id}/answers`,
      token: s2,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ answerId: 'y', text: 'x'.repeat(40_000) }),
    });
    expect(big.statusCode).toBe(413);
  });
});
