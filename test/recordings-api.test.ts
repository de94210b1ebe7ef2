/**
 * Recordings over the API, in process (issue 9 items 2 and 3's data): who may list, share,
 * delete and replay a recording; HLS files served with the recording's own read token, byte
 * ranges, ETags and caching headers; a link past retention refused and the retention job
 * removing the files; the replay data's quiz chapters, engagement and chat placed on the
 * recording's timeline; a former student's replay link after the lesson ended. The recorder
 * itself (files from real media) is tested in src/media/recording and test/recording.e2e.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';

type Json = Record<string, unknown>;
interface View {
  id: string;
  playlistUrl: string;
  replayUrl: string;
  status: string;
  shared: boolean;
  durationSec: number;
  expiresAt: string;
  lessonNumber: number | null;
  reason: string | null;
}

let a: TestApi;
let teacher = '';
let otherTeacher = '';
let classId = '';
let joinCode = '';
let lessonId = '';
let recId = '';
let student = { token: '', id: '' };
let outsider = { token: '' };

const PLAYLIST = [
  '#EXTM3U',
  '#EXT-X-VERSION:7',
  '#EXT-X-TARGETDURATION:2',
  '#EXT-X-MEDIA-SEQUENCE:0',
  '#EXT-X-PLAYLIST-TYPE:VOD',
  '#EXT-X-INDEPENDENT-SEGMENTS',
  '#EXT-X-MAP:URI="init-0.mp4"',
  '#EXTINF:2.000,',
  'seg-00001.m4s',
  '#EXTINF:2.000,',
  'seg-00002.m4s',
  '#EXT-X-ENDLIST',
  '',
].join('\n');
const SEGMENT = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

const code = (res: { json(): unknown }): string => (res.json() as { error: { code: string } }).error.code;
const get = (url: string, token?: string, headers?: Record<string, string>) =>
  a.call({ method: 'GET', url, ...(token ? { token } : {}), ...(headers ? { headers } : {}) });

async function joinClass(codeIn: string, name: string): Promise<{ token: string; id: string }> {
  const res = await a.call({ method: 'POST', url: '/api/join', payload: { code: codeIn, name } });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { token: string; participantId: string };
  return { token: body.token, id: body.participantId };
}

async function list(token: string): Promise<View[]> {
  const res = await get(`/api/classes/${classId}/recordings`, token);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { recordings: View[] }).recordings;
}

beforeAll(async () => {
  a = await startTestApi();
  teacher = await a.session(await a.user('teacher'));
  otherTeacher = await a.session(await a.user('teacher'));
  const c = await a.createClass(teacher, '수학 3반');
  classId = c.id;
  joinCode = c.joinCode;
  const other = await a.createClass(otherTeacher, 'Other class');
  expect(
    (await a.call({ method: 'POST', url: `/api/classes/${other.id}/start`, token: otherTeacher })).statusCode,
  ).toBe(200);
  outsider = await joinClass(other.joinCode, 'Outsider');

  expect(
    (await a.call({ method: 'POST', url: `/api/classes/${classId}/start`, token: teacher })).statusCode,
  ).toBe(200);
  student = await joinClass(joinCode, '김민지');
  lessonId = (await a.store.lessons.current(classId))!.id;

  // What the recorder does when the class's stream starts, writes two segments and ends.
  const rec = await a.node.recordings.begin(`live/${classId}`);
  recId = rec!.id;
  const dir = a.node.recordings.dirOf(recId);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.m3u8'), PLAYLIST);
  writeFileSync(join(dir, 'init-0.mp4'), SEGMENT.subarray(0, 100));
  writeFileSync(join(dir, 'seg-00001.m4s'), SEGMENT);
  writeFileSync(join(dir, 'seg-00002.m4s'), SEGMENT);

  // A quiz pushed 1 s in, a chat line, engagement samples.
  const q = await a.call({
    method: 'POST',
    url: `/api/classes/${classId}/quizzes`,
    token: teacher,
    payload: { kind: 'truefalse', question: '지구는 둥글다', options: [], correct: [0], timeLimitSec: 30 },
  });
  expect(q.statusCode, q.body).toBe(201);
  const quizId = (q.json() as { id: string }).id;
  await new Promise((r) => setTimeout(r, 1100));
  expect(
    (await a.call({ method: 'POST', url: `/api/quizzes/${quizId}/open`, token: teacher })).statusCode,
  ).toBe(200);
  await a.store.chat.add({
    classId,
    seq: await a.store.classes.nextSeq(classId),
    senderId: student.id,
    senderName: '김민지',
    senderRole: 'student',
    text: '질문 있어요',
  });
  await a.store.db.execute(sql`
    INSERT INTO engagement_samples (lesson_id, participant_id, score, watching, at)
    VALUES (${lessonId}, ${student.id}, 80, 1, now())`);
  await a.node.recordings.end(recId, { status: 'complete', durationMs: 4000, sizeBytes: 2100 });
}, 60_000);

afterAll(async () => {
  await a?.close();
});

describe('recordings API', () => {
  it('lists the recording for its teacher, with a playlist and replay URL carrying a read token', async () => {
    const [r, ...rest] = await list(teacher);
    expect(rest).toEqual([]);
    expect(r).toMatchObject({
      id: recId,
      status: 'complete',
      shared: false,
      durationSec: 4,
      lessonNumber: 1,
    });
    expect(r!.playlistUrl).toMatch(new RegExp(`^/vod/${recId}/index\\.m3u8\\?token=`));
    expect(r!.replayUrl).toMatch(new RegExp(`^/replay/${recId}#jwt=`));
    // Kept 30 days by default.
    const days = (Date.parse(r!.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('serves the playlist with the token on every URI, and segments with ranges and caching', async () => {
    const [r] = await list(teacher);
    const token = decodeURIComponent(r!.playlistUrl.split('?token=')[1]!);
    const pl = await get(r!.playlistUrl);
    expect(pl.statusCode, pl.body).toBe(200);
    expect(pl.headers['content-type']).toContain('application/vnd.apple.mpegurl');
    expect(pl.headers['cache-control']).toContain('no-cache');
    const q = `?token=${encodeURIComponent(token)}`;
    expect(pl.body).toContain(`#EXT-X-MAP:URI="init-0.mp4${q}"`);
    expect(pl.body).toContain(`seg-00001.m4s${q}`);
    expect(pl.body).toContain('#EXT-X-ENDLIST');

    const seg = await get(`/vod/${recId}/seg-00001.m4s${q}`);
    expect(seg.statusCode).toBe(200);
    expect(seg.rawPayload.equals(SEGMENT)).toBe(true);
    expect(seg.headers['content-type']).toContain('video/iso.segment');
    expect(seg.headers['accept-ranges']).toBe('bytes');
    expect(seg.headers['cache-control']).toContain('max-age=');
    const part = await get(`/vod/${recId}/seg-00001.m4s${q}`, undefined, { range: 'bytes=10-19' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 10-19/1000');
    expect([...part.rawPayload]).toEqual([...SEGMENT.subarray(10, 20)]);
    const tail = await get(`/vod/${recId}/seg-00001.m4s${q}`, undefined, { range: 'bytes=-5' });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.length).toBe(5);
    const past = await get(`/vod/${recId}/seg-00001.m4s${q}`, undefined, { range: 'bytes=5000-' });
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe('bytes */1000');
    const again = await get(`/vod/${recId}/seg-00001.m4s${q}`, undefined, {
      'if-none-match': String(seg.headers.etag),
    });
    expect(again.statusCode).toBe(304);
    const init = await get(`/vod/${recId}/init-0.mp4${q}`);
    expect(init.statusCode).toBe(200);
    expect(init.headers['content-type']).toContain('video/mp4');
  });

  it('refuses files without a token, with another token, and names outside the recording', async () => {
    expect(code(await get(`/vod/${recId}/index.m3u8`))).toBe('TOKEN_MISSING');
    // A class token is not a recording token.
    expect(code(await get(`/vod/${recId}/index.m3u8?token=${encodeURIComponent(student.token)}`))).toBe(
      'TOKEN_SCOPE',
    );
    // Nor is the teacher's sign-in session.
    expect(code(await get(`/vod/${recId}/index.m3u8?token=${encodeURIComponent(teacher)}`))).toBe(
      'TOKEN_INVALID',
    );
    const [r] = await list(teacher);
    const q = r!.playlistUrl.slice(r!.playlistUrl.indexOf('?'));
    for (const f of ['..%2Fkeys', 'recording.json', 'seg-1.m4s', 'index.m3u8.tmp']) {
      expect((await get(`/vod/${recId}/${f}${q}`)).statusCode, f).toBe(404);
    }
    // The token of this recording does not open another id.
    expect(code(await get(`/vod/00000000-0000-4000-8000-000000000000/index.m3u8${q}`))).toBe('TOKEN_SCOPE');
  });

  it('keeps a recording from students until the teacher shares it; other classes never see it', async () => {
    expect(await list(student.token)).toEqual([]);
    expect(code(await get(`/api/recordings/${recId}/replay`, student.token))).toBe('RECORDING_NOT_SHARED');
    expect((await get(`/api/classes/${classId}/recordings`, outsider.token)).statusCode).toBe(403);
    expect(code(await get(`/api/recordings/${recId}/replay`, outsider.token))).toBe('FORBIDDEN');
    expect(code(await get(`/api/recordings/${recId}/replay`, otherTeacher))).toBe('FORBIDDEN');
    const share = await a.call({
      method: 'PATCH',
      url: `/api/recordings/${recId}`,
      token: otherTeacher,
      payload: { shared: true },
    });
    expect(share.statusCode).toBe(403);

    const shared = await a.call({
      method: 'PATCH',
      url: `/api/recordings/${recId}`,
      token: teacher,
      payload: { shared: true },
    });
    expect(shared.statusCode, shared.body).toBe(200);
    expect((shared.json() as View).shared).toBe(true);
    const [seen] = await list(student.token);
    expect(seen?.id).toBe(recId);
    expect((await get(seen!.playlistUrl)).statusCode).toBe(200);
    expect(code(await get(`/api/recordings/${recId}/replay`, outsider.token))).toBe('FORBIDDEN');
  });

  it('gives the replay page the quiz chapter, engagement and chat on the recording timeline', async () => {
    const [r] = await list(teacher);
    const vod = decodeURIComponent(r!.replayUrl.split('#jwt=')[1]!);
    const res = await get(`/api/recordings/${recId}/replay`, vod);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as {
      class: Json;
      lesson: Json;
      chapters: { atSec: number; question: string }[];
      chat: { atSec: number; name: string; text: string }[];
      engagement: { atSec: number; score: number }[];
    };
    expect(body.class).toEqual({ id: classId, title: '수학 3반' });
    expect(body.lesson).toMatchObject({ id: lessonId, number: 1 });
    expect(body.chapters).toHaveLength(1);
    expect(body.chapters[0]!.question).toBe('지구는 둥글다');
    expect(body.chapters[0]!.atSec).toBeGreaterThanOrEqual(1);
    expect(body.chapters[0]!.atSec).toBeLessThan(4);
    expect(body.chat).toEqual([expect.objectContaining({ name: '김민지', text: '질문 있어요' })]);
    expect(body.engagement[0]?.score).toBe(80);
    // The teacher's session works too.
    expect((await get(`/api/recordings/${recId}/replay`, teacher)).statusCode).toBe(200);
  });

  it("gives a student who attended the lesson the shared replay after the lesson's end", async () => {
    expect(
      (await a.call({ method: 'POST', url: `/api/classes/${classId}/end`, token: teacher })).statusCode,
    ).toBe(200);
    // Their token no longer opens the class…
    expect(code(await get(`/api/classes/${classId}/recordings`, student.token))).toBe('LESSON_ENDED');
    // …but still finds the replay of the lesson they attended.
    const res = await get(`/api/lessons/${lessonId}/replay`, student.token);
    expect(res.statusCode, res.body).toBe(200);
    const links = (res.json() as { recordings: { id: string; replayUrl: string }[] }).recordings;
    expect(links.map((l) => l.id)).toEqual([recId]);
    const vod = decodeURIComponent(links[0]!.replayUrl.split('#jwt=')[1]!);
    expect((await get(`/api/recordings/${recId}/replay`, vod)).statusCode).toBe(200);
    expect(code(await get(`/api/lessons/${lessonId}/replay`, outsider.token))).toBe('FORBIDDEN');
    expect(code(await get(`/api/lessons/${lessonId}/replay`, teacher))).toBe('FORBIDDEN');

    // Unshared: the student's links are gone.
    await a.call({
      method: 'PATCH',
      url: `/api/recordings/${recId}`,
      token: teacher,
      payload: { shared: false },
    });
    const none = await get(`/api/lessons/${lessonId}/replay`, student.token);
    expect((none.json() as { recordings: unknown[] }).recordings).toEqual([]);
    expect(code(await get(`/api/recordings/${recId}/replay`, vod))).toBe('RECORDING_NOT_SHARED');
  });

  it('refuses a link past retention, and the retention job removes the files', async () => {
    const [r] = await list(teacher);
    const retention = await a.call({
      method: 'PUT',
      url: `/api/classes/${classId}/retention`,
      token: teacher,
      payload: { days: 7 },
    });
    expect(retention.statusCode, retention.body).toBe(200);
    expect(retention.json()).toEqual({ retentionDays: 7 });
    expect(
      (
        await a.call({
          method: 'PUT',
          url: `/api/classes/${classId}/retention`,
          token: teacher,
          payload: { days: 0 },
        })
      ).statusCode,
    ).toBe(400);
    // Eight days old: past its 7.
    await a.store.db.execute(
      sql`UPDATE recordings SET started_at = now() - interval '8 days' WHERE id = ${recId}`,
    );
    await new Promise((res) => setTimeout(res, 5100)); // the file route's access cache
    expect(code(await get(r!.playlistUrl))).toBe('RECORDING_EXPIRED');
    expect(code(await get(`/api/recordings/${recId}/replay`, teacher))).toBe('RECORDING_EXPIRED');
    expect(await list(teacher)).toEqual([]);
    expect(await a.node.recordings.runRetention()).toBe(1);
    expect(existsSync(a.node.recordings.dirOf(recId))).toBe(false);
    expect(code(await get(r!.playlistUrl))).toMatch(/RECORDING_NOT_FOUND|RECORDING_EXPIRED/);
  });

  it('tells the class when a recording stops early (a full disk), and keeps what was written', async () => {
    const rec = await a.node.recordings.begin(`live/${classId}`);
    expect(a.events).toContainEqual({ classId, event: { type: 'recording.started', id: rec!.id } });
    await a.node.recordings.end(rec!.id, {
      status: 'stopped',
      reason: 'DISK_FULL',
      durationMs: 6000,
      sizeBytes: 99,
    });
    expect(a.events).toContainEqual({
      classId,
      event: { type: 'recording.stopped', id: rec!.id, reason: 'DISK_FULL' },
    });
    const r = (await list(teacher)).find((x) => x.id === rec!.id);
    expect(r).toMatchObject({ status: 'stopped', reason: 'DISK_FULL', durationSec: 6 });
  });

  it('deletes a recording (its teacher only) with its files', async () => {
    await a.call({ method: 'POST', url: `/api/classes/${classId}/start`, token: teacher });
    const rec = await a.node.recordings.begin(`live/${classId}`);
    const dir = a.node.recordings.dirOf(rec!.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.m3u8'), PLAYLIST);
    await a.node.recordings.end(rec!.id, { status: 'complete', durationMs: 1000, sizeBytes: 10 });
    expect(
      (await a.call({ method: 'DELETE', url: `/api/recordings/${rec!.id}`, token: otherTeacher })).statusCode,
    ).toBe(403);
    expect(
      (await a.call({ method: 'DELETE', url: `/api/recordings/${rec!.id}`, token: teacher })).statusCode,
    ).toBe(204);
    expect(existsSync(dir)).toBe(false);
    expect(code(await get(`/api/recordings/${rec!.id}/replay`, teacher))).toBe('RECORDING_NOT_FOUND');
  });
});
