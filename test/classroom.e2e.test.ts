/**
 * End to end, issue 3 "Done when", in real Chromium against a real `airclass start`: the admin
 * signs in and creates a teacher; the teacher signs in, creates and starts a class, reads the
 * stream key off the console and publishes with real ffmpeg; a student in another browser
 * joins with the class's code, sees the video play, and teacher and student chat both ways. A
 * student whose connection drops gets what was said meanwhile (reconnect with `since=`).
 * Everything goes through the pages, as a person would; no timing assertions.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const ADMIN_EMAIL = 'admin@school.example';
const ADMIN_PASSWORD = 'e2e-admin-password';
const TEACHER = { name: 'Kim Teacher', email: 'teacher@school.example', password: 'teacher-pass-1' };
const WAIT = { timeout: 30_000 };
/** Screenshots of the finished flow (looked at by people, not asserted). */
const SHOTS = process.env.CLASSROOM_E2E_SHOTS ?? tmpdir();
const debug = (line: string) => process.env.CLASSROOM_E2E_DEBUG && console.log(line);

let server: TestServer;
let teacherBrowser: TestBrowser;
let studentBrowser: TestBrowser;
let publisher: Publisher | undefined;
/** Set by the first test: the teacher's console with a live class, and the class's code. */
let teacher: Page | undefined;
let joinCode = '';

/** Fills the sign-in form and waits for the console. */
async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#submit');
  await page.waitForURL(/\/console/, WAIT);
}

/** Joins the class as `name` from the QR link and waits for the watch page's chat. */
async function joinClass(page: Page, code: string, name: string): Promise<void> {
  await page.goto(`${server.httpUrl}/join?code=${code}&lang=en`);
  expect(await page.inputValue('#code')).toBe(code); // prefilled from the QR link
  await page.fill('#name', name);
  await page.click('#submit');
  await page.waitForURL(/\/watch\/live\//, WAIT);
  await page.waitForSelector('.chat[data-state="open"]', WAIT);
}

/** Sends a chat message from the panel on `page` (typed, then Enter). */
async function say(page: Page, text: string): Promise<void> {
  await page.fill('.chat-input', text);
  await page.press('.chat-input', 'Enter');
}

/** Waits until `page` shows a delivered (not pending) chat message with `text`. */
async function sees(page: Page, text: string): Promise<void> {
  await page.locator('.chat-log .msg[data-id]', { hasText: text }).waitFor(WAIT);
}

beforeAll(async () => {
  // PGlite and the in-process bus (an empty value unsets a DATABASE_URL/REDIS_URL from CI).
  server = await startServer({
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN_EMAIL,
      AIRCLASS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  [teacherBrowser, studentBrowser] = await Promise.all([
    launchBrowser({ viewport: { width: 1440, height: 900 }, onConsole: debug }),
    launchBrowser({ onConsole: debug }),
  ]);
}, 120_000);

afterAll(async () => {
  await publisher?.stop();
  await Promise.all([teacherBrowser?.close(), studentBrowser?.close()]);
  await server?.stop();
});

describe('a class from sign-in to chat (real Chromium, ffmpeg and airclass start)', () => {
  it('admin makes a teacher; the teacher streams a class; a student joins by code, watches and chats', async () => {
    const page = await teacherBrowser.newPage();

    // The admin signs in and creates a teacher account, then signs out.
    await page.goto(`${server.httpUrl}/console?lang=en`);
    await page.waitForURL(/\/login/, WAIT); // no session yet
    await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    await page.click('#open-admin');
    await page.fill('#teacher-name', TEACHER.name);
    await page.fill('#teacher-email', TEACHER.email);
    await page.fill('#teacher-password', TEACHER.password);
    await page.click('#create-teacher');
    await page.waitForSelector('#teacher-created', WAIT);
    await page.locator('table.users td', { hasText: TEACHER.email }).waitFor(WAIT);
    await page.click('#logout');
    await page.waitForURL(/\/login/, WAIT);

    // The teacher signs in, creates the class and starts it.
    await signIn(page, TEACHER.email, TEACHER.password);
    await page.fill('#new-title', '수학 1교시');
    await page.click('#create-class');
    await page.waitForSelector('#join-code', WAIT);
    expect(await page.textContent('#class-title')).toBe('수학 1교시');
    await page.waitForSelector('.chat[data-state="open"]', WAIT);
    await page.click('#start-class');
    await page.waitForSelector('#class-status[data-status="live"]', WAIT);
    joinCode = (await page.getAttribute('#join-code', 'data-code')) ?? '';
    expect(joinCode).toMatch(/^[0-9]{6}$/);

    // The stream key is hidden until "show"; the server field is what an RTMP app asks for.
    expect(await page.textContent('#stream-key')).not.toMatch(/[A-Za-z0-9_-]{32}/);
    await page.click('#toggle-key');
    const streamKey = (await page.textContent('#stream-key'))?.trim() ?? '';
    expect(streamKey).toMatch(/^[A-Za-z0-9_-]{32,128}$/);
    expect(await page.textContent('#rtmp-server')).toMatch(/^rtmp:\/\/.+\/live$/);

    // Real ffmpeg publishes with the class's key; the teacher's preview shows it.
    publisher = publishTestPattern({ url: `${server.rtmpUrl}/live/${streamKey}`, size: '1280x720' });
    await page.waitForSelector('#preview-state[data-status="live"]', WAIT);
    teacher = page;

    // A student in another browser joins with the code and watches.
    const student = await studentBrowser.newPage();
    await joinClass(student, joinCode, '민지');
    await student.waitForFunction(
      () => {
        const a = window.airclass;
        return a?.state === 'live' && a.framesDecoded() > 0 && a.videoSize().width > 0;
      },
      null,
      WAIT,
    );
    expect(await student.evaluate(() => window.airclass!.videoSize())).toEqual({ width: 1280, height: 720 });
    expect(await student.textContent('#path')).toBe('수학 1교시'); // the bar names the class

    // The teacher sees the student in the roster.
    await page.click('.chat-tab >> nth=1');
    await page.locator('.chat-roster .person', { hasText: '민지' }).waitFor(WAIT);
    await page.click('.chat-tab >> nth=0');

    // Teacher → student.
    await say(page, 'Welcome! Today: quadratic equations.');
    await sees(student, 'Welcome! Today: quadratic equations.');
    const fromTeacher = student.locator('.chat-log .msg', { hasText: 'quadratic equations' });
    expect(await fromTeacher.locator('.msg-name').textContent()).toBe(TEACHER.name);
    expect(await fromTeacher.locator('.role-teacher').count()).toBe(1);

    // Student → teacher (Korean text, sent with the button).
    await student.fill('.chat-input', '선생님 안녕하세요! 화면 잘 보여요.');
    await student.click('.chat-send');
    await sees(page, '선생님 안녕하세요! 화면 잘 보여요.');
    const fromStudent = page.locator('.chat-log .msg', { hasText: '화면 잘 보여요' });
    expect(await fromStudent.locator('.msg-name').textContent()).toBe('민지');

    await page.screenshot({ path: join(SHOTS, 'airclass-console.png') });
    await student.screenshot({ path: join(SHOTS, 'airclass-student.png') });
    console.log(`classroom screenshots: ${join(SHOTS, 'airclass-console.png')}, airclass-student.png`);
  }, 240_000);

  it('a student whose connection drops gets the messages sent meanwhile, once each', async () => {
    expect(teacher, 'needs the live class of the previous test').toBeDefined();
    const page = teacher!;
    const student = await studentBrowser.newPage();
    // Every /ws socket of this page goes through here: passed on to the server, or refused
    // (with 4500, a drop: 4000/4001/4003 are final codes after which the page does not retry).
    let refuse = false;
    const sockets: WebSocketRoute[] = [];
    const urls: string[] = [];
    await student.routeWebSocket(/\/ws\b/, (ws) => {
      urls.push(ws.url());
      if (refuse) {
        void ws.close({ code: 4500, reason: 'test: network down' });
        return;
      }
      ws.connectToServer();
      sockets.push(ws);
    });
    await joinClass(student, joinCode, '지훈');
    await say(page, 'before the drop');
    await sees(student, 'before the drop');

    // The student's connection drops and stays down while the teacher talks.
    refuse = true;
    for (const ws of sockets.splice(0)) await ws.close({ code: 4500, reason: 'test: network down' });
    await student.waitForSelector('.chat[data-state="reconnecting"]', WAIT);
    await say(page, 'said while you were away');
    await sees(page, 'said while you were away');

    // Back online: the next attempt asks for what came after the last seq it saw.
    const attempts = urls.length;
    refuse = false;
    await student.waitForSelector('.chat[data-state="open"]', WAIT);
    await sees(student, 'said while you were away');
    const since = Number(new URL(urls.at(-1)!).searchParams.get('since'));
    expect(urls.length).toBeGreaterThan(attempts);
    expect(since).toBeGreaterThan(0);
    expect(await student.locator('.chat-log .msg', { hasText: 'before the drop' }).count()).toBe(1);
    expect(await student.locator('.chat-log .msg', { hasText: 'said while you were away' }).count()).toBe(1);
  }, 120_000);
});
