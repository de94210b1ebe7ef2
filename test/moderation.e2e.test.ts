/**
 * End to end, the chat hold (issue 10), in real Chromium against a real `airclass start` (no
 * video): a student sends a phone number and an insult; her own chat shows them waiting for
 * the teacher; the teacher's console lists both in "검토 대기" with the reason in words, still
 * after a reload; the teacher rejects the insult (the student sees "거절됨") and approves the
 * phone number, which another student then sees as an ordinary message. The other student
 * never sees the insult. Axe finds no serious violation in the queue or the waiting lines. One screenshot of the queue goes to MODERATION_E2E_SHOTS (default
 * the temp dir) for people to look at.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserPool, type TestBrowserPool } from './helpers/chromium.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const ADMIN = { email: 'admin@school.example', password: 'e2e-admin-password' };
const TEACHER = { name: '김선생', email: 'teacher@school.example', password: 'teacher-pass-1' };
const WAIT = { timeout: 30_000 };
const SHOTS = process.env.MODERATION_E2E_SHOTS ?? tmpdir();
const PHONE = '제 번호는 010-1234-5678 이에요';
const INSULT = '야 이 병신아';
const debug = (line: string) => process.env.MODERATION_E2E_DEBUG && console.log(line);

let server: TestServer;
let pool: TestBrowserPool;
const contexts: BrowserContext[] = [];

async function person(locale: string, viewport?: { width: number; height: number }): Promise<Page> {
  const ctx = await pool.newContext({ locale, viewport });
  contexts.push(ctx);
  return ctx.newPage();
}

async function post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Joins the class as `name` and waits for the watch page's chat. */
async function joinClass(page: Page, code: string, name: string, lang: string): Promise<void> {
  await page.goto(`${server.httpUrl}/join?code=${code}&lang=${lang}`);
  await page.fill('#name', name);
  await page.click('#submit');
  await page.waitForURL(/\/watch\/live\//, WAIT);
  await page.waitForSelector('.chat[data-state="open"]', WAIT);
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('.chat-input', text);
  await page.press('.chat-input', 'Enter');
}

/** Serious and critical axe violations inside `selector`, as readable lines. */
async function violations(page: Page, selector: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).include(selector).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** The held entry of the console's queue that shows `text`. */
const queued = (page: Page, text: string) => page.locator('#held-list > li', { hasText: text });

beforeAll(async () => {
  server = await startServer({
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      DATABASE_URL: '',
      REDIS_URL: '',
    },
    readyTimeoutMs: 120_000,
  });
  pool = await launchBrowserPool({ onConsole: debug });
  const admin = (await post('/api/auth/login', ADMIN)).token as string;
  await post('/api/users', TEACHER, admin);
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await pool?.close();
  await server?.stop();
});

describe('the chat hold (real Chromium and airclass start)', () => {
  it("holds a student's phone number and insult for the teacher, who rejects one and approves the other", async () => {
    const teacher = await person('ko-KR', { width: 1440, height: 900 });
    await teacher.goto(`${server.httpUrl}/console?lang=ko`);
    await teacher.waitForURL(/\/login/, WAIT);
    await teacher.fill('#email', TEACHER.email);
    await teacher.fill('#password', TEACHER.password);
    await teacher.click('#submit');
    await teacher.waitForURL(/\/console/, WAIT);
    await teacher.fill('#new-title', '국어 2교시');
    await teacher.click('#create-class');
    await teacher.waitForSelector('#join-code', WAIT);
    await teacher.waitForSelector('.chat[data-state="open"]', WAIT);
    await teacher.click('#start-class');
    await teacher.waitForSelector('#class-status[data-status="live"]', WAIT);
    const code = (await teacher.getAttribute('#join-code', 'data-code')) ?? '';
    await teacher.locator('#moderation-card', { hasText: '검토할 메시지가 없습니다.' }).waitFor(WAIT);

    const hana = await person('ko-KR');
    const duri = await person('en-US');
    await joinClass(hana, code, '하나', 'ko');
    await joinClass(duri, code, 'Duri', 'en');

    // 하나's messages wait: her own chat says so; the teacher's queue lists them with why.
    await say(hana, PHONE);
    const waiting = hana.locator('.chat-log .msg.held[data-state="waiting"]', { hasText: PHONE });
    await waiting.waitFor(WAIT);
    expect(await waiting.locator('.msg-held').textContent()).toBe('선생님 확인 대기 중');
    await say(hana, INSULT);
    await hana.locator('.chat-log .msg.held[data-state="waiting"]', { hasText: INSULT }).waitFor(WAIT);

    await queued(teacher, PHONE).waitFor(WAIT);
    await queued(teacher, INSULT).waitFor(WAIT);
    expect(await queued(teacher, PHONE).locator('.held-name').textContent()).toBe('하나');
    expect(await queued(teacher, PHONE).locator('.held-reasons li').allTextContents()).toEqual(['전화번호']);
    expect(await queued(teacher, INSULT).locator('.held-reasons li').allTextContents()).toEqual(['욕설']);
    expect(await teacher.textContent('#moderation-card-title')).toBe('검토 대기 (2)');
    // Nothing of it in the class's chat, on the teacher's page or Duri's.
    expect(await teacher.locator('.chat-log .msg', { hasText: '010-1234-5678' }).count()).toBe(0);
    expect(await violations(teacher, '#moderation-card')).toEqual([]);
    expect(await violations(hana, '.chat-log')).toEqual([]);
    await teacher.locator('#moderation-card').screenshot({ path: join(SHOTS, 'moderation-queue.png') });
    await teacher.screenshot({ path: join(SHOTS, 'moderation-console.png') });
    await hana.screenshot({ path: join(SHOTS, 'moderation-student.png') });
    console.log(`moderation screenshots: ${join(SHOTS, 'moderation-queue.png')}`);

    // A reloaded console gets the queue from the API.
    await teacher.reload();
    await teacher.waitForSelector('.chat[data-state="open"]', WAIT);
    await queued(teacher, PHONE).waitFor(WAIT);
    await queued(teacher, INSULT).waitFor(WAIT);

    // Rejected: 하나 sees "거절됨"; it leaves the queue; nobody else ever sees it.
    await queued(teacher, INSULT).locator('.held-reject').click();
    const rejected = hana.locator('.chat-log .msg.held[data-state="rejected"]', { hasText: INSULT });
    await rejected.waitFor(WAIT);
    expect(await rejected.locator('.msg-held').textContent()).toBe('거절됨');
    await queued(teacher, INSULT).waitFor({ state: 'detached', ...WAIT });

    // Approved: an ordinary message from 하나 that Duri sees; 하나's waiting line becomes it.
    await queued(teacher, PHONE).locator('.held-approve').click();
    const posted = duri.locator('.chat-log .msg[data-id]', { hasText: PHONE });
    await posted.waitFor(WAIT);
    expect(await posted.locator('.msg-name').textContent()).toBe('하나');
    await hana.locator('.chat-log .msg[data-id]', { hasText: PHONE }).waitFor(WAIT);
    expect(await hana.locator('.chat-log .msg.held', { hasText: PHONE }).count()).toBe(0);
    await teacher.locator('.chat-log .msg[data-id]', { hasText: PHONE }).waitFor(WAIT);
    await queued(teacher, PHONE).waitFor({ state: 'detached', ...WAIT });
    expect(await teacher.textContent('#moderation-card-title')).toBe('검토 대기 (0)');

    // Duri's page never showed the insult (a later message proves the log is current).
    await say(teacher, '다들 조용히 해 주세요');
    await duri.locator('.chat-log .msg[data-id]', { hasText: '다들 조용히' }).waitFor(WAIT);
    expect(await duri.locator('.chat-log', { hasText: INSULT }).count()).toBe(0);
  }, 240_000);
});
