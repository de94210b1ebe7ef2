/**
 * End to end, issue 9 "Done when", against a real `airclass start` while real ffmpeg streams
 * H.264 1280×720 + AAC to a class over RTMP:
 *
 * - a student whose browser cannot use UDP (the Chromium profile's `disable_non_proxied_udp` WebRTC policy, no TURN) is
 *   switched to HLS with a note, and frames advance; the teacher pushes a quiz, the student
 *   answers; the lesson ends → the recording is in the teacher's list, ffprobe reads H.264
 *   1280×720 + AAC whose duration is within 2 s of the live one, with no gap between segments;
 * - the teacher shares it: hls.js in Chromium plays the replay (frames advance, sound above
 *   silence), and the quiz chapter's button seeks there; the engagement curve is drawn;
 * - the dashboard (JSON, CSV with Korean names, and the console's view) shows the lesson;
 * - a second lesson is cut by `kill -9` of the node: after a restart its recording is closed as
 *   interrupted, and ffmpeg decodes the segments written before the crash.
 * Screenshots land in test-artifacts/recording-e2e/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';

const execFileP = promisify(execFile);
const ADMIN = { email: 'admin@school.example', password: 'recording-e2e-admin-1' };
const TEACHER = { name: '최선생', email: 'choi@school.example', password: 'teacher-pass-1' };
const STUDENT = '이서연';
const WAIT = { timeout: 30_000 };
const SHOTS = join(REPO_ROOT, 'test-artifacts', 'recording-e2e');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Recording {
  id: string;
  lessonId: string;
  status: string;
  durationSec: number;
  playlistUrl: string;
  replayUrl: string;
  shared: boolean;
}

let server: TestServer;
let dataDir = '';
let teacherToken = '';
let classId = '';
let streamKey = '';
let publisher: Publisher | undefined;
let studentBrowser: TestBrowser | undefined;
let teacherBrowser: TestBrowser | undefined;
let firstLessonId = '';
/** The UDP-blocked student's page, kept open on its final screen after the lesson. */
let studentPage: Page | undefined;
let liveSeconds = 0;
let step = 0;

async function api<T>(method: string, path: string, body?: unknown, token = teacherToken): Promise<T> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${String(++step).padStart(2, '0')}-${name}.png`) });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${server.logTail()}`);
    await sleep(250);
  }
}

async function recordings(): Promise<Recording[]> {
  return (await api<{ recordings: Recording[] }>('GET', `/api/classes/${classId}/recordings`)).recordings;
}

async function streamLive(): Promise<boolean> {
  const c = await api<{ stream: { state: string } }>('GET', `/api/classes/${classId}`);
  return c.stream.state === 'live';
}

async function ffprobeJson(url: string, args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', ...args, '-of', 'json', url], {
    timeout: 60_000,
    maxBuffer: 32 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function startPublisher(): Publisher {
  return publishTestPattern({ url: `${server.rtmpUrl}/live/${streamKey}`, size: '1280x720', rate: 30 });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'airclass-recording-e2e-'));
  server = await startServer({
    dataDir,
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      AIRCLASS_RECORD_MIN_FREE_MB: '16',
    },
  });
  const admin = (await api<{ token: string }>('POST', '/api/auth/login', ADMIN, '')).token;
  await api('POST', '/api/users', { ...TEACHER, role: 'teacher' }, admin);
  teacherToken = (
    await api<{ token: string }>(
      'POST',
      '/api/auth/login',
      { email: TEACHER.email, password: TEACHER.password },
      '',
    )
  ).token;
  const c = await api<{ id: string; rtmp: { streamKey: string } }>('POST', '/api/classes', {
    title: '과학 2반',
  });
  classId = c.id;
  streamKey = c.rtmp.streamKey;
}, 90_000);

afterAll(async () => {
  await publisher?.stop();
  await studentBrowser?.close();
  await teacherBrowser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('recording, replay and the dashboard', () => {
  it('records a streamed lesson; a student without UDP watches over HLS meanwhile', async () => {
    publisher = startPublisher();
    await until('the stream to be live', streamLive);
    const liveAt = Date.now();
    const cls = await api<{ joinCode: string; lesson: { id: string } }>('GET', `/api/classes/${classId}`);
    firstLessonId = cls.lesson.id;
    const joined = await api<{ token: string; participantId: string }>(
      'POST',
      '/api/join',
      { code: cls.joinCode, name: STUDENT },
      '',
    );

    // No UDP for WebRTC in this browser (its profile's policy; there is no TURN server): ICE
    // cannot connect, as on a school network that blocks UDP.
    studentBrowser = await launchBrowser({
      prefs: { webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } },
      locale: 'ko-KR',
    });
    const page = await studentBrowser.newPage();
    studentPage = page;
    await page.goto(`${server.httpUrl}/watch/live/${classId}?jwt=${encodeURIComponent(joined.token)}`);
    await page.waitForFunction(() => window.airclass?.transport === 'hls', null, {
      timeout: 45_000,
    });
    const f0 = await page.evaluate(() => window.airclass!.framesDecoded());
    await page.waitForFunction((f) => window.airclass!.framesDecoded() > f + 30, f0, WAIT);
    expect(await page.locator('#transport-note').isVisible()).toBe(true);
    await shot(page, 'student-on-hls');

    // A quiz in the middle: it becomes a chapter of the replay.
    const quiz = await api<{ id: string }>('POST', `/api/classes/${classId}/quizzes`, {
      kind: 'single',
      question: '물의 끓는점은?',
      options: ['50 °C', '100 °C', '150 °C'],
      correct: [1],
      timeLimitSec: 10,
    });
    await api('POST', `/api/quizzes/${quiz.id}/open`);
    await api('POST', `/api/quizzes/${quiz.id}/answers`, { answerId: 'e2e-1', choices: [1] }, joined.token);
    await sleep(Math.max(0, 16_000 - (Date.now() - liveAt)));
    await api('POST', `/api/classes/${classId}/end`);
    liveSeconds = (Date.now() - liveAt) / 1000;
    await publisher.stop();
    publisher = undefined;

    const rec = await until('the recording to complete', async () => {
      const [r] = await recordings();
      return r?.status === 'complete' && r;
    });
    expect(rec.lessonId).toBe(firstLessonId);
    expect(
      Math.abs(rec.durationSec - liveSeconds),
      `recorded ${rec.durationSec} s of ${liveSeconds} s`,
    ).toBeLessThan(2);

    const url = `${server.httpUrl}${rec.playlistUrl}`;
    const probe = (await ffprobeJson(url, [
      '-show_entries',
      'stream=codec_name,width,height:format=duration',
    ])) as {
      streams: { codec_name: string; width?: number; height?: number }[];
      format: { duration: string };
    };
    expect(probe.streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ codec_name: 'h264', width: 1280, height: 720 }),
        expect.objectContaining({ codec_name: 'aac' }),
      ]),
    );
    expect(Math.abs(Number(probe.format.duration) - liveSeconds)).toBeLessThan(2);
    // No gap between segments: consecutive video frames are never more than two frames apart.
    const packets = (await ffprobeJson(url, [
      '-select_streams',
      'v',
      '-show_entries',
      'packet=pts_time',
    ])) as {
      packets: { pts_time: string }[];
    };
    const pts = packets.packets.map((p) => Number(p.pts_time)).sort((x, y) => x - y);
    expect(pts.length).toBeGreaterThan(liveSeconds * 25);
    const worst = Math.max(...pts.slice(1).map((t, i) => t - pts[i]!));
    expect(worst, 'largest gap between video frames, s').toBeLessThan(0.07);
  }, 180_000);

  it('plays the shared replay in Chromium with hls.js: frames, sound, the quiz chapter, the curve', async () => {
    const [rec] = await recordings();
    await api('PATCH', `/api/recordings/${rec!.id}`, { shared: true });
    teacherBrowser = await launchBrowser({ locale: 'ko-KR' });
    const page = await teacherBrowser.newPage();
    const [path, fragment] = rec!.replayUrl.split('#');
    await page.goto(`${server.httpUrl}${path}?autoplay=1#${fragment}`);
    await page.waitForFunction(() => document.body.dataset.replay === 'ready', null, WAIT);
    // Listen to the video's sound through Web Audio.
    await page.evaluate(() => {
      const v = document.querySelector<HTMLVideoElement>('#replay-video')!;
      const ctx = new AudioContext();
      const an = ctx.createAnalyser();
      an.fftSize = 2048;
      ctx.createMediaElementSource(v).connect(an);
      an.connect(ctx.destination);
      const buf = new Float32Array(an.fftSize);
      (window as unknown as { level: () => number }).level = () => {
        an.getFloatTimeDomainData(buf);
        return Math.sqrt(buf.reduce((s, x) => s + x * x, 0) / buf.length);
      };
      void ctx.resume();
      void v.play();
    });
    const frames = () =>
      page.evaluate(
        () =>
          document.querySelector<HTMLVideoElement>('#replay-video')!.getVideoPlaybackQuality()
            .totalVideoFrames,
      );
    const f0 = await frames();
    await until('replay frames to advance', async () => (await frames()) > f0 + 30);
    const level = await until('sound above silence', async () => {
      const l = await page.evaluate(() => (window as unknown as { level: () => number }).level());
      return l > 0.01 && l;
    });
    expect(level).toBeGreaterThan(0.01);
    await expect.poll(() => page.locator('canvas').count()).toBeGreaterThan(0);
    await shot(page, 'replay-playing');

    // The quiz chapter: its button seeks the video there.
    const chapter = page.locator('[data-at-sec]').first();
    const at = Number(await chapter.getAttribute('data-at-sec'));
    expect(at).toBeGreaterThan(2);
    expect(at).toBeLessThan(liveSeconds);
    await page.evaluate(() => document.querySelector<HTMLVideoElement>('#replay-video')!.pause());
    await page.evaluate(() => {
      document.querySelector<HTMLVideoElement>('#replay-video')!.currentTime = 0.5;
    });
    await chapter.click();
    await page.waitForFunction(
      (t) => {
        const v = document.querySelector<HTMLVideoElement>('#replay-video')!;
        return !v.seeking && Math.abs(v.currentTime - t) < 1.5;
      },
      at,
      WAIT,
    );
    await page.evaluate(() => void document.querySelector<HTMLVideoElement>('#replay-video')!.play());
    const f1 = await frames();
    await until('frames after the seek', async () => (await frames()) > f1 + 15);
    await shot(page, 'replay-at-quiz');
    // Whoever holds only the shared link sees no lesson summary (it names who may need help).
    expect(await page.locator('#ai-summary').count()).toBe(0);
    await page.close();

    // The student's final screen finds the shared replay (it asks every 20 s).
    const link = studentPage!.locator('#replays a').first();
    await link.waitFor({ timeout: 40_000 });
    expect(await link.getAttribute('href')).toMatch(new RegExp(`^/replay/${rec!.id}`));
    await shot(studentPage!, 'student-final-replay-link');
    await studentPage!.close();
  }, 120_000);

  it('reports the lesson on the dashboard: JSON, CSV with Korean names, the console view', async () => {
    const report = await api<{
      attendance: { name: string; quizCorrect: number }[];
      quizzes: { question: string; accuracy: number | null; answered: number }[];
      summary: { ko: string[]; en: string[] };
      recordings: { id: string }[];
    }>('GET', `/api/lessons/${firstLessonId}/report`);
    expect(report.attendance.map((a) => a.name)).toEqual([STUDENT]);
    expect(report.quizzes).toEqual([
      expect.objectContaining({ question: '물의 끓는점은?', answered: 1, accuracy: 1 }),
    ]);
    expect(report.summary.ko.length).toBeGreaterThan(0);
    expect(report.recordings).toHaveLength(1);

    const res = await fetch(`${server.httpUrl}/api/lessons/${firstLessonId}/report.csv`, {
      headers: { authorization: `Bearer ${teacherToken}` },
    });
    expect(res.headers.get('content-type')).toContain('text/csv');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = new TextDecoder().decode(bytes.subarray(3)).trim().split('\r\n');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain(STUDENT);
    const classCsv = await fetch(`${server.httpUrl}/api/classes/${classId}/report.csv`, {
      headers: { authorization: `Bearer ${teacherToken}` },
    });
    expect(new TextDecoder().decode(await classCsv.arrayBuffer())).toContain(STUDENT);

    const page = await teacherBrowser!.newPage();
    await teacherBrowser!.context.addCookies([
      { name: 'airclass_session', value: teacherToken, url: server.httpUrl },
    ]);
    await page.goto(`${server.httpUrl}/console?view=dashboard&report=${classId}&lang=ko`);
    await page.waitForSelector('#dash-trend-chart', WAIT);
    await shot(page, 'dashboard-class');
    await page.locator(`tr[data-lesson-id="${firstLessonId}"] .open-report`).click();
    await page.waitForSelector('#lesson-report[data-state="ready"]', WAIT);
    expect(await page.locator('#report-attendance').textContent()).toContain(STUDENT);
    expect(await page.locator('#report-summary').textContent()).toMatch(/[가-힣]/);
    await shot(page, 'dashboard-lesson');

    // The teacher's own replay page shows the lesson summary.
    const [rec] = await recordings();
    await page.goto(`${server.httpUrl}/replay/${rec!.id}?lang=ko`);
    const summary = page.locator('#ai-summary[data-provider="builtin"]');
    await summary.waitFor(WAIT);
    expect(await page.locator('#ai-summary-text').textContent()).toMatch(/[가-힣]/);

    // The class page lists the recording, shared, with its countdown to removal.
    await page.goto(`${server.httpUrl}/console?class=${classId}&lang=ko`);
    const row = page.locator('#recordings-list li.rec').first();
    await row.waitFor(WAIT);
    expect(await row.getAttribute('data-status')).toBe('complete');
    expect(await row.getAttribute('data-shared')).toBe('true');
    expect(await row.locator('time[data-days]').getAttribute('data-days')).toBe('30');
    await row.scrollIntoViewIfNeeded();
    await shot(page, 'console-recordings');
    await page.close();
  }, 90_000);

  it('after kill -9 mid-lesson, the restarted node closes the recording and its segments play', async () => {
    await api('POST', `/api/classes/${classId}/start`);
    publisher = startPublisher();
    await until('the stream to be live again', streamLive);
    const rec = await until('the second recording', async () =>
      (await recordings()).find((r) => r.status === 'recording'),
    );
    const dir = join(dataDir, 'recordings', rec.id);
    await until(
      'three segments on disk',
      async () => readdirSync(dir).filter((f) => f.endsWith('.m4s')).length >= 3,
      40_000,
    );

    // The operator sees it in /health, keeping up with the stream.
    const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
      recording: { on: boolean; active: { id: string; overflows: number }[] };
    };
    expect(health.recording.on).toBe(true);
    expect(health.recording.active).toEqual([expect.objectContaining({ id: rec.id, overflows: 0 })]);

    server.proc.kill('SIGKILL');
    await new Promise((r) => server.proc.once('exit', r));
    await publisher.stop();
    publisher = undefined;
    const offset = server.portOffset;
    server = await startServer({
      dataDir,
      portOffset: offset,
      env: { AIRCLASS_ADMIN_EMAIL: ADMIN.email, AIRCLASS_ADMIN_PASSWORD: ADMIN.password },
    });

    const after = await until('the recording to be closed', async () => {
      const r = (await recordings()).find((x) => x.id === rec.id);
      return r && r.status !== 'recording' && r;
    });
    expect(after.status).toBe('interrupted');
    expect(after.durationSec).toBeGreaterThanOrEqual(4);
    const url = `${server.httpUrl}${after.playlistUrl}`;
    const playlist = await (await fetch(url)).text();
    expect(playlist).toContain('#EXT-X-ENDLIST');
    const { stderr } = await execFileP('ffmpeg', ['-v', 'error', '-i', url, '-f', 'null', '-'], {
      timeout: 60_000,
    });
    expect(stderr.trim()).toBe('');
    const probe = (await ffprobeJson(url, ['-show_entries', 'format=duration'])) as {
      format: { duration: string };
    };
    expect(Number(probe.format.duration)).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
