import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../src/control/store/types.ts';
import { PASSWORD, startTestApi, type TestApi } from './helpers/api.ts';

/**
 * The authorization matrix (issue 3 item 5): every endpoint the app registers × every role ×
 * own class / other class, against the real app and a real PGlite store. A route without a
 * row here fails the first test, so a new endpoint cannot ship without deciding who may call
 * it. Each cell gets a fresh class A (owned by "teacher:own", joined by "student:own",
 * shared with "monitor:own"); the "other" actors belong to class B.
 */

const ACTORS = [
  'anon',
  'admin',
  'teacher:own',
  'teacher:other',
  'student:own',
  'student:other',
  'monitor:own',
  'monitor:other',
] as const;
type Actor = (typeof ACTORS)[number];

/** Expected statuses in ACTORS order. */
type Row = {
  route: string;
  expect: [number, number, number, number, number, number, number, number];
  /** Extra request parts (body, query, headers) for the cell. */
  req?: (cell: Cell) => Partial<InjectOptions>;
  /** Open a WebSocket (`injectWS`) instead of a plain request. */
  upgrade?: boolean;
};

interface Cell {
  classA: { id: string; joinCode: string };
  n: number;
}

/** Same status for everyone. */
const all = (s: number): Row['expect'] => [s, s, s, s, s, s, s, s];
/** Signed-in API: anonymous 401, then the seven roles. */
const signedIn = (...s: number[]): Row['expect'] => [401, ...s] as Row['expect'];
/** Manage the class: admin and its teacher; nobody else. */
const manage = (ok: number): Row['expect'] => signedIn(ok, ok, 403, 403, 403, 403, 403);
/** Media routes take media tokens: account sessions are not one (401), own class passes auth. */
const media = (ownStatus: number): Row['expect'] => [401, 401, 401, 401, ownStatus, 403, ownStatus, 403];

const sdp = { headers: { 'content-type': 'application/sdp' }, payload: 'v=0\r\n' };
/** A PNG's signature and IHDR chunk (1 × 1): enough for the type and size checks. */
const PNG_1X1 = Buffer.from('89504e470d0a1a0a0000000d494844520000000100000001080200000090775300', 'hex');
const frag = { headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, payload: 'a=ice-ufrag:x\r\n' };

const ROWS: Row[] = [
  // Public pages, status and docs.
  { route: 'GET /', expect: all(200) },
  { route: 'GET /health', expect: all(200) },
  { route: 'GET /ready', expect: all(200) },
  // Prometheus: open to loopback (inject() calls from 127.0.0.1); see test/metrics.test.ts.
  { route: 'GET /metrics', expect: all(200) },
  { route: 'GET /.well-known/jwks.json', expect: all(200) },
  { route: 'GET /web/*', expect: all(200), req: () => ({ url: '/web/join/index.html' }) },
  { route: 'GET /watch/:app/:name', expect: all(200) },
  { route: 'GET /join', expect: all(200) },
  { route: 'GET /login', expect: all(200) },
  { route: 'GET /projector', expect: all(200) },
  { route: 'GET /console', expect: all(200) },
  { route: 'GET /monitor', expect: all(200) },
  { route: 'GET /replay/:id', expect: all(200) },
  { route: 'GET /docs', expect: all(200) },
  { route: 'GET /docs/json', expect: all(200) },
  { route: 'GET /docs/yaml', expect: all(200) },
  { route: 'GET /docs/static/index.html', expect: all(302) }, // swagger-ui redirects to /docs/
  { route: 'GET /docs/static/swagger-initializer.js', expect: all(200) },
  { route: 'GET /docs/static/*', expect: all(200), req: () => ({ url: '/docs/static/swagger-ui.css' }) },
  // WHEP (media tokens).
  { route: 'OPTIONS /:app/:name/whep', expect: all(204) },
  { route: 'POST /:app/:name/whep', expect: media(409), req: () => sdp },
  { route: 'PATCH /:app/:name/whep/:id', expect: media(404), req: () => frag },
  { route: 'DELETE /:app/:name/whep/:id', expect: media(404) },
  // WHIP (publish: a media token with `publish` on the path, or the class's stream key; account
  // sessions and read tokens are refused). PATCH/DELETE take the credential of their POST.
  { route: 'OPTIONS /:app/:name/whip', expect: all(204) },
  { route: 'OPTIONS /:app/:name/whip/:id', expect: all(204) },
  { route: 'POST /:app/:name/whip', expect: [401, 401, 401, 401, 403, 403, 403, 403], req: () => sdp },
  { route: 'PATCH /:app/:name/whip/:id', expect: [401, 404, 404, 404, 404, 404, 404, 404], req: () => frag },
  { route: 'DELETE /:app/:name/whip/:id', expect: [401, 404, 404, 404, 404, 404, 404, 404] },
  // Accounts.
  {
    route: 'POST /api/auth/login',
    expect: all(200),
    req: () => ({ payload: { email: 'admin-matrix@school.test', password: PASSWORD } }),
  },
  { route: 'POST /api/auth/logout', expect: all(204) },
  { route: 'GET /api/auth/me', expect: signedIn(200, 200, 200, 200, 200, 200, 200) },
  {
    route: 'POST /api/users',
    expect: signedIn(201, 403, 403, 403, 403, 403, 403),
    req: (c) => ({ payload: { email: `new${c.n}@school.test`, name: 'New', password: 'long enough' } }),
  },
  { route: 'GET /api/users', expect: signedIn(200, 403, 403, 403, 403, 403, 403) },
  {
    route: 'PATCH /api/users/:id',
    expect: signedIn(404, 403, 403, 403, 403, 403, 403), // :id is a class id: no such user
    req: () => ({ payload: { name: 'Renamed' } }),
  },
  // Classes.
  {
    route: 'POST /api/classes',
    expect: signedIn(201, 201, 201, 403, 403, 403, 403),
    req: () => ({ payload: { title: 'New class' } }),
  },
  { route: 'GET /api/classes', expect: signedIn(200, 200, 200, 403, 403, 403, 403) },
  { route: 'GET /api/classes/:id', expect: signedIn(200, 200, 403, 200, 403, 200, 403) },
  {
    route: 'PATCH /api/classes/:id',
    expect: manage(200),
    req: () => ({ payload: { title: 'Renamed' } }),
  },
  { route: 'POST /api/classes/:id/archive', expect: manage(200) },
  { route: 'GET /api/classes/:id/lessons', expect: signedIn(200, 200, 403, 403, 403, 200, 403) },
  { route: 'POST /api/classes/:id/monitor-links', expect: manage(201) },
  { route: 'GET /api/classes/:id/monitor-links', expect: manage(200) },
  { route: 'DELETE /api/classes/:id/monitor-links/:sub', expect: manage(404) },
  { route: 'DELETE /api/classes/:id/participants/:sub', expect: manage(404) },
  { route: 'POST /api/classes/:id/start', expect: manage(200) },
  { route: 'POST /api/classes/:id/end', expect: manage(200) },
  { route: 'POST /api/classes/:id/stream-key', expect: manage(200) },
  { route: 'GET /api/classes/:id/qr.png', expect: manage(200) },
  { route: 'GET /api/classes/:id/qr.svg', expect: manage(200) },
  { route: 'POST /api/classes/:id/monitor-link', expect: manage(201) },
  { route: 'POST /api/classes/:id/media-token', expect: manage(200) },
  { route: 'GET /api/classes/:id/participants', expect: signedIn(200, 200, 403, 403, 403, 200, 403) },
  // Quizzes (`:id` of a quiz route is a class id here: no such quiz, 404 once signed in).
  {
    route: 'POST /api/classes/:id/quizzes',
    expect: manage(201),
    req: () => ({
      payload: { kind: 'single', question: 'Q?', options: ['a', 'b'], correct: [0], timeLimitSec: 30 },
    }),
  },
  { route: 'GET /api/classes/:id/quizzes', expect: signedIn(200, 200, 403, 403, 403, 200, 403) },
  { route: 'DELETE /api/quizzes/:id', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'POST /api/quizzes/:id/open', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'POST /api/quizzes/:id/close', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'POST /api/quizzes/:id/reveal', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  {
    route: 'POST /api/quizzes/:id/answers',
    expect: signedIn(403, 403, 403, 404, 404, 403, 403), // only students answer
    req: () => ({ payload: { answerId: 'a1', choices: [0] } }),
  },
  { route: 'GET /api/quizzes/:id/results', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  // Lessons and "my data".
  { route: 'GET /api/lessons/:id/engagement', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/me', expect: signedIn(403, 403, 403, 200, 200, 403, 403) },
  // The class channel, with a real WebSocket upgrade (101 = the socket opened).
  {
    route: 'GET /ws',
    expect: [401, 101, 101, 403, 101, 403, 101, 403],
    req: (c) => ({ query: { classId: c.classA.id } }),
    upgrade: true,
  },
  // Join and the legacy token endpoint.
  {
    route: 'POST /api/join',
    expect: all(200),
    req: (c) => ({ payload: { code: c.classA.joinCode, name: '민지' } }),
  },
  {
    route: 'POST /api/token',
    expect: manage(200),
    req: (c) => ({ query: { user_type: 'student', user_id: 's1', action: 'read', stream: c.classA.id } }),
  },
  // The cluster: node routes take only a node token; the node list is the admin's; a viewer
  // asks where to play with a read token of the class (no sub here: the main itself).
  {
    route: 'POST /api/cluster/nodes',
    expect: all(401),
    req: () => ({
      payload: { id: 'sub-m', name: 'sub-m', httpUrl: 'http://127.0.0.1:9', capacity: 1, startedAt: 1 },
    }),
  },
  {
    route: 'PUT /api/cluster/nodes/:id/heartbeat',
    expect: all(401),
    req: () => ({ payload: { viewers: 0, cpu: 0, paths: [] } }),
  },
  {
    route: 'POST /api/cluster/nodes/:id/certificate',
    expect: all(401),
    req: () => ({ payload: { csr: '-----BEGIN CERTIFICATE REQUEST-----' } }),
  },
  { route: 'DELETE /api/cluster/nodes/:id', expect: all(401) },
  { route: 'GET /api/cluster/nodes', expect: signedIn(200, 403, 403, 403, 403, 403, 403) },
  {
    route: 'POST /api/cluster/assign',
    expect: media(200),
    req: (c) => ({ payload: { path: `live/${c.classA.id}` } }),
  },
  // Recordings (`:id` of a recording route is a class id here: no such recording, 404 once
  // signed in), their files (only a recording's own read token opens them), live HLS (a read
  // token of the class, like WHEP), reports (the class's teacher and admins).
  { route: 'GET /api/classes/:id/recordings', expect: signedIn(200, 200, 403, 200, 403, 403, 403) },
  { route: 'PUT /api/classes/:id/retention', expect: manage(200), req: () => ({ payload: { days: 7 } }) },
  {
    route: 'PATCH /api/recordings/:id',
    expect: signedIn(404, 404, 404, 404, 404, 404, 404),
    req: () => ({ payload: { shared: true } }),
  },
  { route: 'DELETE /api/recordings/:id', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/recordings/:id/replay', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  // Only a student who attended that lesson (here :id is no lesson).
  { route: 'GET /api/lessons/:id/replay', expect: signedIn(403, 403, 403, 403, 403, 403, 403) },
  {
    route: 'GET /vod/:id/:file',
    expect: media(403),
    req: (c) => ({ url: `/vod/${c.classA.id}/index.m3u8` }),
  },
  {
    route: 'GET /live/:name/hls/index.m3u8',
    expect: media(409),
    req: (c) => ({ url: `/live/${c.classA.id}/hls/index.m3u8` }),
  },
  {
    route: 'GET /live/:name/hls/:file',
    expect: media(404),
    req: (c) => ({ url: `/live/${c.classA.id}/hls/seg-1.m4s` }),
  },
  { route: 'GET /api/lessons/:id/report', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/lessons/:id/report.csv', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/classes/:id/report', expect: manage(200) },
  // Analyses (the built-in analyzer): the class's teacher and admins; no such quiz / lesson here.
  { route: 'GET /api/quizzes/:id/analysis', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/lessons/:id/questions', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/lessons/:id/summary', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/classes/:id/ai', expect: manage(200) },
  // The chat hold's queue: the class's teacher and admins.
  { route: 'GET /api/classes/:id/chat/held', expect: manage(200) },
  {
    route: 'PUT /api/classes/:id/ai',
    expect: manage(200),
    req: () => ({ payload: { enabled: true, provider: 'gemini' } }),
  },
  { route: 'GET /api/ai/keys/gemini', expect: signedIn(200, 403, 403, 403, 403, 403, 403) },
  {
    route: 'PUT /api/ai/keys/gemini',
    expect: signedIn(200, 403, 403, 403, 403, 403, 403),
    req: () => ({ payload: { key: 'AIzaMatrix-key-1234' } }),
  },
  { route: 'GET /api/classes/:id/report.csv', expect: manage(200) },
  // Students' photos: only a student of the class sends one (class A has no lesson running:
  // 409); the lesson's list, the file and "seen" (`:id` is no lesson or photo here: 404).
  {
    route: 'POST /api/classes/:id/photos',
    expect: signedIn(403, 403, 403, 409, 403, 403, 403),
    req: () => ({ headers: { 'content-type': 'image/png' }, payload: PNG_1X1 }),
  },
  { route: 'GET /api/lessons/:id/photos', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/photos/:id/file', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'POST /api/photos/:id/seen', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  // Slides of a lesson, their images and quiz drafts (`:id` is no lesson or slide here: 404).
  { route: 'GET /api/lessons/:id/slides', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'GET /api/slides/:id/image', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  { route: 'POST /api/slides/:id/draft', expect: signedIn(404, 404, 404, 404, 404, 404, 404) },
  // The node's addresses, versions and ports: the admin's.
  { route: 'GET /api/system', expect: signedIn(200, 403, 403, 403, 403, 403, 403) },
];

describe('authorization matrix', () => {
  let t: TestApi;
  let teacherOwn: User;
  let admin: User;
  let teacherOther: User;
  let classB: Awaited<ReturnType<TestApi['classroom']['classes']['create']>>;
  let n = 0;

  beforeAll(async () => {
    t = await startTestApi();
    admin = await t.user('admin', 'admin-matrix@school.test');
    teacherOwn = await t.user('teacher');
    teacherOther = await t.user('teacher');
    classB = await t.classroom.classes.create(teacherOther.id, 'Class B');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has a row for every route the app registers, and no row for a route it does not', () => {
    const registered = new Set(
      t.app
        .routeTable()
        .filter((r) => r.method !== 'HEAD')
        .map((r) => `${r.method} ${r.url}`),
    );
    const rows = new Set(ROWS.map((r) => r.route));
    expect(ROWS.length, 'duplicate rows').toBe(rows.size);
    expect(
      [...registered].filter((r) => !rows.has(r)),
      'routes without a matrix row',
    ).toEqual([]);
    expect(
      [...rows].filter((r) => !registered.has(r)),
      'rows for routes that do not exist',
    ).toEqual([]);
  });

  /**
   * A fresh class A with its own student and monitor, and fresh tokens for every actor (a
   * sign-out revokes the token it is called with).
   */
  async function freshCell(): Promise<{ cell: Cell; tokens: Partial<Record<Actor, string>> }> {
    const a = await t.classroom.classes.create(teacherOwn.id, `Class A${++n}`);
    const tokens = {
      admin: await t.session(admin),
      'teacher:own': await t.session(teacherOwn),
      'teacher:other': await t.session(teacherOther),
      'student:other': (await t.classroom.access.join(classB.joinCode, 'Other student')).token,
      'monitor:other': (await t.classroom.access.monitorLink(classB, teacherOther.id)).token,
      'student:own': (await t.classroom.access.join(a.joinCode, 'Own student')).token,
      'monitor:own': (await t.classroom.access.monitorLink(a, teacherOwn.id)).token,
    };
    return { cell: { classA: { id: a.id, joinCode: a.joinCode }, n }, tokens };
  }

  /** The status of a WebSocket upgrade: 101 when the socket opened, else the HTTP status. */
  async function upgrade(path: string, query: Record<string, string>, token?: string): Promise<number> {
    const url = `${path}?${new URLSearchParams(query)}`;
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    try {
      const ws = await t.app.injectWS(url, { headers });
      ws.terminate();
      return 101;
    } catch (e) {
      return Number(/(\d{3})/.exec((e as Error).message)?.[1] ?? 0);
    }
  }

  function urlOf(pattern: string, cell: Cell): string {
    return pattern
      .replace('/:app/:name/', `/live/${cell.classA.id}/`)
      .replace('/:app/:name', `/live/${cell.classA.id}`)
      .replace('/whep/:id', '/whep/no-such-session')
      .replace(':id', cell.classA.id);
  }

  it.each(ROWS.map((r) => [r.route, r] as const))('%s', async (_name, row) => {
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [i, actor] of ACTORS.entries()) {
      const { cell, tokens } = await freshCell();
      const [method, pattern] = row.route.split(' ') as [InjectOptions['method'], string];
      const extra = row.req?.(cell) ?? {};
      if (row.upgrade) {
        got[actor] = await upgrade(
          urlOf(pattern, cell),
          extra.query as Record<string, string>,
          tokens[actor],
        );
        want[actor] = row.expect[i]!;
        continue;
      }
      const res = await t.call({
        method,
        url: urlOf(pattern, cell),
        token: actor === 'anon' ? undefined : tokens[actor],
        ...extra,
        headers: { ...(extra.headers ?? {}) },
      });
      got[actor] = res.statusCode;
      want[actor] = row.expect[i]!;
      if (res.statusCode >= 400 && res.statusCode !== 404 && pattern.startsWith('/api/')) {
        expect(res.json(), `${actor}: error body`).toHaveProperty('error.code');
      }
    }
    expect(got).toEqual(want);
  });
});
