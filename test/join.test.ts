import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';

/**
 * Students joining by code (issue 3 item 4): a good code, a wrong one, an ended class, the
 * rate limit; the token a student gets works for the API and for WHEP on its class only.
 */
describe('join by code', () => {
  let t: TestApi;
  let teacher: string;

  beforeAll(async () => {
    t = await startTestApi({ joinRateLimit: 1000 });
    teacher = await t.login((await t.user('teacher')).email);
  });
  afterAll(async () => {
    await t?.close();
  });

  const join = (payload: unknown) => t.call({ method: 'POST', url: '/api/join', payload: payload as object });

  it('answers a good code with a student token, the WHEP and WebSocket URLs, and records attendance', async () => {
    const c = await t.createClass(teacher, '과학');
    const res = await join({ code: c.joinCode, name: '  민지\u0007  ' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      name: '민지',
      class: { id: c.id, title: '과학', status: 'scheduled' },
      path: `live/${c.id}`,
      whepUrl: `http://class.test:8000/live/${c.id}/whep`,
      watchUrl: `http://class.test:8000/watch/live/${c.id}`,
      wsUrl: 'ws://class.test:8000/ws',
      expiresIn: 6 * 3600,
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({
      sub: body.participantId,
      role: 'student',
      cls: c.id,
      name: '민지',
      path: `live/${c.id}`,
      act: ['read'],
      aud: ['airclass-api', 'airclass-media'],
    });
    const roster = await t.store.participants.listByClass(c.id);
    expect(roster).toMatchObject([{ id: body.participantId, name: '민지', role: 'student', leftAt: null }]);
  });

  it('lets the student token read its class over the API and WHEP, and nothing else', async () => {
    const c = await t.createClass(teacher, 'Mine');
    const other = await t.createClass(teacher, 'Other');
    const { token } = (await join({ code: c.joinCode, name: 'Jisu' })).json() as { token: string };
    const own = await t.call({ method: 'GET', url: `/api/classes/${c.id}`, token });
    expect(own.statusCode).toBe(200);
    expect(own.json()).not.toHaveProperty('rtmp');
    expect(own.json()).not.toHaveProperty('joinCode');
    expect((await t.call({ method: 'GET', url: `/api/classes/${other.id}`, token })).statusCode).toBe(403);
    expect((await t.call({ method: 'GET', url: '/api/classes', token })).statusCode).toBe(403);
    // WHEP: passes authorization on its own path (409: nothing live yet), refused elsewhere.
    const offer = { headers: { 'content-type': 'application/sdp' }, payload: 'v=0\r\n' };
    const whep = await t.call({ method: 'POST', url: `/live/${c.id}/whep`, token, ...offer });
    expect([whep.statusCode, whep.json().error.code]).toEqual([409, 'STREAM_NOT_LIVE']);
    const q = await t.call({ method: 'POST', url: `/live/${c.id}/whep?jwt=${token}`, ...offer });
    expect(q.statusCode).toBe(409);
    const elsewhere = await t.call({ method: 'POST', url: `/live/${other.id}/whep`, token, ...offer });
    expect([elsewhere.statusCode, elsewhere.json().error.code]).toEqual([403, 'TOKEN_SCOPE']);
    await expect(t.tokens.authorize(token, `live/${c.id}`, 'publish')).rejects.toMatchObject({
      code: 'TOKEN_SCOPE',
    });
  });

  it('refuses a wrong code with JOIN_CODE_INVALID (404)', async () => {
    await t.createClass(teacher, 'Somewhere');
    const used = new Set((await t.store.classes.listAll()).map((c) => c.joinCode));
    let wrong = 0;
    while (used.has(String(wrong).padStart(6, '0'))) wrong++;
    const res = await join({ code: String(wrong).padStart(6, '0'), name: 'Kim' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'JOIN_CODE_INVALID', message: 'No class is open with this join code.' },
    });
  });

  it('refuses the code of an archived class with CLASS_ARCHIVED (410) and records nobody', async () => {
    const c = await t.createClass(teacher, 'Over');
    await t.call({ method: 'POST', url: `/api/classes/${c.id}/archive`, token: teacher });
    const res = await join({ code: c.joinCode, name: 'Late' });
    expect([res.statusCode, res.json().error.code]).toEqual([410, 'CLASS_ARCHIVED']);
    expect(await t.store.participants.listByClass(c.id)).toEqual([]);
  });

  it('keeps the code after a lesson ends: the next lesson is joined with it, a new token', async () => {
    const c = await t.createClass(teacher, 'Weekly');
    await t.call({ method: 'POST', url: `/api/classes/${c.id}/start`, token: teacher });
    const first = await join({ code: c.joinCode, name: 'Mina' });
    await t.call({ method: 'POST', url: `/api/classes/${c.id}/end`, token: teacher });
    const old = await t.call({ method: 'GET', url: `/api/classes/${c.id}`, token: first.json().token });
    expect([old.statusCode, old.json().error.code]).toEqual([410, 'LESSON_ENDED']);
    const again = await join({ code: c.joinCode, name: 'Mina' });
    expect(again.json().class).toMatchObject({ id: c.id, status: 'scheduled' });
    const ok = await t.call({ method: 'GET', url: `/api/classes/${c.id}`, token: again.json().token });
    expect(ok.statusCode).toBe(200);
  });

  it('joins a live class too, and says it is live', async () => {
    const c = await t.createClass(teacher, 'Live');
    await t.call({ method: 'POST', url: `/api/classes/${c.id}/start`, token: teacher });
    const res = await join({ code: c.joinCode, name: 'On time' });
    expect(res.json().class.status).toBe('live');
  });

  it('answers malformed join requests with VALIDATION and keeps serving', async () => {
    const c = await t.createClass(teacher, 'Strict');
    for (const payload of [
      {},
      { code: c.joinCode },
      { code: Number(c.joinCode), name: 'Number code' },
      { code: c.joinCode, name: true },
      { code: c.joinCode, name: '' },
      { code: c.joinCode, name: '\u0001\u0002' },
      { code: '12345', name: 'short' },
      { code: c.joinCode, name: 'x'.repeat(41) },
      { code: c.joinCode, name: 'extra', admin: true },
    ]) {
      const res = await join(payload);
      expect([res.statusCode, res.json().error.code], JSON.stringify(payload)).toEqual([400, 'VALIDATION']);
    }
    expect((await join({ code: c.joinCode, name: 'Fine' })).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi({ joinRateLimit: 3, loginRateLimit: 2 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits join attempts per address: 429 RATE_LIMITED with Retry-After', async () => {
    const from = (ip: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/join',
        remoteAddress: ip,
        payload: { code: '000000', name: 'x' },
      });
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.1')).statusCode).not.toBe(429);
    const limited = await from('10.0.0.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    // Another address is not affected.
    expect((await from('10.0.0.2')).statusCode).not.toBe(429);
  });

  it('limits sign-in attempts per address the same way', async () => {
    const login = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '10.0.0.9',
        payload: { email: 'who@school.test', password: 'guess' },
      });
    expect((await login()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(401);
    const limited = await login();
    expect([limited.statusCode, limited.json().error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe.each(['pglite', 'postgres'] as const)('join flows on %s', (backend) => {
  let t: TestApi;
  let teacher: string;

  beforeAll(async () => {
    t = await startTestApi({}, backend);
    teacher = await t.login((await t.user('teacher')).email);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('joins with a good code, refuses a wrong one and an archived class', async () => {
    const c = await t.createClass(teacher, backend);
    const join = (code: string) => t.call({ method: 'POST', url: '/api/join', payload: { code, name: 'A' } });
    expect((await join(c.joinCode)).statusCode).toBe(200);
    const other = c.joinCode === '000000' ? '000001' : '000000';
    expect((await join(other)).json().error.code).toBe('JOIN_CODE_INVALID');
    await t.call({ method: 'POST', url: `/api/classes/${c.id}/archive`, token: teacher });
    expect((await join(c.joinCode)).json().error.code).toBe('CLASS_ARCHIVED');
    // A new class may get the archived class's code again; joining then finds the new class.
    const again = await t.classroom.classes.create(c.teacherId, 'Next');
    expect((await join(again.joinCode)).json().class.id).toBe(again.id);
  });
});
