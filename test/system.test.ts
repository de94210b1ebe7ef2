import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';

/** `GET /api/system`: the admin's view of the node; nobody else's; no secrets in it. */
const PKG = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};
/** The version of the ffmpeg on PATH, as `ffmpeg -version` prints it (the node finds that one). */
const FFMPEG = /^ffmpeg version (\S+)/m.exec(
  spawnSync('ffmpeg', ['-version'], { encoding: 'utf8' }).stdout ?? '',
)?.[1];
const SECRETS = {
  // Not the store the test uses (that one is passed in): only what the config says.
  databaseUrl: 'postgres://airclass:db-Secret-4711@db.school.test:5432/airclass',
  nodeToken: 'node-Secret-2024',
};

describe('GET /api/system', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi({ ...SECRETS, portOffset: 7, nodeName: 'main-a' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("gives an admin the node's addresses, versions, database, uptime and ports", async () => {
    const admin = await t.session(await t.user('admin'));
    const res = await t.call({ method: 'GET', url: '/api/system', token: admin });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      role: 'main',
      name: 'main-a',
      publicHost: 'class.test',
      publicUrl: 'http://class.test:8007',
      versions: { airclass: PKG.version, node: process.versions.node, ffmpeg: FFMPEG ?? null },
      database: { kind: 'pglite', version: expect.stringMatching(/^\d+(\.\d+)*/) },
      redis: false,
      ports: { http: 8007, https: null, rtmp: 1942, rtsp: 8561, webrtcUdp: 0, webrtcUdpMux: true },
    });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Array.isArray(body.addresses)).toBe(true);
    for (const a of body.addresses as { family: string; address: string }[]) {
      expect(['IPv4', 'IPv6']).toContain(a.family);
      expect(a.address).not.toMatch(/^(127\.|::1$)/);
    }
  });

  it('refuses teachers, students and anonymous callers', async () => {
    const teacher = await t.session(await t.user('teacher'));
    const klass = await t.classroom.classes.create((await t.user('teacher')).id, 'System');
    const student = (await t.classroom.access.join(klass.joinCode, 'Minji')).token;
    for (const token of [teacher, student]) {
      const res = await t.call({ method: 'GET', url: '/api/system', token });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toHaveProperty('error.code', 'FORBIDDEN');
      expect(res.body).not.toContain('"versions"');
    }
    expect((await t.call({ method: 'GET', url: '/api/system' })).statusCode).toBe(401);
  });

  it('holds no secret: no database URL or password, no node token, no signing key', async () => {
    const admin = await t.session(await t.user('admin'));
    const res = await t.call({ method: 'GET', url: '/api/system', token: admin });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toMatch(/Secret|postgres:\/\/|db\.school\.test|BEGIN|PRIVATE/);
    expect(res.body).not.toContain(admin);
  });

  it('is on the API docs page with its schema', async () => {
    const doc = (await t.call({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, { get?: { responses?: Record<string, unknown> } }>;
    };
    expect(doc.paths['/api/system']?.get?.responses).toHaveProperty('200');
  });
});

describe('GET /api/system on PostgreSQL', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi({}, 'postgres');
  });
  afterAll(async () => {
    await t?.close();
  });

  it("names the server's version", async () => {
    const admin = await t.session(await t.user('admin'));
    const res = await t.call({ method: 'GET', url: '/api/system', token: admin });
    expect(res.statusCode).toBe(200);
    expect(res.json().database).toEqual({ kind: 'postgres', version: expect.stringMatching(/^\d+/) });
  });
});
