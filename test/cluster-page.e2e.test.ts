/**
 * The admin's cluster view in real Chromium against a real in-process node: two subs register
 * and heartbeat through the real API (one keeps reporting, one falls silent and goes dead); the
 * admin opens "클러스터" from the sidebar and sees the main and both subs with their load, in
 * Korean (the default) and in English, refreshed without a reload; an error line appears when
 * the request starts failing (the session is signed out); a teacher never sees the entry and
 * the server refuses them. Screenshot: /tmp/cluster-view.png (Korean) and
 * /tmp/cluster-view-en.png.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserPool, type TestBrowserPool } from './helpers/chromium.ts';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';

const ADMIN = { email: 'admin@airclass.local', password: TEST_ADMIN_PASSWORD };
const TEACHER = { name: 'Teacher', email: 'teacher@school.test', password: 'teacher-password' };
const WAIT = { timeout: 15_000 };
const SHOT = '/tmp/cluster-view.png';
const SHOT_EN = '/tmp/cluster-view-en.png';
const debug = (line: string) => process.env.CLUSTER_E2E_DEBUG && console.log(line);

let t: TestNode;
let pool: TestBrowserPool;
let adminCtx: BrowserContext;
let teacherCtx: BrowserContext;
let beat: ReturnType<typeof setInterval> | undefined;
/** What sub-1 reports on each heartbeat (the test changes it to see the page refresh). */
const load = { viewers: 12, cpu: 7.5, paths: ['live/x'] };

async function call(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  return fetch(`${t.http}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Registers a sub through the real API and sends one heartbeat; returns its node token. */
async function registerSub(id: string, heartbeat: typeof load): Promise<string> {
  const token = await t.node.tokens.signNode(id, '1h');
  const body = { id, name: id, httpUrl: 'http://127.0.0.1:9', capacity: 150, startedAt: Date.now() };
  const reg = await call('POST', '/api/cluster/nodes', body, token);
  expect(reg.status, await reg.clone().text()).toBe(201);
  const hb = await call('PUT', `/api/cluster/nodes/${id}/heartbeat`, heartbeat, token);
  expect(hb.status).toBe(204);
  return token;
}

async function signIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${t.http}/login`);
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  await page.click('#submit');
  await page.waitForURL(/\/console/, WAIT);
  await page.waitForSelector('#console', WAIT);
}

/** The text of one cell of a node's row. */
const cell = (page: Page, id: string, cls: string) =>
  page.locator(`#cluster-table tr[data-id="${id}"] .${cls}`).innerText();

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

beforeAll(async () => {
  // Heartbeats every second: a silent sub is dead after 3 s (heartbeatMs × 3 missed).
  [t, pool] = await Promise.all([
    startTestNode({ clusterHeartbeatMs: 1000 }),
    launchBrowserPool({ onConsole: debug }),
  ]);
  const admin = (await (await call('POST', '/api/auth/login', ADMIN)).json()) as { token: string };
  const made = await call('POST', '/api/users', TEACHER, admin.token);
  expect(made.status).toBe(201);

  const sub1 = await registerSub('sub-1', load);
  beat = setInterval(() => {
    call('PUT', '/api/cluster/nodes/sub-1/heartbeat', load, sub1).catch((e: unknown) => debug(String(e)));
  }, 400);
  await registerSub('sub-2', { viewers: 0, cpu: 0, paths: [] }); // then silent: goes dead

  [adminCtx, teacherCtx] = await Promise.all([
    pool.newContext({ locale: 'ko-KR', viewport: { width: 1440, height: 900 } }),
    pool.newContext({ locale: 'en-US' }),
  ]);
}, 30_000);

afterAll(async () => {
  clearInterval(beat);
  await pool?.close();
  await t?.stop();
});

describe('the cluster view of the console (real Chromium, real node)', () => {
  it('an admin sees the main and the subs, live, in Korean and English', async () => {
    const page = await adminCtx.newPage();
    await signIn(page, ADMIN);
    expect(await page.getAttribute('html', 'lang')).toBe('ko');
    await page.click('#open-cluster');
    expect(new URL(page.url()).searchParams.get('view')).toBe('cluster');
    expect(await page.getAttribute('#open-cluster', 'aria-current')).toBe('page');
    await page.waitForSelector('#cluster-table tr[data-id="sub-1"]', WAIT);

    expect(await page.innerText('#main h1')).toBe('클러스터');
    expect(await page.innerText('#open-cluster')).toBe('클러스터');
    const ids = await page
      .locator('#cluster-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(ids).toEqual(['main', 'sub-1', 'sub-2']);
    expect(await page.getAttribute('#cluster-table tr[data-id="main"]', 'data-state')).toBe('alive');
    expect(await cell(page, 'main', 'node-role')).toBe('메인');
    expect(await cell(page, 'sub-1', 'node-role')).toBe('서브');
    expect(await cell(page, 'sub-1', 'node-state')).toBe('정상');
    expect(await cell(page, 'sub-1', 'node-viewers')).toContain('12 / 150');
    expect(await cell(page, 'sub-1', 'node-cpu')).toBe('7.5 %');
    expect(await cell(page, 'sub-1', 'node-paths')).toBe('live/x');
    expect(await cell(page, 'sub-1', 'node-assigned')).toBe('0');
    expect(await cell(page, 'sub-1', 'node-seen')).toMatch(/^(방금|\d+초 전)$/);
    const bar = await page
      .locator('#cluster-table tr[data-id="sub-1"] .load-bar span')
      .evaluate((el) => (el as HTMLElement).style.width);
    expect(parseFloat(bar)).toBeCloseTo(8, 0); // 12 of 150

    // Refreshed in place (no reload): sub-1's new figures appear, silent sub-2 turns dead.
    load.viewers = 13;
    const sub2 = page.locator('#cluster-table tr[data-id="sub-2"]');
    await page
      .locator('#cluster-table tr[data-id="sub-1"] .node-viewers', { hasText: '13 / 150' })
      .waitFor(WAIT);
    await page.locator('#cluster-table tr[data-id="sub-2"][data-state="dead"]').waitFor(WAIT);
    expect(await sub2.locator('.node-state').innerText()).toBe('응답 없음');
    expect(await sub2.locator('.node-paths').innerText()).toBe('없음');
    expect(await cell(page, 'sub-1', 'node-state')).toBe('정상');
    const deadColour = await sub2.locator('.node-state').evaluate((el) => getComputedStyle(el).color);
    const aliveColour = await page
      .locator('#cluster-table tr[data-id="sub-1"] .node-state')
      .evaluate((el) => getComputedStyle(el).color);
    expect(deadColour).not.toBe(aliveColour);
    expect(await page.innerText('#cluster-summary')).toBe('3대 중 2대 정상');
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: SHOT, fullPage: true });

    // English from the header's language switch; the view stays open.
    await page.click('#lang');
    await page.locator('#main h1', { hasText: 'Cluster' }).waitFor(WAIT);
    const url = new URL(page.url());
    expect([url.searchParams.get('lang'), url.searchParams.get('view')]).toEqual(['en', 'cluster']);
    expect(await page.innerText('#open-cluster')).toBe('Cluster');
    expect(await cell(page, 'sub-1', 'node-role')).toBe('Sub');
    expect(await cell(page, 'sub-1', 'node-state')).toBe('Alive');
    expect(await cell(page, 'sub-1', 'node-paths')).toBe('live/x');
    expect(await cell(page, 'sub-1', 'node-viewers')).toContain('/ 150');
    expect(await cell(page, 'sub-2', 'node-state')).toBe('Dead');
    expect(await cell(page, 'sub-1', 'node-seen')).toMatch(/^(just now|\d+ s ago)$/);
    expect(await page.innerText('#cluster-table thead')).toContain('Viewers / capacity');
    await page.screenshot({ path: SHOT_EN, fullPage: true });

    // A reload of the address opens the same view.
    await page.reload();
    await page.waitForSelector('#cluster-table tr[data-id="sub-1"]', WAIT);
    expect(await page.innerText('#main h1')).toBe('Cluster');

    // The request starts failing (signed out elsewhere): an error line, the last rows kept.
    await page.evaluate(() => fetch('/api/auth/logout', { method: 'POST' }).then((r) => r.status));
    await page.locator('#cluster-error').waitFor(WAIT);
    expect(await page.innerText('#cluster-error')).toMatch(/^Could not read the node list\./);
    expect(await page.getAttribute('#cluster-table', 'data-stale')).toBe('true');
    await page.close();
  }, 40_000);

  it('a teacher never sees the cluster entry, and the server refuses them', async () => {
    const page = await teacherCtx.newPage();
    await signIn(page, TEACHER);
    expect(await page.locator('#open-cluster').count()).toBe(0);
    expect(await page.locator('#open-admin').count()).toBe(0);
    await page.goto(`${t.http}/console?view=cluster`);
    await page.waitForSelector('#main', WAIT);
    expect(await page.locator('#open-cluster').count()).toBe(0);
    expect(await page.locator('#cluster-table').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('view')).toBeNull();
    const status = await page.evaluate(() => fetch('/api/cluster/nodes').then((r) => r.status));
    expect(status).toBe(403);
    await page.close();
  }, 20_000);
});
