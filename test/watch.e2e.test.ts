/**
 * End to end: real ffmpeg publishes RTMP to a real `airclass start`, real Chromium opens the
 * student watch page and must show decoded 1280×720 frames and hear the tone; bad tokens are
 * refused with a message; a page opened before the teacher goes live waits, then plays; a
 * teacher who drops and comes back is picked up again without a reload.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { mintToken, startServer, type TestServer } from './helpers/server.ts';

/** Where the screenshot of the playing page goes (looked at by people, not asserted). */
const SCREENSHOT = process.env.WATCH_E2E_SCREENSHOT ?? join(tmpdir(), 'airclass-watch-live.png');
const WAIT = { timeout: 20_000 };

/** Tokens the tests use, minted in parallel up front (each is a CLI run): name → [role, path, action]. */
const TOKEN_SPECS = {
  'publish live/e2e': ['teacher', 'live/e2e', 'publish'],
  'publish live/drop': ['teacher', 'live/drop', 'publish'],
  'publish live/late': ['teacher', 'live/late', 'publish'],
  'read live/e2e': ['student', 'live/e2e', 'read'],
  'read live/drop': ['student', 'live/drop', 'read'],
  'read live/late': ['student', 'live/late', 'read'],
  'read live/other': ['student', 'live/other', 'read'],
} as const satisfies Record<string, readonly [role: string, path: string, action: string]>;
type TokenName = keyof typeof TOKEN_SPECS;

let server: TestServer;
let browser: TestBrowser;
let otherKeyDir: string;
let forgedToken: string; // for live/e2e, signed by a key this server never made
const tokens = {} as Record<TokenName, string>;
const publishers: Publisher[] = [];
const pages: Page[] = [];

/** Starts ffmpeg publishing the 720p test pattern + 440 Hz tone to `path`. */
function publish(path: 'live/e2e' | 'live/drop' | 'live/late'): Publisher {
  const token = tokens[`publish ${path}`];
  const p = publishTestPattern({ url: `${server.rtmpUrl}/${path}?token=${token}`, size: '1280x720' });
  publishers.push(p);
  return p;
}

/** Opens the watch page; resolves with the page and the status of its first WHEP POST. */
async function openWatch(path: string, jwt: string | null): Promise<{ page: Page; status: Promise<number> }> {
  const page = await browser.newPage();
  pages.push(page);
  // The player asks the main for its node first (POST /api/cluster/assign), then offers to it:
  // a refusal comes from whichever answers first.
  const status = page
    .waitForResponse(
      (r) =>
        r.request().method() === 'POST' &&
        (r.url().includes(`/${path}/whep`) ||
          (r.url().includes('/api/cluster/assign') && r.status() !== 200)),
      WAIT,
    )
    .then((r) => r.status());
  await page.goto(`${server.httpUrl}/watch/${path}?lang=en${jwt === null ? '' : `&jwt=${jwt}`}`);
  return { page, status };
}

const monitor = (page: Page) =>
  page.evaluate(() => {
    const a = window.airclass!;
    return { state: a.state, http: a.httpStatus, frames: a.framesDecoded(), size: a.videoSize() };
  });

/** Waits until the page reports `live` with decoded frames of the expected size. */
async function waitPlaying(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const a = window.airclass;
      return a?.state === 'live' && a.framesDecoded() > 0 && a.videoSize().width > 0;
    },
    null,
    WAIT,
  );
}

beforeAll(async () => {
  server = await startServer();
  otherKeyDir = await mkdtemp(join(tmpdir(), 'airclass-otherkey-'));
  const names = Object.keys(TOKEN_SPECS) as TokenName[];
  const minting = (async () => {
    forgedToken = await mintToken(otherKeyDir, 'student', 'live/e2e', 'read');
    // Two CLI runs at a time: each is a whole Node start, and this machine may be busy.
    for (let i = 0; i < names.length; i += 2) {
      await Promise.all(
        names.slice(i, i + 2).map(async (n) => {
          const [role, path, action] = TOKEN_SPECS[n];
          tokens[n] = await server.token(role, path, action);
        }),
      );
    }
  })();
  const launching = launchBrowser({ onConsole: (l) => process.env.WATCH_E2E_DEBUG && console.log(l) }).then(
    (b) => (browser = b),
  );
  // allSettled: the browser must be assigned (so afterAll closes it) even when minting fails.
  for (const r of await Promise.allSettled([launching, minting])) if (r.status === 'rejected') throw r.reason;
}, 120_000); // a server start and eight CLI runs: slow when the machine is busy

/** Closes the test's pages and publishers, so each test has the (2-core) machine to itself. */
async function closeAll(): Promise<void> {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => {})));
  await Promise.all(publishers.splice(0).map((p) => p.stop()));
}

afterEach(closeAll);

afterAll(async () => {
  await closeAll();
  await browser?.close();
  await server?.stop();
  if (otherKeyDir) await rm(otherKeyDir, { recursive: true, force: true });
});

describe('watch page (real ffmpeg → airclass → Chromium)', () => {
  it('plays 1280×720 video with advancing frames and the tone audible', async () => {
    publish('live/e2e');
    const { page } = await openWatch('live/e2e', tokens['read live/e2e']);
    await waitPlaying(page);
    expect((await monitor(page)).size).toEqual({ width: 1280, height: 720 });

    const before = (await monitor(page)).frames;
    await page.waitForTimeout(2000);
    expect((await monitor(page)).frames).toBeGreaterThan(before);

    // A 440 Hz sine at ffmpeg's default amplitude has an RMS near 0.09; silence is ~0.
    await page.waitForFunction(() => window.airclass!.audioLevel() > 0.01, null, WAIT);
    expect(await page.locator('#status').getAttribute('data-state')).toBe('live');
    expect(await page.locator('#overlay').isHidden()).toBe(true);
    await page.screenshot({ path: SCREENSHOT });
    console.log(`watch page screenshot: ${SCREENSHOT}`);
  });

  it('refuses a page without a token: WHEP POST 401 and a clear message', async () => {
    const { page, status } = await openWatch('live/e2e', null);
    expect(await status).toBe(401);
    await page.waitForFunction(() => window.airclass?.state === 'refused', null, WAIT);
    expect(await page.locator('#overlay-detail').textContent()).toContain('no access token');
  });

  it('refuses a token signed by another key (401)', async () => {
    const { page, status } = await openWatch('live/e2e', forgedToken);
    expect(await status).toBe(401);
    await page.waitForFunction(() => window.airclass?.state === 'refused', null, WAIT);
    expect(await page.locator('#overlay-detail').textContent()).toContain('invalid or has expired');
  });

  it('refuses a token for another path (403)', async () => {
    const { page, status } = await openWatch('live/e2e', tokens['read live/other']);
    expect(await status).toBe(403);
    await page.waitForFunction(() => window.airclass?.state === 'refused', null, WAIT);
    expect(await page.locator('#overlay-detail').textContent()).toContain('does not give access');
  });

  it('picks the teacher up again, without a reload, when the publisher drops and returns', async () => {
    const first = publish('live/drop');
    const { page } = await openWatch('live/drop', tokens['read live/drop']);
    await waitPlaying(page);
    const sessionAtDrop = await page.evaluate(() => window.airclass!.sessionUrl);
    await first.stop();
    const framesAtDrop = (await monitor(page)).frames;
    // The page says the stream paused and keeps its session (regression: it used to drop the
    // session after 5 s of no frames and then saw 409 for the rest of the server's grace period).
    await page.waitForFunction(() => window.airclass?.state === 'waiting', null, WAIT);
    expect(await page.locator('#overlay-detail').textContent()).toContain('paused');

    publish('live/drop');
    await page.waitForFunction((n) => window.airclass!.framesDecoded() > n + 30, framesAtDrop, WAIT);
    await waitPlaying(page);
    expect((await monitor(page)).size).toEqual({ width: 1280, height: 720 });
    expect(await page.evaluate(() => window.airclass!.sessionUrl)).toBe(sessionAtDrop);
  });

  it('waits for the teacher (409), then plays when the publisher starts', async () => {
    const { page, status } = await openWatch('live/late', tokens['read live/late']);
    expect(await status).toBe(409);
    await page.waitForFunction(() => window.airclass?.state === 'waiting', null, WAIT);
    expect(await page.locator('#overlay-title').textContent()).toBe('Waiting for the teacher');

    publish('live/late');
    await waitPlaying(page);
    expect((await monitor(page)).size).toEqual({ width: 1280, height: 720 });
  });
});
