/**
 * The student pages in real Chromium against a real `airclass start` while ffmpeg streams: axe
 * (@axe-core/playwright) finds no serious or critical violation on join and watch (live, with
 * a quiz card, and the final screens), in Korean and English, on a desktop and a 390×844
 * phone. Screenshots of each step are kept for people to look at (not asserted).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const ADMIN = { email: 'admin@school.example', password: 'a11y-admin-password' };
const WAIT = { timeout: 30_000 };
const SHOTS = process.env.A11Y_E2E_SHOTS ?? tmpdir();
const debug = (line: string) => process.env.A11Y_E2E_DEBUG && console.log(line);

let server: TestServer;
let desktop: TestBrowser; // en-US, 1280×800
let phone: TestBrowser; // ko-KR, 390×844
let publisher: Publisher | undefined;
let adminToken = '';
let cls: { id: string; joinCode: string; rtmp: { url: string } };
/** The students' watch pages (en desktop, ko phone, and a ko phone that will be removed). */
let en: Page;
let ko: Page;
let gone: Page;

/** Calls the API as the admin (Bearer). */
async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server.httpUrl}/api${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${adminToken}`,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Serious and critical axe violations on the page as it is now, as readable lines. */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `airclass-a11y-${name}.png`) });
}

/** Joins with the form on `page` and waits for the playing video and the open chat. */
async function joinAndWatch(page: Page, name: string, lang: 'ko' | 'en'): Promise<void> {
  await page.goto(`${server.httpUrl}/join?code=${cls.joinCode}&lang=${lang}`);
  await page.fill('#name', name);
  await page.click('#submit');
  await page.waitForURL(/\/watch\/live\//, WAIT);
  await page.waitForSelector('.chat[data-state="open"]', WAIT);
  await page.waitForFunction(
    () => window.airclass?.state === 'live' && window.airclass.framesDecoded() > 0,
    null,
    WAIT,
  );
}

beforeAll(async () => {
  server = await startServer({
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  [desktop, phone] = await Promise.all([
    launchBrowser({ onConsole: debug }),
    launchBrowser({ locale: 'ko-KR', viewport: { width: 390, height: 844 }, onConsole: debug }),
  ]);
  adminToken = (await call<{ token: string }>('POST', '/auth/login', ADMIN)).token;
  cls = await call('POST', '/classes', { title: '과학 3교시' });
  await call('POST', `/classes/${cls.id}/start`);
  // The picture's size does not matter to accessibility: a light stream keeps the two cores free.
  publisher = publishTestPattern({ url: cls.rtmp.url, size: '640x360', rate: 15 });
}, 120_000);

afterAll(async () => {
  await publisher?.stop();
  await Promise.all([desktop?.close(), phone?.close()]);
  await server?.stop();
});

describe('student pages: keyboard, screen readers, Korean and English, phones', () => {
  it('join has no serious or critical axe violation (en desktop, ko phone)', async () => {
    const en = await desktop.newPage();
    await en.goto(`${server.httpUrl}/join?lang=en`);
    await en.waitForSelector('#code');
    expect(await en.textContent('h1')).toBe('Join a class');
    expect(await violations(en)).toEqual([]);
    await shot(en, 'join-en');
    // Keyboard: the code field has focus, Tab reaches the name and the button.
    expect(await en.evaluate(() => document.activeElement?.id)).toBe('code');
    await en.keyboard.press('Tab');
    expect(await en.evaluate(() => document.activeElement?.id)).toBe('name');
    // The language switch re-renders in Korean and keeps the choice in the URL.
    await en.click('#lang');
    expect(await en.textContent('h1')).toBe('수업 참여');
    expect(new URL(en.url()).searchParams.get('lang')).toBe('ko');
    expect(await en.getAttribute('html', 'lang')).toBe('ko');

    const ko = await phone.newPage();
    await ko.goto(`${server.httpUrl}/join?code=${cls.joinCode}`);
    await ko.waitForSelector('#code');
    expect(await ko.textContent('h1')).toBe('수업 참여');
    expect(await ko.inputValue('#code')).toBe(cls.joinCode);
    expect(await violations(ko)).toEqual([]);
    await shot(ko, 'join-ko-phone');
    await Promise.all([en.close(), ko.close()]);
  }, 60_000);

  it('watch has no serious or critical axe violation (en desktop, ko phone)', async () => {
    en = await desktop.newPage();
    ko = await phone.newPage();
    gone = await phone.newPage();
    await joinAndWatch(en, 'Mina', 'en');
    await joinAndWatch(ko, '지훈', 'ko');
    await joinAndWatch(gone, '서연', 'ko');
    expect(await violations(en)).toEqual([]);
    expect(await violations(ko)).toEqual([]);
    await shot(en, 'watch-en');
    await shot(ko, 'watch-ko-phone');
  }, 120_000);

  it('the quiz card has no serious or critical axe violation, open and revealed', async () => {
    expect(en && ko, 'needs the pages of the previous test').toBeTruthy();
    // A quiz appears on every student's page.
    const quiz = await call<{ id: string }>('POST', `/classes/${cls.id}/quizzes`, {
      kind: 'single',
      question: '물의 끓는점은?',
      options: ['50 °C', '100 °C', '150 °C'],
      correct: [1],
      timeLimitSec: 60,
      anonymous: true,
    });
    await call('POST', `/quizzes/${quiz.id}/open`);
    for (const page of [en, ko]) await page.waitForSelector('#quiz[data-phase="open"]', WAIT);
    expect(await en.textContent('.quiz-anon')).toContain("Classmates don't see your name");
    expect(await violations(en)).toEqual([]);
    expect(await violations(ko)).toEqual([]);
    await shot(ko, 'quiz-ko-phone');
    await ko.click('.quiz-option >> nth=1');
    await ko.click('#quiz-submit');
    await ko.waitForSelector('#quiz[data-phase="answered"]', WAIT);
    await call('POST', `/quizzes/${quiz.id}/close`);
    await call('POST', `/quizzes/${quiz.id}/reveal`);
    await ko.waitForSelector('#quiz[data-phase="revealed"]', WAIT);
    expect(await violations(ko)).toEqual([]);
    await shot(ko, 'quiz-revealed-ko-phone');
  }, 60_000);

  it('a removed student and the end of the lesson see calm final screens without violations', async () => {
    expect(en && ko && gone, 'needs the pages of the watch test').toBeTruthy();
    // The teacher removes one student: their page says why, and stops.
    const sub = await gone.evaluate(() => {
      const jwt = new URLSearchParams(location.search).get('jwt') ?? '';
      return (JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string })
        .sub;
    });
    await call('DELETE', `/classes/${cls.id}/participants/${sub}`);
    await gone.waitForSelector('#stage[data-final="removed"]', WAIT);
    expect(await gone.textContent('#overlay-title')).toBe('수업에서 나가게 되었습니다');
    expect(await violations(gone)).toEqual([]);
    await shot(gone, 'removed-ko-phone');

    // The lesson ends: a calm final screen, no spinner, the player stopped.
    await call('POST', `/classes/${cls.id}/end`);
    for (const page of [en, ko]) {
      await page.waitForSelector('#stage[data-final="ended"]', WAIT);
      await page.waitForFunction(() => window.airclass?.state === 'ended', null, WAIT);
      expect(await page.locator('.spinner').count()).toBe(0);
      expect(await page.locator('#join-another').isVisible()).toBe(true);
    }
    expect(await en.textContent('#overlay-title')).toBe('The class has ended');
    expect(await ko.textContent('#overlay-title')).toBe('수업이 끝났습니다');
    expect(await violations(en)).toEqual([]);
    expect(await violations(ko)).toEqual([]);
    await shot(en, 'ended-en');
    await shot(ko, 'ended-ko-phone');
    console.log(`a11y screenshots: ${join(SHOTS, 'airclass-a11y-*.png')}`);
  }, 180_000);
});

describe('teacher pages: console, monitor and projector, Korean and English', () => {
  it('console (live class, quiz editor, accounts), projector and monitor have no serious or critical axe violation', async () => {
    const teacherLogin = { email: 'teacher-a11y@school.example', password: 'teacher-a11y-pass' };
    await call('POST', '/users', { ...teacherLogin, name: '박선생' });
    const browser = await launchBrowser({ viewport: { width: 1440, height: 900 }, onConsole: debug });
    let pub: Publisher | undefined;
    try {
      const page = await browser.newPage();
      const origin = { Origin: server.httpUrl };
      // The session cookie, as /login sets it.
      const post = async <T>(path: string, data?: unknown): Promise<T> => {
        const res = await page.request.post(`${server.httpUrl}/api${path}`, { data, headers: origin });
        expect(res.ok(), `${path}: ${res.status()} ${await res.text()}`).toBe(true);
        return (await res.json().catch(() => null)) as T;
      };
      await post('/auth/login', teacherLogin);
      const c = await post<{ id: string; rtmp: { streamKey: string } }>('/classes', { title: '국어 2교시' });
      await post(`/classes/${c.id}/start`);
      pub = publishTestPattern({
        url: `${server.rtmpUrl}/live/${c.rtmp.streamKey}`,
        size: '640x360',
        rate: 15,
      });

      for (const lang of ['en', 'ko'] as const) {
        await page.goto(`${server.httpUrl}/console?lang=${lang}&class=${c.id}`);
        await page.waitForSelector('.chat[data-state="open"]', WAIT);
        await page.waitForSelector('#preview-state[data-status="live"]', WAIT);
        await page.waitForSelector('#stream-badge[data-state="live"]', WAIT);
        expect(await violations(page)).toEqual([]);
        await shot(page, `console-${lang}`);
      }
      expect(await page.textContent('#preview-state')).toBe('수신 중');
      // Keyboard: the lesson buttons are reachable with Tab and the confirm takes the focus.
      await page.focus('#end-class');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.id === 'confirm-end', null, WAIT);
      await page.keyboard.press('Escape');
      await page.waitForFunction(() => document.activeElement?.id === 'end-class', null, WAIT);
      await page.click('#quiz-new');
      await page.waitForSelector('#quiz-editor');
      expect(await violations(page)).toEqual([]);
      await shot(page, 'console-quiz-editor-ko');

      // The projector: code, QR and (later) quiz aggregates.
      const projector = await browser.newPage();
      await projector.goto(`${server.httpUrl}/projector?lang=en#class=${c.id}`);
      await projector.waitForSelector('#p-code:not([data-code=""])', WAIT);
      expect(await violations(projector)).toEqual([]);
      await shot(projector, 'projector-en');

      // The monitor link, then the lesson ends: the monitor shows the final screen.
      const link = await post<{ url: string }>(`/classes/${c.id}/monitor-links`);
      const monitor = await browser.newPage();
      await monitor.goto(`${server.httpUrl}/monitor?lang=ko${new URL(link.url).hash}`);
      await monitor.waitForSelector('.chat[data-state="open"]', WAIT);
      expect(await violations(monitor)).toEqual([]);
      await shot(monitor, 'monitor-ko');
      await page.click('#end-class');
      await page.click('#confirm-end');
      await page.waitForSelector('#lesson-ended', WAIT);
      await monitor.waitForSelector('#final', WAIT);
      expect(await monitor.textContent('#final h1')).toBe('수업이 끝났습니다');
      expect(await violations(monitor)).toEqual([]);
      expect(await violations(page)).toEqual([]);
      await shot(monitor, 'monitor-ended-ko');
      await shot(page, 'console-ended-ko');

      // The admin's accounts view.
      await post('/auth/login', ADMIN);
      await page.goto(`${server.httpUrl}/console?lang=en&view=teachers`);
      await page.locator('table.users td', { hasText: teacherLogin.email }).waitFor(WAIT);
      expect(await violations(page)).toEqual([]);
      await shot(page, 'console-accounts-en');
    } finally {
      await pub?.stop();
      await browser.close();
    }
  }, 180_000);
});
