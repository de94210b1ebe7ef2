/**
 * Scale-out (issue 3 item 7): two real `airclass start` processes sharing PostgreSQL (their own
 * schema of the test database) and Redis (their own key prefix). A teacher on one and a student
 * on the other chat both ways, see each other's presence and class events, and a student who
 * reconnects to the other process gets what it missed.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
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
import { TEST_REDIS_URL, dropRedisPrefix } from './helpers/redis.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { TestSocket, type Msg } from './helpers/ws-client.ts';

const ADMIN = { email: 'admin@airclass.local', password: 'admin-pass-for-tests-1' };
const isChat = (text: string) => (m: Msg) => m.type === 'chat.message' && m.text === text;

async function api<T>(base: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

const wsBase = (s: TestServer) => s.httpUrl.replace(/^http/, 'ws') + '/ws';

describe('two AirClass processes sharing PostgreSQL and Redis', () => {
  let schema: string;
  const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
  const dirs: string[] = [];
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    schema = await createTestSchema();
    const env = {
      DATABASE_URL: urlWithSchema(TEST_DATABASE_URL, schema),
      REDIS_URL: TEST_REDIS_URL,
      AIRCLASS_REDIS_PREFIX: prefix,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_AUDIO_TRANSCODE: 'false',
      AIRCLASS_LOG_LEVEL: 'warn',
      AIRCLASS_HOST: '127.0.0.1',
    };
    const dirA = mkdtempSync(join(tmpdir(), 'airclass-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'airclass-b-'));
    dirs.push(dirA, dirB);
    a = await startServer({ dataDir: dirA, env });
    // Replicas share one signing key (as a deployment gives them the same key).
    cpSync(join(dirA, 'keys'), join(dirB, 'keys'), { recursive: true });
    b = await startServer({ dataDir: dirB, env });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    if (schema) await dropTestSchema(schema);
    await dropRedisPrefix(prefix);
  });

  it('delivers a chat from a teacher on one process to a student on the other, and back', async () => {
    const admin = await api<{ token: string }>(a.httpUrl, '/auth/login', ADMIN);
    await api(
      a.httpUrl,
      '/users',
      { email: 'kim@school.kr', name: 'Teacher Kim', password: 'teacher-pass-1' },
      admin.token,
    );
    const teacher = await api<{ token: string }>(b.httpUrl, '/auth/login', {
      email: 'kim@school.kr',
      password: 'teacher-pass-1',
    });
    const cls = await api<{ id: string; joinCode: string }>(
      a.httpUrl,
      '/classes',
      { title: 'Science' },
      teacher.token,
    );
    const joined = await api<{ token: string; wsUrl: string }>(b.httpUrl, '/join', {
      code: cls.joinCode,
      name: '민지',
    });
    expect(joined.wsUrl).toMatch(/\/ws$/);

    const t = await TestSocket.open(`${wsBase(a)}?token=${teacher.token}&classId=${cls.id}`);
    await t.nextOf('welcome');
    const s = await TestSocket.open(`${wsBase(b)}?token=${joined.token}`);
    const welcome = await s.nextOf('welcome');
    // The roster is shared: the student on B sees the teacher connected to A.
    expect((welcome.roster as { name: string }[]).map((r) => r.name).sort()).toEqual(['Teacher Kim', '민지']);
    await t.nextOf('presence.join', (m) => (m.participant as { name: string }).name === '민지');

    t.send({ type: 'chat.send', text: 'Hello from process A' });
    const got = await s.next(isChat('Hello from process A'));
    expect(got.from).toMatchObject({ name: 'Teacher Kim', role: 'teacher' });
    s.send({ type: 'chat.send', text: '네, 들려요 (from B)' });
    await t.next(isChat('네, 들려요 (from B)'));

    // A lifecycle change made through A's API reaches the student on B.
    await api(a.httpUrl, `/classes/${cls.id}/start`, {}, teacher.token);
    const started = await s.nextOf('class.started');
    const cursor = started.seq!;

    // The student drops, misses a message and a lock, and comes back on the other process.
    await s.close();
    await t.nextOf('presence.leave');
    t.send({ type: 'chat.send', text: 'You missed this' });
    t.send({ type: 'chat.lock', locked: true });
    await t.nextOf('chat.locked');
    const back = await TestSocket.open(`${wsBase(a)}?token=${joined.token}&since=${cursor}`);
    const replayed = await back.nextOf('replayed');
    const missed = back.messages.slice(1, back.messages.indexOf(replayed));
    expect(missed.map((m) => m.type)).toEqual(['chat.message', 'chat.locked']);
    expect(missed[0]).toMatchObject({ text: 'You missed this' });
    expect(back.all('welcome')[0]!.class).toMatchObject({ status: 'live', chatLocked: true });

    await back.close();
    await t.close();
  });
});
