/**
 * Time to first frame: how long a student waits between the WHEP POST and the first decoded
 * picture. Starts `airclass start`, publishes a 720p30 test pattern with real ffmpeg over
 * RTMP, then opens the watch page in real Chromium N times (a fresh tab each) and reads
 * `window.airclass.firstFrameAt - postAt`. Prints every join, p50 and p95. Never asserts.
 *
 *   npm run bench:ttff [-- --joins 10 --size 1280x720 --gop 60]
 */
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../test/helpers/chromium.ts';
import { publishTestPattern, type Publisher } from '../test/helpers/publisher.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: {
    joins: { type: 'string', default: '10' },
    size: { type: 'string', default: '1280x720' },
    rate: { type: 'string', default: '30' },
    gop: { type: 'string', default: '60' },
    bitrate: { type: 'string', default: '2M' },
    'deadline-s': { type: 'string', default: '180' },
  },
});
const JOINS = Number(values.joins);
const STREAM = 'live/ttff';
const JOIN_TIMEOUT_MS = 15_000;

/** One join's figures, in ms (performance.now() differences inside the page). */
interface Join {
  ttff: number; // POST → first requestVideoFrameCallback
  answer: number; // POST → 201 answer read
  connect: number; // POST → RTCPeerConnection 'connected'
  size: string;
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

const fmt = (ms: number): string => `${ms.toFixed(0).padStart(5)} ms`;

/** Opens the watch page in a new tab and waits for its first decoded frame. */
async function join(browser: TestBrowser, url: string): Promise<Join> {
  const page: Page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.airclass?.firstFrameAt != null, null, {
      timeout: JOIN_TIMEOUT_MS,
    });
    return await page.evaluate(() => {
      const a = window.airclass!;
      const { width, height } = a.videoSize();
      return {
        ttff: a.firstFrameAt! - a.postAt!,
        answer: a.answerAt! - a.postAt!,
        connect: a.connectedAt === null ? NaN : a.connectedAt - a.postAt!,
        size: `${width}x${height}`,
      };
    });
  } finally {
    // Leave like a student does: navigating away fires pagehide, and the page DELETEs its session.
    await page.goto('about:blank').catch(() => {});
    await page.close();
  }
}

async function main(): Promise<number> {
  let server: TestServer | undefined;
  let publisher: Publisher | undefined;
  let browser: TestBrowser | undefined;
  const deadline = setTimeout(
    () => {
      console.error(`ttff: gave up after ${values['deadline-s']} s`);
      process.exit(2);
    },
    Number(values['deadline-s']) * 1000,
  );
  try {
    server = await startServer();
    const publishToken = await server.token('teacher', STREAM, 'publish');
    const readToken = await server.token('student', STREAM, 'read');
    publisher = publishTestPattern({
      url: `${server.rtmpUrl}/${STREAM}?token=${publishToken}`,
      size: values.size,
      rate: Number(values.rate),
      gop: Number(values.gop),
      bitrate: values.bitrate,
    });
    browser = await launchBrowser();
    const url = `${server.httpUrl}/watch/${STREAM}?jwt=${readToken}&lang=en`;
    console.log(
      `ttff: ${values.size}@${values.rate} gop ${values.gop} ${values.bitrate}bit/s, ${JOINS} joins`,
    );
    console.log(`ttff: server ${server.httpUrl} (port offset ${server.portOffset}); warming up`);
    // Warm-up join (not counted): waits through 409 until the stream is live and the GOP cached.
    const warm = Date.now();
    for (;;) {
      if (publisher.proc.exitCode !== null) throw new Error(`ffmpeg exited: ${publisher.stderrTail()}`);
      try {
        await join(browser, url);
        break;
      } catch (e) {
        if (Date.now() - warm > 30_000) throw e;
      }
    }
    const joins: Join[] = [];
    for (let i = 1; i <= JOINS; i++) {
      try {
        const j = await join(browser, url);
        joins.push(j);
        console.log(
          `join ${String(i).padStart(2)}: POST→first frame ${fmt(j.ttff)}  (answer ${fmt(j.answer)}, connected ${fmt(j.connect)}, ${j.size})`,
        );
      } catch (e) {
        console.log(
          `join ${String(i).padStart(2)}: no frame within ${JOIN_TIMEOUT_MS} ms (${(e as Error).message.split('\n')[0]})`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    if (joins.length === 0) return 1;
    const ttff = joins.map((j) => j.ttff).sort((a, b) => a - b);
    const sorted = (k: 'answer' | 'connect') => joins.map((j) => j[k]).sort((a, b) => a - b);
    const [answer, connect] = [sorted('answer'), sorted('connect')];
    console.log(
      `POST→first frame: p50 ${fmt(percentile(ttff, 50))}  p95 ${fmt(percentile(ttff, 95))}  (n=${ttff.length})`,
    );
    console.log(`POST→201 answer:  p50 ${fmt(percentile(answer, 50))}  p95 ${fmt(percentile(answer, 95))}`);
    console.log(`POST→connected:   p50 ${fmt(percentile(connect, 50))}  p95 ${fmt(percentile(connect, 95))}`);
    return 0;
  } catch (e) {
    console.error('ttff: failed:', e instanceof Error ? e.message : e);
    if (server) console.error('server log tail:\n' + server.logTail().slice(-2000));
    return 1;
  } finally {
    clearTimeout(deadline);
    await browser?.close();
    await publisher?.stop();
    await server?.stop();
  }
}

process.exit(await main());
