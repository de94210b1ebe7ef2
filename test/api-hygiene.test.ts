import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';

/**
 * API hygiene (issue 3 item 8): bad input is answered with catalogue codes while everything
 * else keeps working; 5xx text is hidden; OpenAPI at /docs from the validating schemas;
 * security headers that leave the watch page and swagger-ui working; CORS by configuration.
 */
describe('bad input', () => {
  let t: TestApi;
  let teacher: string;

  beforeAll(async () => {
    t = await startTestApi();
    teacher = await t.login((await t.user('teacher')).email);
  });
  afterAll(async () => {
    await t?.close();
  });

  const json = { 'content-type': 'application/json' };

  it('answers malformed JSON with INVALID_JSON (400)', async () => {
    for (const payload of ['{"code": "123456",', '{"a":1}}', 'nope', '{"__proto__": {"x": 1}}']) {
      const res = await t.call({ method: 'POST', url: '/api/join', headers: json, payload });
      expect(res.statusCode, payload).toBe(400);
      expect(res.json().error.code, payload).toMatch(/^(INVALID_JSON|BAD_REQUEST)$/);
    }
  });

  it('answers wrong types with VALIDATION naming the field', async () => {
    const res = await t.call({ method: 'POST', url: '/api/classes', token: teacher, payload: { title: 42 } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION' });
    expect(res.json().error.message).toMatch(/body\/title/);
    const arr = await t.call({ method: 'POST', url: '/api/join', headers: json, payload: '[1,2,3]' });
    expect([arr.statusCode, arr.json().error.code]).toEqual([400, 'VALIDATION']);
    const empty = await t.call({ method: 'POST', url: '/api/join', headers: json, payload: '' });
    expect([empty.statusCode, empty.json().error.code]).toEqual([400, 'VALIDATION']);
  });

  it('refuses bodies over the API limit (16 KiB) with PAYLOAD_TOO_LARGE (413)', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/classes',
      token: teacher,
      payload: { title: 'x'.repeat(20 * 1024) },
    });
    expect([res.statusCode, res.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const text = await t.call({
      method: 'POST',
      url: '/api/join',
      headers: { 'content-type': 'text/plain' },
      payload: 'y'.repeat(64 * 1024),
    });
    expect([text.statusCode, text.json().error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('refuses other content types (415) and unknown routes (404) with codes', async () => {
    const res = await t.call({
      method: 'POST',
      url: '/api/join',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'code=123456&name=x',
    });
    expect([res.statusCode, res.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const missing = await t.call({ method: 'GET', url: '/api/nothing-here' });
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('refuses bad and foreign tokens with TOKEN_* codes', async () => {
    const bad = await t.call({ method: 'GET', url: '/api/auth/me', token: 'not.a.jwt' });
    expect([bad.statusCode, bad.json().error.code]).toEqual([401, 'TOKEN_INVALID']);
    const media = await t.tokens.sign({ sub: 'x', role: 'admin', path: 'live/x', actions: ['read'] }, '1h');
    const asApi = await t.call({ method: 'GET', url: '/api/users', token: media });
    expect([asApi.statusCode, asApi.json().error.code]).toEqual([401, 'TOKEN_INVALID']);
  });

  it('keeps working after all of that', async () => {
    const c = await t.createClass(teacher, 'Still fine');
    const res = await t.call({ method: 'POST', url: '/api/join', payload: { code: c.joinCode, name: 'ok' } });
    expect(res.statusCode).toBe(200);
    expect((await t.call({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('hides the text of internal errors (500 INTERNAL) and keeps serving', async () => {
    const users = t.store.users as unknown as { byEmail: (e: string) => Promise<unknown> };
    const real = users.byEmail;
    users.byEmail = async () => {
      throw new Error('password=hunter2 at db.internal:5432');
    };
    try {
      const res = await t.call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: 'a@b.c', password: 'whatever' },
      });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error.' } });
      expect(res.body).not.toContain('hunter2');
    } finally {
      users.byEmail = real;
    }
    expect((await t.call({ method: 'GET', url: '/api/auth/me', token: teacher })).statusCode).toBe(200);
  });
});

describe('OpenAPI, headers, CORS', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi({ corsOrigins: ['https://portal.school.test'] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the OpenAPI document at /docs/json with the API routes and their schemas', async () => {
    const res = await t.call({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/api/auth/login', 'post'],
      ['/api/users', 'post'],
      ['/api/classes', 'post'],
      ['/api/classes/{id}', 'get'],
      ['/api/classes/{id}/start', 'post'],
      ['/api/classes/{id}/end', 'post'],
      ['/api/classes/{id}/stream-key', 'post'],
      ['/api/classes/{id}/qr.png', 'get'],
      ['/api/classes/{id}/qr.svg', 'get'],
      ['/api/classes/{id}/monitor-link', 'post'],
      ['/api/join', 'post'],
      ['/api/token', 'post'],
      // The AI features (issue 10).
      ['/api/classes/{id}/ai', 'put'],
      ['/api/ai/keys/gemini', 'put'],
      ['/api/quizzes/{id}/analysis', 'get'],
      ['/api/lessons/{id}/questions', 'get'],
      ['/api/lessons/{id}/summary', 'get'],
      ['/api/lessons/{id}/slides', 'get'],
      ['/api/slides/{id}/draft', 'post'],
      ['/api/lessons/{id}/photos', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    // What scripts read of an analysis is in its response schema.
    const analysis = JSON.stringify(doc.paths['/api/quizzes/{id}/analysis']!.get!.responses['200']);
    for (const field of ['provider', 'difficulty', 'discrimination', 'distractors', 'clusters', 'note'])
      expect(analysis, field).toContain(`"${field}"`);
    const join = doc.paths['/api/join']!.post!;
    expect(JSON.stringify(join.requestBody)).toContain('^[0-9]{6}$');
    expect(Object.keys(join.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '410', '429']));
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/web/'))).toBe(false);
    const ui = await t.call({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('sends security headers: CSP that allows our module scripts, WebRTC and media; no HSTS', async () => {
    const page = await t.call({ method: 'GET', url: '/watch/live/x' });
    expect(page.statusCode).toBe(200);
    const h = page.headers;
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['x-frame-options']).toBe('SAMEORIGIN');
    expect(h['strict-transport-security']).toBeUndefined();
    const csp = String(h['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' http: https: ws: wss:");
    expect(csp).toContain('media-src');
    expect(csp).not.toContain('upgrade-insecure-requests');
    // The page's module scripts come from /web/ on this origin.
    expect(page.body).toMatch(/<script type="module"[^>]*\bsrc="\/web\//);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('answers CORS preflights for configured origins only', async () => {
    const pre = (origin: string) =>
      t.call({
        method: 'OPTIONS',
        url: '/api/classes',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const ok = await pre('https://portal.school.test');
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://portal.school.test');
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const no = await pre('https://evil.test');
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });
});
