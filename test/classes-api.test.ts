import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../src/control/store/types.ts';
import { PASSWORD, startTestApi, type TestApi } from './helpers/api.ts';

/**
 * Sign-in, accounts and classes over the real app (inject) and a real PGlite store: what a
 * teacher and an admin do before and during a class.
 */
describe('sign-in and accounts', () => {
  let t: TestApi;
  let admin: User;

  beforeAll(async () => {
    t = await startTestApi();
    admin = await t.user('admin', 'Admin@School.test');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in with email (any case) and password: token, httpOnly SameSite=Lax cookie', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'admin@school.TEST', password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { token: string; expiresIn: number; user: Record<string, unknown> };
    expect(body.user).toMatchObject({ id: admin.id, role: 'admin', email: 'Admin@School.test' });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(body.expiresIn).toBe(12 * 3600);
    expect(decodeJwt(body.token)).toMatchObject({ sub: admin.id, role: 'admin', aud: 'airclass-api' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^airclass_session=[\w.-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).toMatch(/Max-Age=43200/);
  });

  it('marks the cookie Secure when the request came over https (through a proxy)', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'x-forwarded-proto': 'https' },
      payload: { email: admin.email, password: PASSWORD },
    });
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('refuses a wrong password and an unknown email alike (401 AUTH_FAILED)', async () => {
    for (const payload of [
      { email: admin.email, password: 'wrong password' },
      { email: 'nobody@school.test', password: PASSWORD },
    ]) {
      const res = await t.call({ method: 'POST', url: '/api/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: { code: 'AUTH_FAILED', message: 'Wrong email or password.' } });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('uses the session cookie like a Bearer token, and logout clears it', async () => {
    const login = await t.call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: admin.email, password: PASSWORD },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const me = await t.call({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ sub: admin.id, role: 'admin', user: { email: admin.email } });
    const out = await t.call({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/airclass_session=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('refuses cookie-authenticated writes from a foreign origin, allows our own', async () => {
    const cookie = `airclass_session=${await t.session(admin)}`;
    const payload = { title: 'From a page' };
    const foreign = await t.call({
      method: 'POST',
      url: '/api/classes',
      headers: { cookie, origin: 'http://evil.test:3000', host: 'class.test:8000' },
      payload,
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('ORIGIN_FORBIDDEN');
    const own = await t.call({
      method: 'POST',
      url: '/api/classes',
      headers: { cookie, origin: 'http://class.test:8000', host: 'class.test:8000' },
      payload,
    });
    expect(own.statusCode).toBe(201);
  });

  it('lets the admin create teachers who then sign in; refuses a taken email and a short password', async () => {
    const token = await t.session(admin);
    const create = (payload: object) => t.call({ method: 'POST', url: '/api/users', token, payload });
    const res = await create({ email: 'kim@school.test', name: '김선생', password: 'teacher-pass' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ email: 'kim@school.test', name: '김선생', role: 'teacher' });
    expect(res.json()).not.toHaveProperty('passwordHash');
    expect(await t.login('kim@school.test', 'teacher-pass')).toMatch(/^ey/);

    const dup = await create({ email: 'KIM@school.test', name: 'x', password: 'teacher-pass' });
    expect([dup.statusCode, dup.json().error.code]).toEqual([409, 'EMAIL_TAKEN']);
    const short = await create({ email: 'lee@school.test', name: 'x', password: 'short' });
    expect([short.statusCode, short.json().error.code]).toEqual([400, 'VALIDATION']);

    const list = await t.call({ method: 'GET', url: '/api/users', token });
    expect(list.json().users.map((u: { email: string }) => u.email)).toContain('kim@school.test');
  });

  it('stops a deleted or demoted account at once (the token is checked against the account)', async () => {
    const forged = await t.tokens.signAccess(
      { sub: '00000000-0000-4000-8000-000000000000', role: 'admin' },
      '1h',
    );
    const res = await t.call({ method: 'GET', url: '/api/users', token: forged });
    expect([res.statusCode, res.json().error.code]).toEqual([401, 'TOKEN_INVALID']);
    const teacher = await t.user('teacher');
    const asAdmin = await t.tokens.signAccess({ sub: teacher.id, role: 'admin' }, '1h');
    expect((await t.call({ method: 'GET', url: '/api/users', token: asAdmin })).statusCode).toBe(401);
  });
});

describe('classes', () => {
  let t: TestApi;
  let teacher: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestApi();
    teacher = await t.login((await t.user('teacher')).email);
    other = await t.login((await t.user('teacher')).email);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a class with a 6-digit join code, an RTMP server + key and the join link', async () => {
    const c = await t.createClass(teacher, '  3학년 수학  ');
    expect(c).toMatchObject({ title: '3학년 수학', status: 'scheduled', startedAt: null, endedAt: null });
    expect(c.joinCode).toMatch(/^[0-9]{6}$/);
    const v = c as unknown as Record<string, unknown>;
    expect(v.joinUrl).toBe(`http://class.test:8000/join?code=${c.joinCode}`);
    expect(v.path).toBe(`live/${c.id}`);
    expect(v.whepUrl).toBe(`http://class.test:8000/live/${c.id}/whep`);
    const rtmp = v.rtmp as { server: string; streamKey: string; url: string };
    expect(rtmp.server).toBe('rtmp://class.test:1935/live');
    expect(rtmp.streamKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(rtmp.url).toBe(`rtmp://class.test:1935/live/${rtmp.streamKey}`);
  });

  it("lists a teacher's own classes only; gets one by id; 404 for an unknown id", async () => {
    const mine = await t.createClass(teacher, 'Mine');
    const theirs = await t.createClass(other, 'Theirs');
    const list = (await t.call({ method: 'GET', url: '/api/classes', token: teacher })).json().classes as {
      id: string;
    }[];
    expect(list.map((c) => c.id)).toContain(mine.id);
    expect(list.map((c) => c.id)).not.toContain(theirs.id);
    const got = await t.call({ method: 'GET', url: `/api/classes/${mine.id}`, token: teacher });
    expect(got.json()).toMatchObject({ id: mine.id, title: 'Mine', joinCode: mine.joinCode });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await t.call({ method: 'GET', url: `/api/classes/${id}`, token: teacher });
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'CLASS_NOT_FOUND']);
    }
  });

  it('runs lessons: start (idempotent), end (final), the next lesson with the same code; archive', async () => {
    const c = await t.createClass(teacher, 'Lifecycle');
    const post = (what: string) =>
      t.call({ method: 'POST', url: `/api/classes/${c.id}/${what}`, token: teacher });
    const started = await post('start');
    expect(started.json()).toMatchObject({ status: 'live', endedAt: null, archived: false });
    expect(started.json().lesson).toMatchObject({ number: 1, endedAt: null });
    expect(started.json().startedAt).toMatch(/^\d{4}-/);
    expect((await post('start')).json().lesson.id).toBe(started.json().lesson.id);
    const ended = await post('end');
    expect(ended.json()).toMatchObject({ status: 'scheduled', lesson: null, joinCode: c.joinCode });
    expect(ended.json().lastLesson).toMatchObject({ number: 1, id: started.json().lesson.id });
    expect(ended.json().lastLesson.endedAt).toMatch(/^\d{4}-/);
    expect((await post('end')).statusCode).toBe(200);
    const next = await post('start');
    expect(next.json()).toMatchObject({ status: 'live', lesson: { number: 2 }, joinCode: c.joinCode });
    const lessons = await t.call({ method: 'GET', url: `/api/classes/${c.id}/lessons`, token: teacher });
    expect(lessons.json().lessons.map((l: { number: number }) => l.number)).toEqual([2, 1]);
    const archived = await post('archive');
    expect(archived.json()).toMatchObject({ status: 'archived', archived: true, lesson: null });
    const again = await post('start');
    expect([again.statusCode, again.json().error.code]).toEqual([410, 'CLASS_ARCHIVED']);
    const rotate = await post('stream-key');
    expect([rotate.statusCode, rotate.json().error.code]).toEqual([410, 'CLASS_ARCHIVED']);
    const join = await t.call({
      method: 'POST',
      url: '/api/join',
      payload: { code: c.joinCode, name: 'Late' },
    });
    expect([join.statusCode, join.json().error.code]).toEqual([410, 'CLASS_ARCHIVED']);
    const mine = t.events.filter((e) => e.classId === c.id).map((e) => e.event.type);
    expect(mine).toEqual(['class.started', 'class.ended', 'class.started', 'class.ended']);
    const ev = t.events.find((e) => e.classId === c.id)!.event;
    expect(ev.class).toMatchObject({ id: c.id, title: 'Lifecycle', status: 'live' });
    expect(JSON.stringify(t.events)).not.toContain(c.joinCode);
  });

  it('rotates the stream key: a new key, the old one no longer finds the class', async () => {
    const c = (await t.createClass(teacher, 'Keys')) as unknown as {
      id: string;
      rtmp: { streamKey: string };
    };
    const res = await t.call({ method: 'POST', url: `/api/classes/${c.id}/stream-key`, token: teacher });
    expect(res.statusCode).toBe(200);
    const fresh = res.json().rtmp.streamKey as string;
    expect(fresh).not.toBe(c.rtmp.streamKey);
    expect(await t.store.classes.byStreamKey(c.rtmp.streamKey)).toBeUndefined();
    expect((await t.store.classes.byStreamKey(fresh))?.id).toBe(c.id);
  });

  it('renames a class; a title of spaces is refused on create and rename', async () => {
    const c = await t.createClass(teacher, 'Before');
    const res = await t.call({
      method: 'PATCH',
      url: `/api/classes/${c.id}`,
      token: teacher,
      payload: { title: '  After  ' },
    });
    expect(res.json()).toMatchObject({ title: 'After' });
    for (const req of [
      { method: 'POST' as const, url: '/api/classes' },
      { method: 'PATCH' as const, url: `/api/classes/${c.id}` },
    ]) {
      const bad = await t.call({ ...req, token: teacher, payload: { title: ' \u200b  \t ' } });
      expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'VALIDATION']);
    }
    const theirs = await t.call({
      method: 'PATCH',
      url: `/api/classes/${c.id}`,
      token: other,
      payload: { title: 'Mine now' },
    });
    expect(theirs.statusCode).toBe(403);
  });

  it('draws the join link as a PNG of the asked size and as an SVG', async () => {
    const c = await t.createClass(teacher, 'QR');
    const png = await t.call({ method: 'GET', url: `/api/classes/${c.id}/qr.png`, token: teacher });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    const buf = png.rawPayload;
    expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(buf.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect([buf.readUInt32BE(16), buf.readUInt32BE(20)]).toEqual([512, 512]);
    const small = await t.call({
      method: 'GET',
      url: `/api/classes/${c.id}/qr.png?size=200`,
      token: teacher,
    });
    expect([small.rawPayload.readUInt32BE(16), small.rawPayload.readUInt32BE(20)]).toEqual([200, 200]);
    const bad = await t.call({
      method: 'GET',
      url: `/api/classes/${c.id}/qr.png?size=99999`,
      token: teacher,
    });
    expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'VALIDATION']);

    const svg = await t.call({ method: 'GET', url: `/api/classes/${c.id}/qr.svg`, token: teacher });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*viewBox="0 0 \d+ \d+"/);
    expect(svg.body.trim().endsWith('</svg>')).toBe(true);
  });

  it('makes a monitor share link: read-only, one class, watches the stream, sees the roster', async () => {
    const c = await t.createClass(teacher, 'Monitored');
    const res = await t.call({ method: 'POST', url: `/api/classes/${c.id}/monitor-link`, token: teacher });
    expect(res.statusCode).toBe(201);
    const { url, token } = res.json() as { url: string; token: string };
    expect(url).toBe(`http://class.test:8000/monitor#token=${token}`);
    expect(decodeJwt(token)).toMatchObject({
      role: 'monitor',
      cls: c.id,
      path: `live/${c.id}`,
      act: ['read'],
    });
    await t.call({ method: 'POST', url: '/api/join', payload: { code: c.joinCode, name: '민지' } });
    const roster = await t.call({ method: 'GET', url: `/api/classes/${c.id}/participants`, token });
    expect(roster.statusCode).toBe(200);
    expect(roster.json().participants).toMatchObject([{ name: '민지', role: 'student', leftAt: null }]);
    const view = await t.call({ method: 'GET', url: `/api/classes/${c.id}`, token });
    expect(view.json()).not.toHaveProperty('rtmp');
    expect(view.json()).not.toHaveProperty('joinCode');
    const write = await t.call({ method: 'POST', url: `/api/classes/${c.id}/end`, token });
    expect([write.statusCode, write.json().error.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('gives the teacher a media token for preview (WHEP) and screen sharing (WHIP)', async () => {
    const c = await t.createClass(teacher, 'Media');
    const res = await t.call({ method: 'POST', url: `/api/classes/${c.id}/media-token`, token: teacher });
    expect(res.json()).toMatchObject({
      path: `live/${c.id}`,
      whepUrl: `http://class.test:8000/live/${c.id}/whep`,
      whipUrl: `http://class.test:8000/live/${c.id}/whip`,
    });
    await expect(t.tokens.authorize(res.json().token, `live/${c.id}`, 'publish')).resolves.toBeDefined();
    await expect(t.tokens.authorize(res.json().token, `live/${c.id}`, 'read')).resolves.toBeDefined();
  });

  it("lets an admin preview any class: the admin's media token passes the WHEP gate (regression)", async () => {
    const c = await t.createClass(teacher, 'Admin preview');
    const admin = await t.session(await t.user('admin'));
    const res = await t.call({ method: 'POST', url: `/api/classes/${c.id}/media-token`, token: admin });
    expect(res.statusCode).toBe(200);
    // Nothing is published: the gate let the token through, so WHEP says "not live", not 401.
    const whep = await t.call({
      method: 'POST',
      url: `/live/${c.id}/whep`,
      token: res.json().token,
      headers: { 'content-type': 'application/sdp' },
      payload: 'v=0\r\n',
    });
    expect([whep.statusCode, whep.json().error.code]).toEqual([409, 'STREAM_NOT_LIVE']);
  });

  it('keeps the legacy POST /api/token for a signed-in teacher and their own classes', async () => {
    const c = await t.createClass(teacher, 'Legacy');
    const url = (q: string) => `/api/token?${q}`;
    const res = await t.call({
      method: 'POST',
      url: url(`user_type=student&user_id=test001&action=read&stream=${c.id}`),
      token: teacher,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      user_type: 'student',
      user_id: 'test001',
      action: 'read',
      path: `live/${c.id}`,
    });
    expect(body.webrtc_url).toBe(`http://class.test:8000/live/${c.id}/whep?jwt=${body.token}`);
    expect(body.expires_in).toBe(7200);
    expect(decodeJwt(body.token)).toMatchObject({ sub: 'test001', role: 'student', act: ['read'] });

    const publish = await t.call({
      method: 'POST',
      url: url(`user_type=teacher&user_id=t1&action=publish&path=live/${c.id}`),
      token: teacher,
    });
    expect(publish.json().webrtc_url).toMatch(/\/whip\?jwt=/);
    const studentPublish = await t.call({
      method: 'POST',
      url: url(`user_type=student&user_id=s&action=publish&stream=${c.id}`),
      token: teacher,
    });
    expect([studentPublish.statusCode, studentPublish.json().error.code]).toEqual([403, 'FORBIDDEN']);
    // The old anonymous call gets nothing now; another teacher's class neither.
    const anon = await t.call({ method: 'POST', url: url('user_type=student&user_id=test001&action=read') });
    expect([anon.statusCode, anon.json().error.code]).toEqual([401, 'TOKEN_MISSING']);
    const foreign = await t.call({
      method: 'POST',
      url: url(`user_type=student&user_id=x&stream=${c.id}`),
      token: other,
    });
    expect(foreign.statusCode).toBe(403);
    const noStream = await t.call({
      method: 'POST',
      url: url('user_type=student&user_id=x'),
      token: teacher,
    });
    expect([noStream.statusCode, noStream.json().error.code]).toEqual([400, 'VALIDATION']);
  });
});
