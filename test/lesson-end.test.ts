import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { whepView } from './helpers/werift-viewer.ts';
import { TestSocket } from './helpers/ws-client.ts';

/**
 * Ending a lesson is final and immediate (issue 6, found when tried: 1 and 3), on a real node
 * with real ffmpeg publishing and a real WHEP viewer: the publisher is disconnected within
 * 5 s, /health no longer shows the path, the viewer's saved token (student) and the media
 * tokens (`/media-token`, legacy `/api/token`) are refused, a key publish within the cooldown
 * is refused; the teacher's socket sees the stream drop (`stream.waiting`) and stats.
 */
describe('ending a lesson', () => {
  let t: TestNode;
  let teacher: string;
  const publishers: Publisher[] = [];
  type Cls = { id: string; joinCode: string; status: string; rtmp: { streamKey: string } };

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

  function publish(url: string): Publisher {
    const p = publishTestPattern({ url, size: '320x240', rate: 15 });
    publishers.push(p);
    return p;
  }

  /** Resolves with ffmpeg's exit code, or -999 when it is still running after `ms`. */
  const exitWithin = (p: Publisher, ms: number) =>
    Promise.race([p.exited, new Promise<number>((r) => setTimeout(() => r(-999), ms))]);

  beforeAll(async () => {
    t = await startTestNode();
    const admin = await api<{ token: string }>('POST', '/api/auth/login', {
      email: 'admin@airclass.local',
      password: TEST_ADMIN_PASSWORD,
    });
    await api(
      'POST',
      '/api/users',
      { email: 'teacher@school.test', name: 'Teacher', password: 'teacher-password' },
      admin.body.token,
    );
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

  it('disconnects the publisher, closes viewers and refuses every token of the lesson', async () => {
    const c = (await api<Cls>('POST', '/api/classes', { title: 'Final' }, teacher)).body;
    const path = `live/${c.id}`;
    const student = (await api<{ token: string }>('POST', '/api/join', { code: c.joinCode, name: '민지' }))
      .body.token;
    const media = (
      await api<{ token: string }>('POST', `/api/classes/${c.id}/media-token`, undefined, teacher)
    ).body.token;
    const legacy = (
      await api<{ token: string }>(
        'POST',
        `/api/token?user_type=teacher&user_id=t1&action=publish&stream=${c.id}`,
        undefined,
        teacher,
      )
    ).body.token;
    const ws = await TestSocket.open(`${t.http.replace('http', 'ws')}/ws?classId=${c.id}`, {
      authorization: `Bearer ${teacher}`,
    });
    const studentWs = await TestSocket.open(`${t.http.replace('http', 'ws')}/ws?token=${student}`);

    const encoder = publish(`${t.rtmp}/${c.rtmp.streamKey}`);
    await until(() => t.node.registry.get(path)?.video !== undefined, 20_000, 'the stream');
    expect((await api<Cls>('GET', `/api/classes/${c.id}`, undefined, teacher)).body.status).toBe('live');
    const viewer = await whepView(`${t.http}/${path}/whep`, student);
    expect(viewer.status).toBe(201);
    await viewer.connected;
    await ws.next((m) => m.type === 'stream.stats', 8000);
    const view = await api<{ stream: { live: boolean; width: number; viewers: number } }>(
      'GET',
      `/api/classes/${c.id}`,
      undefined,
      teacher,
    );
    expect(view.body.stream).toMatchObject({ live: true, width: 320, viewers: 1 });

    expect((await api('POST', `/api/classes/${c.id}/end`, undefined, teacher)).status).toBe(200);
    // The encoder is cut off at once (no 30 s grace), the viewer's session closed.
    expect(await exitWithin(encoder, 5000), 'publisher disconnected within 5 s').not.toBe(-999);
    await until(() => t.node.whep.viewers(path) === 0, 5000, 'the viewer to be closed');
    const health = (await api<{ paths: { path: string; state: string }[] }>('GET', '/health')).body;
    expect(health.paths.filter((p) => p.path === path && p.state !== 'idle')).toEqual([]);
    // The student's socket got the final event, then closed for good.
    expect(await studentWs.closed).toMatchObject({ code: 4000, reason: 'LESSON_ENDED' });
    expect(studentWs.messages.some((m) => m.type === 'class.ended')).toBe(true);
    await viewer.close();

    // A saved watch link (the student token) no longer plays, and the API refuses it too.
    const again = await whepView(`${t.http}/${path}/whep`, student);
    expect(again.status).toBe(410);
    expect(JSON.parse(again.answer)).toMatchObject({ error: { code: 'LESSON_ENDED' } });
    const me = await api<{ error: { code: string } }>('GET', `/api/classes/${c.id}`, undefined, student);
    expect([me.status, me.body.error.code]).toEqual([410, 'LESSON_ENDED']);

    // Neither media token of the lesson publishes any more.
    for (const token of [media, legacy]) {
      const p = publish(`${t.rtmp}/${c.id}?token=${token}`);
      expect(await exitWithin(p, 20_000)).not.toBe(0);
      expect(p.stderrTail()).toContain('LESSON_ENDED');
    }
    // An encoder reconnecting with the key within the cooldown does not restart the lesson.
    const reconnect = publish(`${t.rtmp}/${c.rtmp.streamKey}`);
    expect(await exitWithin(reconnect, 20_000)).not.toBe(0);
    expect(reconnect.stderrTail()).toContain('LESSON_ENDED');
    expect(t.node.registry.get(path)?.state ?? 'idle').toBe('idle');
    await ws.close();
  });

  it('tells the teacher at once when the encoder drops', async () => {
    const c = (await api<Cls>('POST', '/api/classes', { title: 'Drop' }, teacher)).body;
    const ws = await TestSocket.open(`${t.http.replace('http', 'ws')}/ws?classId=${c.id}`, {
      authorization: `Bearer ${teacher}`,
    });
    const encoder = publish(`${t.rtmp}/${c.rtmp.streamKey}`);
    await ws.next((m) => m.type === 'stream.live', 20_000);
    const from = ws.messages.length;
    encoder.proc.kill('SIGKILL');
    const waiting = await ws.next((m) => m.type === 'stream.waiting', 5000, from);
    expect(waiting).toMatchObject({ path: `live/${c.id}` });
    const view = await api<{ stream: { live: boolean; state: string } }>(
      'GET',
      `/api/classes/${c.id}`,
      undefined,
      teacher,
    );
    expect(view.body.stream).toMatchObject({ live: false, state: 'waiting' });
    await ws.close();
  });
});
