/**
 * End to end, issue 6 "Done when", in real Chromium against a real `airclass start` while real
 * ffmpeg streams to the class: a teacher signs in, creates a class and starts a lesson; three
 * students join by code in their own browser contexts (one ko-KR, one on a 390×844 phone) and
 * watch the video; chat goes both ways; the teacher pushes a multiple-choice quiz, the students
 * answer, the teacher's chart counts the three answers, and the quiz closes on time; a student
 * who hides the tab drops in the teacher's engagement panel; a raised hand and a reaction reach
 * the teacher; the teacher ends the lesson: the publisher is cut, students see the final
 * screen, and a saved watch link no longer plays. A screenshot of every step is kept in
 * test-artifacts/lesson-e2e/ (look at them). No timing assertions beyond the 5 s for
 * the end.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  launchBrowserPool,
  type TestBrowser,
  type TestBrowserPool,
} from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';

const ADMIN = { email: 'admin@school.example', password: 'lesson-e2e-admin-1' };
const TEACHER = { name: '박선생', email: 'park@school.example', password: 'teacher-pass-1' };
const WAIT = { timeout: 30_000 };
const SHOTS = process.env.LESSON_E2E_SHOTS ?? join(REPO_ROOT, 'test-artifacts', 'lesson-e2e');
const debug = (line: string) => process.env.LESSON_E2E_DEBUG && console.log(line);

/** The three students: name, browser context options, the page they watch on. */
const STUDENTS = [
  { name: 'Mina', locale: 'en-US', viewport: { width: 1280, height: 800 } },
  { name: '지훈', locale: 'ko-KR', viewport: { width: 1280, height: 800 } },
  { name: 'Sora', locale: 'en-US', viewport: { width: 390, height: 844 }, isMobile: true },
] as const;

let server: TestServer;
let teacherBrowser: TestBrowser;
let pool: TestBrowserPool;
let publisher: Publisher | undefined;
let teacher: Page;
const students: { name: string; ctx: BrowserContext; page: Page; watchUrl: string }[] = [];
let joinCode = '';
let step = 0;

/** Saves a screenshot of `page` as the next numbered step. */
async function shot(page: Page, name: string): Promise<void> {
  const file = join(SHOTS, `${String(++step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  debug(`screenshot ${file}`);
}

async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until the student's player is live with frames advancing. */
async function watching(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const a = window.airclass;
      return a?.state === 'live' && a.framesDecoded() > 10 && a.videoSize().width > 0;
    },
    null,
    WAIT,
  );
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('.chat-input', text);
  await page.press('.chat-input', 'Enter');
}

async function sees(page: Page, text: string): Promise<void> {
  await page.locator('.chat-log .msg[data-id]', { hasText: text }).waitFor(WAIT);
}

/** The score the teacher's engagement panel shows for a student (NaN while absent). */
async function scoreOf(name: string): Promise<number> {
  const v = await teacher
    .locator(`#engagement tr[data-student-name="${name}"]`)
    .getAttribute('data-score', { timeout: 1000 })
    .catch(() => null);
  return v === null ? NaN : Number(v);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer({
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  const admin = await api<{ token: string }>('POST', '/api/auth/login', ADMIN);
  await api('POST', '/api/users', TEACHER, admin.token);
  [teacherBrowser, pool] = await Promise.all([
    launchBrowser({ viewport: { width: 1440, height: 900 }, onConsole: debug }),
    launchBrowserPool({ onConsole: debug }),
  ]);
}, 120_000);

afterAll(async () => {
  await publisher?.stop();
  await Promise.all([teacherBrowser?.close(), pool?.close()]);
  await server?.stop();
  console.log(`lesson e2e screenshots: ${SHOTS}`);
});

describe('a whole lesson from the browser (real Chromium, ffmpeg and airclass start)', () => {
  it('the teacher starts a lesson and streams; three students join by code and watch', async () => {
    teacher = await teacherBrowser.newPage();
    await teacher.goto(`${server.httpUrl}/login?lang=en`);
    await teacher.fill('#email', TEACHER.email);
    await teacher.fill('#password', TEACHER.password);
    await teacher.click('#submit');
    await teacher.waitForURL(/\/console/, WAIT);
    await teacher.fill('#new-title', '과학 3교시');
    await teacher.click('#create-class');
    await teacher.waitForSelector('#join-code', WAIT);
    await teacher.click('#start-class');
    await teacher.waitForSelector('#class-status[data-status="live"]', WAIT);
    joinCode = (await teacher.getAttribute('#join-code', 'data-code')) ?? '';
    expect(joinCode).toMatch(/^[0-9]{6}$/);
    await teacher.click('#toggle-key');
    const key = (await teacher.textContent('#stream-key'))?.trim() ?? '';
    expect(key).toMatch(/^[A-Za-z0-9_-]{32,128}$/);

    publisher = publishTestPattern({ url: `${server.rtmpUrl}/live/${key}`, size: '854x480', rate: 24 });
    await teacher.waitForSelector('#stream-badge[data-state="live"]', WAIT);
    await teacher.waitForSelector('#preview-state[data-status="live"]', WAIT);
    await shot(teacher, 'teacher-live');

    for (const s of STUDENTS) {
      const ctx = await pool.newContext(s);
      const page = await ctx.newPage();
      await page.goto(`${server.httpUrl}/join?code=${joinCode}`);
      expect(await page.inputValue('#code')).toBe(joinCode);
      await page.fill('#name', s.name);
      await page.click('#submit');
      await page.waitForURL(/\/watch\/live\//, WAIT);
      students.push({ name: s.name, ctx, page, watchUrl: page.url() });
    }
    for (const s of students) await watching(s.page);
    // The Korean student's page speaks Korean; the phone's page fits its narrow screen.
    expect(await students[1]!.page.getAttribute('html', 'lang')).toBe('ko');
    expect(await students[2]!.page.evaluate(() => window.airclass!.videoSize().width)).toBe(854);
    const phoneOverflow = await students[2]!.page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(phoneOverflow).toBeLessThanOrEqual(0);
    for (const s of students) await shot(s.page, `student-${s.name}-watching`);
    // The teacher's roster lists all three.
    for (const s of STUDENTS)
      await teacher.locator('#roster tr[data-name]', { hasText: s.name }).waitFor(WAIT);
  }, 240_000);

  it('chat goes both ways', async () => {
    await say(teacher, 'Good morning! Today: photosynthesis.');
    for (const s of students) await sees(s.page, 'photosynthesis');
    await say(students[1]!.page, '선생님 질문 있어요!');
    await sees(teacher, '선생님 질문 있어요!');
    await shot(teacher, 'teacher-chat');
  }, 60_000);

  it('a multiple-choice quiz: pushed, answered by three, counted on the chart, closed on time', async () => {
    await teacher.click('#quiz-new');
    await teacher.selectOption('#quiz-kind', 'multiple');
    await teacher.fill('#quiz-question', 'Which ones do plants need for photosynthesis?');
    const options = ['Salt', 'Light', 'Water', 'Sand'];
    while ((await teacher.locator('.quiz-option-text').count()) < options.length)
      await teacher.click('#quiz-add-option');
    for (let i = 0; i < options.length; i++)
      await teacher.locator('.quiz-option-text').nth(i).fill(options[i]!);
    await teacher.locator('.quiz-correct').nth(1).check();
    await teacher.locator('.quiz-correct').nth(2).check();
    await teacher.fill('#quiz-time', '12');
    await shot(teacher, 'quiz-editor');
    await teacher.click('#quiz-save');
    const item = teacher.locator('#quiz-bank li[data-quiz-id]').first();
    await item.waitFor(WAIT);
    await item.locator('.quiz-push').click();
    await teacher.waitForSelector('#quiz-live[data-status="open"]', WAIT);

    // Each student ticks their choices and sends them.
    const picks = [[1, 2], [1], [0, 1]];
    for (const [i, s] of students.entries()) {
      await s.page.waitForSelector('#quiz[data-phase="open"]', WAIT);
      for (const c of picks[i]!) await s.page.locator('#quiz input[name="quiz-choice"]').nth(c).check();
      await s.page.click('#quiz-submit');
      await s.page.waitForSelector('#quiz[data-phase="answered"]', WAIT);
    }
    await shot(students[2]!.page, 'student-phone-quiz-answered');
    // The teacher's chart counts per option: Salt 1, Light 3, Water 1, Sand 0.
    await teacher.waitForSelector('#quiz-chart canvas[data-counts="1,3,1,0"]', WAIT);
    await teacher.waitForSelector('#quiz-answered[data-answered="3"]', WAIT);
    await shot(teacher, 'quiz-chart-three-answers');

    // Nobody closes it: the server does, at its time limit, and everyone sees it closed.
    await teacher.waitForSelector('#quiz-live[data-status="closed"]', { timeout: 40_000 });
    for (const s of students) await s.page.waitForSelector('#quiz[data-phase="closed"]', WAIT);
    await teacher.click('#quiz-reveal');
    await students[0]!.page.waitForSelector('#quiz[data-phase="revealed"]', WAIT);
    await shot(teacher, 'quiz-closed-revealed');
    await shot(students[0]!.page, 'student-quiz-revealed');
  }, 120_000);

  it('a student who hides the tab drops in the engagement panel; a hand and a reaction reach the teacher', async () => {
    const hider = students[1]!;
    // Every student has a score once the panel has heard from them.
    await teacher.waitForFunction(
      (names) => names.every((n) => document.querySelector(`#engagement tr[data-student-name="${n}"]`)),
      students.map((s) => s.name),
      WAIT,
    );
    const before = await scoreOf(hider.name);
    expect(before).toBeGreaterThan(0);
    await hider.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await teacher.waitForFunction(
      ({ name, before }) => {
        const v = document
          .querySelector(`#engagement tr[data-student-name="${name}"]`)
          ?.getAttribute('data-score');
        return v !== null && v !== undefined && Number(v) <= before - 5;
      },
      { name: hider.name, before },
      { timeout: 45_000 },
    );
    // (Scores of others are not compared: the hider chatted, which counts for them.)
    expect(await scoreOf(hider.name)).toBeLessThanOrEqual(before - 5);

    await students[0]!.page.click('#hand');
    await teacher.locator(`#hands li[data-name="${students[0]!.name}"]`).waitFor(WAIT);
    await students[2]!.page.click('.reaction[data-kind="clap"]');
    await teacher.waitForSelector('#reaction-counts li[data-kind="clap"][data-count="1"]', WAIT);
    await shot(teacher, 'engagement-hand-reaction');
  }, 90_000);

  it('ending the lesson ends it for everyone: publisher cut within 5 s, final screens, a saved link no longer plays', async () => {
    const exited = publisher!.exited;
    await teacher.click('#end-class');
    await teacher.click('#confirm-end');
    const endedAt = Date.now();
    // The bound: the publisher is disconnected within 5 s.
    const cut = await Promise.race([
      exited.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 5000)),
    ]);
    expect(cut, `ffmpeg still publishing 5 s after the end:\n${publisher!.stderrTail()}`).toBe(true);
    debug(`publisher gone ${Date.now() - endedAt} ms after the end`);
    await teacher.waitForSelector('#lesson-ended', WAIT);
    // The engagement panel keeps the last scores but no longer says anyone is watching.
    await teacher.waitForSelector('#engagement-final', WAIT);
    expect(await teacher.locator('#engagement .eng-state').count()).toBe(0);
    expect(await teacher.locator('#engagement tr[data-student-name]').count()).toBe(3);
    for (const s of students) {
      await s.page.waitForSelector('#stage[data-final="ended"]', WAIT);
      const text = await s.page.locator('#stage').innerText();
      expect(text).toContain(s.name === '지훈' ? '수업이 끝났습니다' : 'The class has ended');
    }
    await shot(teacher, 'teacher-lesson-ended');
    for (const s of students) await shot(s.page, `student-${s.name}-ended`);

    // A saved watch link (the same token) opened again: the final screen, no picture.
    const again = await students[0]!.ctx.newPage();
    await again.goto(students[0]!.watchUrl);
    await again.waitForSelector('#stage[data-final="ended"]', WAIT);
    expect(await again.evaluate(() => window.airclass?.framesDecoded() ?? 0)).toBe(0);
    await shot(again, 'saved-link-after-end');
    // And the server says so to anything that asks with that token.
    const token = new URL(students[0]!.watchUrl).searchParams.get('jwt') ?? '';
    const whep = await fetch(
      `${server.httpUrl}${new URL(students[0]!.watchUrl).pathname.replace(/^\/watch/, '')}/whep`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${token}` },
        body: 'v=0\r\n',
      },
    );
    expect(whep.status).toBe(410);
  }, 90_000);
});
