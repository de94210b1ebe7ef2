import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';

/**
 * Publishing with a class's stream key, as OBS and Android apps do (server
 * rtmp://HOST:1935/live, key <streamKey>), with real ffmpeg against a real node: the key maps
 * to live/<classId> and starts a lesson; a rotation disconnects the publisher that used the old
 * key, refuses the old key and the new one works; an unknown key is refused with TOKEN_INVALID;
 * right after a lesson ends the key is refused (LESSON_ENDED), an archived class's too.
 * Stream keys never reach the log.
 */
describe('RTMP stream keys', () => {
  let t: TestNode;
  let teacher: string;
  const publishers: Publisher[] = [];

  async function api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${t.http}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await cond()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  function publish(key: string): Publisher {
    const p = publishTestPattern({ url: `${t.rtmp}/${key}`, size: '320x240', rate: 15 });
    publishers.push(p);
    return p;
  }

  beforeAll(async () => {
    t = await startTestNode();
    const admin = await api<{ token: string }>('POST', '/api/auth/login', {
      email: 'admin@airclass.local',
      password: TEST_ADMIN_PASSWORD,
    });
    expect(admin.status).toBe(200);
    const made = await api(
      'POST',
      '/api/users',
      { email: 'teacher@school.test', name: 'Teacher', password: 'teacher-password' },
      admin.body.token,
    );
    expect(made.status).toBe(201);
    teacher = (
      await api<{ token: string }>('POST', '/api/auth/login', {
        email: 'teacher@school.test',
        password: 'teacher-password',
      })
    ).body.token;
  });
  afterAll(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    await t?.stop();
  });

  it('maps the key to live/<classId>, starts a lesson; rotation cuts the old key off', async () => {
    type Cls = { id: string; status: string; rtmp: { server: string; streamKey: string } };
    const created = await api<Cls>('POST', '/api/classes', { title: 'Stream key class' }, teacher);
    expect(created.status).toBe(201);
    const c = created.body;
    expect(c.rtmp.server).toMatch(/^rtmp:\/\/[^/]+:\d+\/live$/);
    const path = `live/${c.id}`;

    const first = publish(c.rtmp.streamKey);
    await until(() => t.node.registry.get(path)?.video !== undefined, 20_000, 'the stream on the class path');
    expect(t.node.registry.get(`live/${c.rtmp.streamKey}`)).toBeUndefined();
    const live = await api<Cls>('GET', `/api/classes/${c.id}`, undefined, teacher);
    expect(live.body.status).toBe('live');

    // Rotating disconnects the publisher that used the old key, at once.
    const rotated = await api<Cls>('POST', `/api/classes/${c.id}/stream-key`, undefined, teacher);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.rtmp.streamKey;
    expect(fresh).not.toBe(c.rtmp.streamKey);
    const cut = await Promise.race([
      first.exited,
      new Promise<number>((r) => setTimeout(() => r(-999), 5000)),
    ]);
    expect(cut, 'the old-key publisher should be disconnected within 5 s').not.toBe(-999);
    await until(() => t.node.registry.get(path)?.state !== 'live', 5000, 'the publisher to leave');

    const old = publish(c.rtmp.streamKey);
    const code = await Promise.race([
      old.exited,
      new Promise<number>((r) => setTimeout(() => r(-999), 20_000)),
    ]);
    expect(code, old.stderrTail()).not.toBe(0);
    expect(code, 'ffmpeg with the old key should be refused, not keep running').not.toBe(-999);
    expect(old.stderrTail()).toContain('TOKEN_INVALID: Unknown stream key.');
    expect(t.node.registry.get(path)?.state).not.toBe('live');

    publish(fresh);
    await until(() => t.node.registry.get(path)?.state === 'live', 20_000, 'the stream with the new key');
  });

  it('refuses an unknown key, the key right after a lesson ended, and an archived class', async () => {
    const unknown = publish('x'.repeat(40));
    expect(await unknown.exited).not.toBe(0);
    expect(unknown.stderrTail()).toContain('TOKEN_INVALID: Unknown stream key.');

    type Cls = { id: string; rtmp: { streamKey: string } };
    const c = (await api<Cls>('POST', '/api/classes', { title: 'Ends' }, teacher)).body;
    expect((await api('POST', `/api/classes/${c.id}/start`, undefined, teacher)).status).toBe(200);
    expect((await api('POST', `/api/classes/${c.id}/end`, undefined, teacher)).status).toBe(200);
    // An encoder reconnecting on its own within the cooldown does not restart the lesson.
    const ended = publish(c.rtmp.streamKey);
    expect(await ended.exited).not.toBe(0);
    expect(ended.stderrTail()).toContain('LESSON_ENDED');
    expect(t.node.registry.get(`live/${c.id}`)?.state ?? 'idle').not.toBe('live');
    expect(
      (await api<Cls & { status: string }>('GET', `/api/classes/${c.id}`, undefined, teacher)).body.status,
    ).toBe('scheduled');
    expect((await api('POST', `/api/classes/${c.id}/archive`, undefined, teacher)).status).toBe(200);
    const archived = publish(c.rtmp.streamKey);
    expect(await archived.exited).not.toBe(0);
    expect(archived.stderrTail()).toContain('CLASS_ARCHIVED');
  });
});
