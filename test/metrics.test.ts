import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubNode } from '../src/sub.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startTestApi, testConfig, type TestApi } from './helpers/api.ts';
import { startClassroomApp, type ClassroomApp } from './helpers/classroom-app.ts';
import { parseSamples, sampleValue } from './helpers/metrics.ts';

/**
 * `GET /metrics` against the real app (issue 11 part 4): who may scrape (loopback, the
 * metricsAllow list, the Bearer metrics token; 401/403 with stable codes otherwise), what a
 * scrape shows after real requests, quiz answers and WebSocket traffic (route patterns, never
 * raw URLs; no secrets), and that each node has its own registry, not prom-client's global one.
 */

/** The value of the first sample named `name` whose labels include `labels`. */
const value = sampleValue;

type Err = { error: { code: string; message: string } };

describe('/metrics access', () => {
  const TOKEN = 'scrape-secret-7f3a9c';
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi({ metricsAllow: ['10.1.0.0/16', '192.0.2.7', 'fd00::/8'], metricsToken: TOKEN });
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = (remoteAddress: string, authorization?: string) =>
    t.app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress,
      headers: authorization ? { authorization } : {},
    });

  it('serves loopback callers (IPv4, IPv6, IPv4-mapped) in the text exposition format', async () => {
    for (const ip of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      const res = await scrape(ip);
      expect(res.statusCode, ip).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body).toContain('# HELP airclass_http_request_duration_seconds ');
      expect(res.body).toContain('# TYPE airclass_viewers gauge');
      expect(res.body).toContain('airclass_nodejs_eventloop_lag_seconds');
    }
  });

  it('serves the allow-list (addresses and CIDRs) without a token', async () => {
    for (const ip of ['10.1.2.3', '10.1.255.1', '192.0.2.7', 'fd00::5', '::ffff:10.1.0.9']) {
      expect((await scrape(ip)).statusCode, ip).toBe(200);
    }
  });

  it('asks anyone else for the Bearer metrics token: 401 TOKEN_MISSING, TOKEN_INVALID', async () => {
    const missing = await scrape('10.2.0.1');
    expect(missing.statusCode).toBe(401);
    expect((missing.json() as Err).error.code).toBe('TOKEN_MISSING');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await scrape('192.0.2.8', 'Bearer not-the-token');
    expect([wrong.statusCode, (wrong.json() as Err).error.code]).toEqual([401, 'TOKEN_INVALID']);
    const basic = await scrape('192.0.2.8', `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`);
    expect([basic.statusCode, (basic.json() as Err).error.code]).toEqual([401, 'TOKEN_MISSING']);
    const ok = await scrape('198.51.100.4', `Bearer ${TOKEN}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('airclass_http_request_duration_seconds_bucket');
    // The refusals do not echo the token, and no scrape shows it.
    expect(wrong.body).not.toContain(TOKEN);
    expect(ok.body).not.toContain(TOKEN);
  });

  it('does not take a proxied request (X-Forwarded-For, Forwarded) from loopback as a local one', async () => {
    for (const headers of [{ 'x-forwarded-for': '203.0.113.5' }, { forwarded: 'for=203.0.113.5' }]) {
      const res = await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers });
      expect([res.statusCode, (res.json() as Err).error.code]).toEqual([401, 'TOKEN_MISSING']);
      const ok = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '127.0.0.1',
        headers: { ...headers, authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.statusCode).toBe(200);
    }
  });

  it('refuses a node with an unusable metricsAllow entry, naming it (CONFIG_INVALID)', async () => {
    await expect(startTestApi({ metricsAllow: ['10.0.0.0/33'] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('10.0.0.0/33'),
    });
    await expect(startTestApi({ metricsAllow: ['school-lan'] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('/metrics without a token configured', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is 403 FORBIDDEN (house error format) for a non-loopback caller, token or not', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Bearer anything']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '203.0.113.9',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(403);
      const body = res.json() as Err;
      expect(body.error.code).toBe('FORBIDDEN');
      expect(Object.keys(body)).toEqual(['error']);
      expect(typeof body.error.message).toBe('string');
    }
  });

  it('keeps a per-address limit well above any scrape interval (429 RATE_LIMITED past 120/min)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 121; i++) {
      codes.push(
        (await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.3' })).statusCode,
      );
    }
    expect(codes.slice(0, 120).every((c) => c === 200)).toBe(true);
    expect(codes[120]).toBe(429);
    // Another scraper address is not affected.
    expect(
      (await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.4' })).statusCode,
    ).toBe(200);
  });
});

describe('/metrics content', () => {
  let a: ClassroomApp;
  let b: TestApi;
  const scrape = async (app = a.app) =>
    parseSamples((await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).body);

  beforeAll(async () => {
    a = await startClassroomApp();
    b = await startTestApi();
  });
  afterAll(async () => {
    await a?.remove();
    await b?.close();
  });

  it('counts requests by route pattern and status class, never by raw URL, and shows no secrets', async () => {
    const { token } = await a.teacher();
    const c = (
      await a.call({ method: 'POST', url: '/api/classes', token, payload: { title: 'Metrics class' } })
    ).json() as { id: string; joinCode: string; streamKey?: string };
    for (let i = 0; i < 3; i++)
      expect((await a.call({ method: 'GET', url: `/api/classes/${c.id}`, token })).statusCode).toBe(200);
    expect((await a.call({ method: 'GET', url: `/api/classes/no-such-${c.id}`, token })).statusCode).toBe(
      404,
    );
    expect((await a.call({ method: 'GET', url: `/nothing/here/${c.id}` })).statusCode).toBe(404);
    const res = await a.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    const s = parseSamples(res.body);
    const count = (route: string, status_class: string) =>
      value(s, 'airclass_http_request_duration_seconds_count', { method: 'GET', route, status_class });
    expect(count('/api/classes/:id', '2xx')).toBe(3);
    expect(count('/api/classes/:id', '4xx')).toBe(1);
    expect(count('unmatched', '4xx')).toBe(1);
    expect(
      value(s, 'airclass_http_request_duration_seconds_count', { method: 'POST', route: '/api/classes' }),
    ).toBe(1);
    for (const secret of [c.id, c.joinCode, token, c.streamKey ?? c.id])
      expect(res.body).not.toContain(secret);
    expect(value(s, 'airclass_db_info', { dialect: 'pglite' })).toBe(1);
    expect(value(s, 'airclass_db_pool_connections')).toBe(1);
  });

  it('counts quiz answers once each, and WebSocket sockets and messages both ways', async () => {
    const { token } = await a.teacher();
    const c = (
      await a.call({ method: 'POST', url: '/api/classes', token, payload: { title: 'Quiz class' } })
    ).json() as { id: string; joinCode: string };
    expect((await a.call({ method: 'POST', url: `/api/classes/${c.id}/start`, token })).statusCode).toBe(200);
    const joined = await a.call({
      method: 'POST',
      url: '/api/join',
      payload: { code: c.joinCode, name: '민수' },
    });
    const student = (joined.json() as { token: string }).token;
    const before = await scrape();
    expect(value(before, 'airclass_ws_sockets_open')).toBe(0);
    const ws = await a.connect(student);
    const q = (
      await a.call({
        method: 'POST',
        url: `/api/classes/${c.id}/quizzes`,
        token,
        payload: { kind: 'single', question: '2+2?', options: ['3', '4'], correct: [1], timeLimitSec: 60 },
      })
    ).json() as { id: string };
    expect((await a.call({ method: 'POST', url: `/api/quizzes/${q.id}/open`, token })).statusCode).toBe(200);
    await ws.nextOf('quiz.opened');
    const answer = { answerId: 'm-1', choices: [1] };
    const url = `/api/quizzes/${q.id}/answers`;
    expect((await a.call({ method: 'POST', url, token: student, payload: answer })).statusCode).toBe(201);
    expect((await a.call({ method: 'POST', url, token: student, payload: answer })).statusCode).toBe(200);
    ws.send({ type: 'ping', id: 'p1' });
    await ws.nextOf('pong');
    const s = await scrape();
    expect(value(s, 'airclass_quiz_answers_total')).toBe(1);
    expect(value(s, 'airclass_ws_sockets_open')).toBe(1);
    expect(value(s, 'airclass_ws_messages_total', { direction: 'in' })).toBeGreaterThanOrEqual(1);
    // Every message the client got (welcome, quiz.opened, pong, …) was counted on its way out.
    expect(ws.messages.length).toBeGreaterThanOrEqual(3);
    expect(value(s, 'airclass_ws_messages_total', { direction: 'out' })).toBeGreaterThanOrEqual(
      ws.messages.length,
    );
    ws.ws.close();
    await ws.closed;
    await expect.poll(async () => value(await scrape(), 'airclass_ws_sockets_open')).toBe(0);
  });

  it("keeps each node's figures in its own registry, never prom-client's global one", async () => {
    await b.call({ method: 'GET', url: '/health' });
    const before = value(await scrape(b.app), 'airclass_http_request_duration_seconds_count', {
      route: '/health',
    });
    for (let i = 0; i < 2; i++) await a.call({ method: 'GET', url: '/health' });
    const mine = value(await scrape(), 'airclass_http_request_duration_seconds_count', { route: '/health' });
    expect(mine).toBeGreaterThanOrEqual(2);
    const other = value(await scrape(b.app), 'airclass_http_request_duration_seconds_count', {
      route: '/health',
    });
    expect(before).toBe(1);
    expect(other).toBe(before);
    const global = (await globalRegistry.getMetricsAsJSON()).map((m) => m.name);
    expect(global.filter((n) => n.startsWith('airclass_'))).toEqual([]);
  });
});

describe('/metrics on a sub node', () => {
  it('serves its media and HTTP metrics (no database, no class channel), with the same access rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-metrics-sub-'));
    const sub = await buildSubNode(
      {
        ...testConfig(dir),
        mainUrl: 'http://127.0.0.1:9',
        nodeToken: 'node-token-not-used',
        nodeName: 'sub-m',
        metricsToken: 'sub-scrape-token',
      },
      createLogger({ level: 'silent' }),
    );
    try {
      await sub.http.ready();
      await sub.http.inject({ method: 'GET', url: '/health' });
      const res = await sub.http.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
      expect(res.statusCode).toBe(200);
      const s = parseSamples(res.body);
      expect(res.body).toContain('# TYPE airclass_viewers gauge');
      expect(res.body).toContain('# TYPE airclass_rtp_packets_sent_total counter');
      expect(value(s, 'airclass_http_request_duration_seconds_count', { route: '/health' })).toBe(1);
      expect(res.body).not.toContain('airclass_db_');
      expect(res.body).not.toContain('airclass_ws_sockets_open');
      expect(res.body).not.toContain('node-token-not-used');
      const far = await sub.http.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.1' });
      expect([far.statusCode, (far.json() as Err).error.code]).toEqual([401, 'TOKEN_MISSING']);
      const ok = await sub.http.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '203.0.113.1',
        headers: { authorization: 'Bearer sub-scrape-token' },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await sub.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
