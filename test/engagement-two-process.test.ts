import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TEST_DATABASE_URL,
  createTestSchema,
  dropTestSchema,
  urlWithSchema,
} from '../src/control/store/testing.ts';
import { startClassroomApp, type ClassroomApp } from './helpers/classroom-app.ts';
import { TEST_REDIS_URL, dropRedisPrefix } from './helpers/redis.ts';
import type { Msg, TestSocket } from './helpers/ws-client.ts';

/**
 * Two control-plane replicas sharing PostgreSQL and Redis: a student on one, the teacher on
 * the other. The student's player state, hand and reactions and the quiz results reach the
 * teacher's replica, whose engagement snapshot shows the student.
 */
type Json = Record<string, unknown>;

describe('engagement across two replicas (PostgreSQL + Redis)', () => {
  let schema: string;
  const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'airclass-2p-'));
  let a: ClassroomApp;
  let b: ClassroomApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    const common = {
      dataDir: dir,
      databaseUrl: urlWithSchema(TEST_DATABASE_URL, schema),
      redisUrl: TEST_REDIS_URL,
      redisPrefix: prefix,
      snapshotMs: 200,
    };
    a = await startClassroomApp(common);
    b = await startClassroomApp(common);
  });
  afterAll(async () => {
    for (const s of sockets) await s.close().catch(() => undefined);
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
    await dropRedisPrefix(prefix);
    if (schema) await dropTestSchema(schema);
  });

  it("shows a student on replica A in the teacher's engagement on replica B", async () => {
    const teacher = (await a.teacher()).token;
    const cls = (
      await a.call({ method: 'POST', url: '/api/classes', token: teacher, payload: { title: '수학' } })
    ).json() as {
      id: string;
      joinCode: string;
    };
    await a.call({ method: 'POST', url: `/api/classes/${cls.id}/start`, token: teacher });
    const j = (
      await a.call({ method: 'POST', url: '/api/join', payload: { code: cls.joinCode, name: '별' } })
    ).json() as {
      token: string;
      participantId: string;
    };
    const tws = await b.connect(teacher, cls.id);
    const sws = await a.connect(j.token);
    sockets.push(tws, sws);
    const mine = (m: Msg) => (m.students as Json[] | undefined)?.find((s) => s.id === j.participantId);

    sws.send({ type: 'engagement.state', playing: 'playing', visible: true });
    await tws.nextOf('engagement', (m) => mine(m)?.watching === true, 10_000);
    sws.send({ type: 'hand.raise' });
    expect(await tws.nextOf('hand.raised')).toMatchObject({ id: j.participantId, name: '별' });
    sws.send({ type: 'reaction', kind: 'clap' });
    expect(await tws.nextOf('reaction')).toMatchObject({ kind: 'clap', from: { id: j.participantId } });

    const q = (
      await b.call({
        method: 'POST',
        url: `/api/classes/${cls.id}/quizzes`,
        token: teacher,
        payload: { kind: 'truefalse', question: '참?', correct: [0], timeLimitSec: 30 },
      })
    ).json() as { id: string };
    await b.call({ method: 'POST', url: `/api/quizzes/${q.id}/open`, token: teacher });
    await sws.nextOf('quiz.opened');
    const res = await a.call({
      method: 'POST',
      url: `/api/quizzes/${q.id}/answers`,
      token: j.token,
      payload: { answerId: 'one', choices: [0] },
    });
    expect(res.statusCode).toBe(201);
    expect(await tws.nextOf('quiz.results', (m) => m.answered === 1)).toMatchObject({
      correct: 1,
      counts: [1, 0],
    });
    sws.send({ type: 'ping', id: 'end' });
    await sws.nextOf('pong');
    expect(sws.messages.filter((m) => m.type === 'quiz.results' || m.type === 'engagement')).toEqual([]);
  }, 30_000);
});
