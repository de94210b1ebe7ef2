/**
 * Students' photos of their work over the API on a real node (issue 10): a student of the
 * running lesson sends a JPEG made by ffmpeg, the teacher's socket hears of it at once and the
 * teacher gets it back byte for byte; other students never see it (neither the file nor the
 * event); bad types, huge bodies, huge pictures and too many photos are refused with stable
 * codes while the node keeps serving; with Gemini on for the class (the local Gemini-format
 * server), the description arrives and Gemini received the image inline and no student name.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AirclassNode } from '../src/main.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { FFMPEG_PATH } from './helpers/publisher.ts';
import { TestSocket } from './helpers/ws-client.ts';

const KEY = 'AIzaTest-key-for-photos-4242';
let t: TestNode;
let gemini: GeminiServer;
let dir: string;
let admin = '';
let teacher = '';
let otherTeacher = '';
let classId = '';
let lessonId = '';
let jpeg: Buffer;
const students: Record<string, { token: string; id: string }> = {};

/** One frame of ffmpeg's test pattern, encoded by the file's extension. */
function still(name: string, src: string, extra: string[] = []): Buffer {
  const out = join(dir, name);
  execFileSync(FFMPEG_PATH, ['-v', 'error', '-y', '-f', 'lavfi', '-i', src, '-frames:v', '1', ...extra, out]);
  return readFileSync(out);
}

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

/** Sends `data` as a photo with `type`. */
function upload(token: string, data: Uint8Array, type: string): Promise<Response> {
  return fetch(`${t.http}/api/classes/${classId}/photos`, {
    method: 'POST',
    headers: { 'content-type': type, authorization: `Bearer ${token}` },
    body: new Uint8Array(data),
  });
}

const file = (id: string, token: string) =>
  fetch(`${t.http}/api/photos/${id}/file`, { headers: { authorization: `Bearer ${token}` } });

const ws = (token: string, query = '') =>
  TestSocket.open(`${t.http.replace('http', 'ws')}/ws?classId=${classId}${query}`, {
    authorization: `Bearer ${token}`,
  });

async function signIn(email: string, password: string): Promise<string> {
  return (await api<{ token: string }>('POST', '/api/auth/login', { email, password })).body.token;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'photos-'));
  jpeg = still('work.jpg', 'testsrc=size=640x480');
  gemini = await startGeminiServer();
  t = await startTestNode({ geminiBaseUrl: gemini.url, geminiTimeoutMs: 3000 });
  admin = await signIn('admin@airclass.local', TEST_ADMIN_PASSWORD);
  for (const email of ['teacher@school.test', 'other@school.test']) {
    await api('POST', '/api/users', { email, name: 'Teacher', password: 'teacher-password' }, admin);
  }
  teacher = await signIn('teacher@school.test', 'teacher-password');
  otherTeacher = await signIn('other@school.test', 'teacher-password');
  const c = (await api<{ id: string; joinCode: string }>('POST', '/api/classes', { title: '수학' }, teacher))
    .body;
  classId = c.id;
  expect((await api('POST', `/api/classes/${classId}/start`, undefined, teacher)).status).toBe(200);
  for (const name of ['김민지', '이서준', '박하은', '최도윤']) {
    const j = await api<{ token: string; participantId: string }>('POST', '/api/join', {
      code: c.joinCode,
      name,
    });
    students[name] = { token: j.body.token, id: j.body.participantId };
  }
});

afterAll(async () => {
  await t?.stop();
  await gemini?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("students' photos", () => {
  let photoId = '';

  it('takes a JPEG from a student; the teacher hears of it, lists it and gets it byte for byte', async () => {
    const staff = await ws(teacher);
    const peer = await ws(students['이서준']!.token);
    const res = await upload(students['김민지']!.token, jpeg, 'image/jpeg');
    expect(res.status).toBe(201);
    const photo = (await res.json()) as {
      id: string;
      lessonId: string;
      width: number;
      height: number;
      mime: string;
    };
    expect(photo).toMatchObject({ width: 640, height: 480, mime: 'image/jpeg', from: { name: '김민지' } });
    photoId = photo.id;
    lessonId = photo.lessonId;

    const heard = await staff.nextOf('photo.new');
    expect(heard.photo).toMatchObject({
      id: photoId,
      from: { id: students['김민지']!.id, name: '김민지' },
      width: 640,
      height: 480,
      description: null,
    });

    const list = await api<{ photos: { id: string; from: { name: string } }[] }>(
      'GET',
      `/api/lessons/${lessonId}/photos`,
      undefined,
      teacher,
    );
    expect(list.status).toBe(200);
    expect(list.body.photos.map((p) => [p.id, p.from.name])).toEqual([[photoId, '김민지']]);
    const got = await file(photoId, teacher);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/jpeg');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-disposition')).toMatch(/^inline/);
    expect(Buffer.from(await got.arrayBuffer()).equals(jpeg)).toBe(true);

    // Other students never see it: not live, not replayed to a socket that asks for history.
    const late = await ws(students['박하은']!.token, '&since=0');
    await late.nextOf('replayed');
    expect(peer.messages.filter((m) => m.type.startsWith('photo.'))).toEqual([]);
    expect(late.messages.filter((m) => m.type.startsWith('photo.'))).toEqual([]);
    await Promise.all([staff.close(), peer.close(), late.close()]);
  });

  it('gives the file to its sender, the teacher and admins only; only staff list it or mark it seen', async () => {
    expect((await file(photoId, students['김민지']!.token)).status).toBe(200);
    expect((await file(photoId, admin)).status).toBe(200);
    expect((await file(photoId, students['이서준']!.token)).status).toBe(403);
    expect((await file(photoId, otherTeacher)).status).toBe(403);
    expect(
      (await api('GET', `/api/lessons/${lessonId}/photos`, undefined, students['김민지']!.token)).status,
    ).toBe(403);
    expect(
      (await api('POST', `/api/photos/${photoId}/seen`, undefined, students['김민지']!.token)).status,
    ).toBe(403);
    const seen = await api<{ seenAt: string | null }>(
      'POST',
      `/api/photos/${photoId}/seen`,
      undefined,
      teacher,
    );
    expect(seen.status).toBe(200);
    expect(seen.body.seenAt).not.toBeNull();
  });

  it('refuses a text file sent as image/png, and an image whose Content-Type lies, with PHOTO_TYPE', async () => {
    const text = Buffer.from('제 숙제입니다. This is really my homework.\n');
    const r1 = await upload(students['이서준']!.token, text, 'image/png');
    expect(r1.status).toBe(415);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('PHOTO_TYPE');
    const r2 = await upload(students['이서준']!.token, jpeg, 'image/png');
    expect(r2.status).toBe(415);
    expect(((await r2.json()) as { error: { code: string } }).error.code).toBe('PHOTO_TYPE');
  });

  it('refuses a picture over 8000 px wide with PHOTO_DIMENSIONS', async () => {
    const wide = still('wide.png', 'color=c=white:size=8002x2');
    const r = await upload(students['이서준']!.token, wide, 'image/png');
    expect(r.status).toBe(422);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PHOTO_DIMENSIONS');
  });

  it('answers a body over photoMaxBytes with 413 PAYLOAD_TOO_LARGE, keeps serving, takes a 4 MB photo', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 1, 0x55);
    jpeg.copy(big, 0, 0, 64);
    const r = await upload(students['이서준']!.token, big, 'image/jpeg');
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await fetch(`${t.http}/health`)).status).toBe(200);
    // A photo of a few MB (over the node's 1 MiB limit for other bodies) is fine.
    const noisy = still('noisy.jpg', 'nullsrc=s=2400x1800,geq=random(1)*255:random(1)*255:128', [
      '-q:v',
      '1',
    ]);
    expect(noisy.length).toBeGreaterThan(2 * 1024 * 1024);
    const ok = await upload(students['이서준']!.token, noisy, 'image/jpeg');
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ width: 2400, height: 1800, size: noisy.length });
  });

  it('answers a second photo within 5 s with 429 RATE_LIMITED and Retry-After', async () => {
    const r = await upload(students['이서준']!.token, jpeg, 'image/jpeg');
    expect(r.status).toBe(429);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('has Gemini describe the photo when the class turned it on, with the image inline and no name', async () => {
    expect((await api('PUT', '/api/ai/keys/gemini', { key: KEY }, admin)).status).toBe(200);
    const on = await api('PUT', `/api/classes/${classId}/ai`, { enabled: true, provider: 'gemini' }, teacher);
    expect(on.body).toMatchObject({ active: 'gemini' });
    const text = '분수의 덧셈에서 분모끼리 더했습니다. 통분하는 단계를 다시 보여 주세요.';
    gemini.reply(() => ({ json: { description: text } }));
    const staff = await ws(teacher);
    const asked = gemini.requests.length;

    const res = await upload(students['최도윤']!.token, jpeg, 'image/jpeg');
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    const described = await staff.nextOf('photo.described', (m) => m.id === id, 10_000);
    expect(described).toMatchObject({ description: text, provider: 'gemini' });

    const req = gemini.requests.slice(asked).at(-1)!;
    const inline = req.body?.contents?.flatMap((c) => c.parts ?? []).find((p) => p.inlineData)?.inlineData;
    expect(inline?.mimeType).toBe('image/jpeg');
    expect(Buffer.from(inline!.data, 'base64').equals(jpeg)).toBe(true);
    for (const name of Object.keys(students)) expect(req.raw).not.toContain(name);

    const list = await api<{ photos: { id: string; description: string | null; provider: string | null }[] }>(
      'GET',
      `/api/lessons/${lessonId}/photos`,
      undefined,
      teacher,
    );
    expect(list.body.photos.find((p) => p.id === id)).toMatchObject({
      description: text,
      provider: 'gemini',
    });
    await staff.close();
  });

  it("removes the photos past the class's retention, files and rows, and keeps the others", async () => {
    const before = await api<{ photos: { id: string }[] }>(
      'GET',
      `/api/lessons/${lessonId}/photos`,
      undefined,
      teacher,
    );
    expect(before.body.photos.length).toBeGreaterThan(0);
    // startNode returns the whole node; its photo service is what the hourly job calls.
    const service = (t.node as AirclassNode).classroom.api.photos!.photos;
    const day = 86_400_000;
    // Within the 30 days a class keeps them by default: nothing goes.
    expect(await service.runRetention(new Date(Date.now() + 29 * day))).toBe(0);
    const id = before.body.photos[0]!.id;
    expect((await file(id, teacher)).status).toBe(200);
    // Past them: every photo of the lesson goes, with its file.
    expect(await service.runRetention(new Date(Date.now() + 31 * day))).toBe(before.body.photos.length);
    const after = await api<{ photos: unknown[] }>(
      'GET',
      `/api/lessons/${lessonId}/photos`,
      undefined,
      teacher,
    );
    expect(after.body.photos).toEqual([]);
    expect((await file(id, teacher)).status).toBe(404);
    expect(readdirSync(join(t.node.config.dataDir, 'photos', lessonId))).toEqual([]);
  });
});
