/**
 * Screen sharing from the browser (WHIP ingest), measured through the real console:
 * `npm run bench:whip [-- --seconds 15 --runs 2 --warmup 4 --size 1280x720 --joins 10 --cpu-s 10]`
 * (`--no-audio` for video-only runs only, `--still` for a still slide instead of a busy picture).
 *
 * Starts `airclass start`, one Chromium with two contexts: the teacher signs in to the console,
 * creates a class and clicks Share screen, with getDisplayMedia stubbed to a canvas redrawn
 * 30 times a second, each frame carrying the wall-clock time it was drawn as the rows of
 * black/white blocks of bench/g2g/stamp.ts (same layout), and getUserMedia stubbed to a 440 Hz
 * beep every second (refused for the video-only runs: the console then shares without sound).
 * A student's watch page in the other context reads the stamps back on each
 * requestVideoFrameCallback (bench/g2g/page.ts): glass to glass = shown − drawn (one machine,
 * one clock), split at the frame's receive time. WHIP audio is the browser's Opus, passed
 * straight through (no transcoder). Also measured: time to first frame of students joining the
 * live share (POST → first frame, N fresh tabs), and the server process's CPU (/proc, its own
 * and its children's) while idle and while one share is live before the student joins (the
 * console's own preview is then its only viewer). By default the lower half of the picture
 * changes everywhere on every frame (a video on the screen: Chromium's encoder sends its
 * bitrate); `--still` shares a still slide.
 *
 * Never asserts; stops by --deadline-s; stops its children on exit and Ctrl-C.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { launchBrowserPool, type TestBrowserPool } from '../test/helpers/chromium.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';
import {
  allowOnsetWorklet,
  preparePage,
  readOnsets,
  sampleFrames,
  startOnsets,
  statsSnapshot,
  type StatsSnapshot,
} from './g2g/page.ts';
import { BEEP_MS, BEEP_PERIOD_MS, FPS } from './g2g/publisher.ts';
import { STAMP_MOD, stampLayout } from './g2g/stamp.ts';
import { childPids, cpuSeconds } from './lib/procs.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    runs: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '4' },
    size: { type: 'string', default: '1280x720' },
    joins: { type: 'string', default: '10' },
    /** Length of each CPU window (idle, one share without viewers), s. */
    'cpu-s': { type: 'string', default: '10' },
    'no-audio': { type: 'boolean', default: false },
    /** A still slide (only the stamp and a small square move) instead of a busy lower half. */
    still: { type: 'boolean', default: false },
    'deadline-s': { type: 'string', default: '600' },
  },
});
const [W, H] = values.size.split('x').map(Number) as [number, number];
const SECONDS = Number(values.seconds);
const WARMUP_S = Number(values.warmup);
const CPU_S = Number(values['cpu-s']);
const JOINS = Number(values.joins);
const LAYOUT = stampLayout(W);
const KINDS: boolean[] = values['no-audio'] ? [false] : [true, false];
const ADMIN = { email: 'admin@airclass.local', password: 'bench-admin-password-1' };
const TEACHER = { email: 'whip-bench@school.test', name: 'Bench Teacher', password: 'bench-teacher-1' };
const WAIT = { timeout: 30_000 };

/** Nearest-rank percentile. */
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const ms = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '–');
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

/** What the teacher's stubbed capture exposes to the bench (window.__whipBench). */
interface BenchState {
  audio: boolean;
  /** Unix ms at which each beep was switched on. */
  beeps: number[];
}

/**
 * Stubs the teacher context's screen and microphone: a W×H canvas stamped with the time of
 * each draw (layout of bench/g2g/stamp.ts), and a beeping oscillator (or a refusal).
 */
async function stubCapture(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript(
    ({ w, h, fps, layout, mod, beepMs, periodMs, busy }) => {
      const st: BenchState = { audio: true, beeps: [] };
      (window as unknown as { __whipBench: BenchState }).__whipBench = st;
      const md = navigator.mediaDevices;
      const now = (): number => performance.timeOrigin + performance.now();
      md.getDisplayMedia = async () => {
        const c = document.createElement('canvas');
        c.width = w;
        c.height = h;
        c.style.cssText = 'position:fixed;left:0;top:0;width:4px;height:4px';
        document.body.append(c);
        const g = c.getContext('2d')!;
        const B = layout.block;
        let n = 0;
        const draw = (): void => {
          const stamp = Math.floor(now()) % mod;
          g.fillStyle = '#808080';
          g.fillRect(0, 0, w, h);
          g.fillStyle = '#3060a0'; // something moving, as a pointer or an animation would
          g.fillRect((n++ * 8) % w, h / 4, 96, 96);
          if (busy) {
            // The lower half changes everywhere on every frame (a video played on the screen).
            const t = Math.ceil(w / 16);
            for (let y = h / 2; y < h; y += t)
              for (let x = 0; x < w; x += t) {
                g.fillStyle = `hsl(${(Math.random() * 360) | 0} 60% ${30 + ((Math.random() * 40) | 0)}%)`;
                g.fillRect(x, y, t, t);
              }
          }
          for (let b = 0; b < layout.bits; b++) {
            const one = ((stamp >>> (layout.bits - 1 - b)) & 1) === 1;
            for (let row = 0; row < 2; row++) {
              g.fillStyle = one !== (row === 1) ? '#ebebeb' : '#101010';
              g.fillRect(B + b * B, B * (row + 1), B, B);
            }
          }
        };
        draw();
        setInterval(draw, 1000 / fps);
        return c.captureStream(fps);
      };
      md.getUserMedia = async () => {
        if (!st.audio) throw new DOMException('bench: no microphone', 'NotAllowedError');
        const ac = new AudioContext();
        const osc = ac.createOscillator();
        osc.frequency.value = 440;
        const gain = ac.createGain();
        gain.gain.value = 0;
        const dest = ac.createMediaStreamDestination();
        osc.connect(gain).connect(dest);
        osc.start();
        // A beep from each full second of the wall clock; its real start time is noted.
        const next = (): void => {
          setTimeout(
            () => {
              gain.gain.setValueAtTime(1, ac.currentTime);
              gain.gain.setValueAtTime(0, ac.currentTime + beepMs / 1000);
              st.beeps.push(now());
              next();
            },
            periodMs - (now() % periodMs),
          );
        };
        next();
        return dest.stream;
      };
    },
    {
      ...{ w: W, h: H, fps: FPS, layout: LAYOUT, mod: STAMP_MOD },
      ...{ beepMs: BEEP_MS, periodMs: BEEP_PERIOD_MS, busy: !values.still },
    },
  );
}

/** The teacher's outbound video as Chromium sends it (the last peer connection). */
async function outbound(page: Page): Promise<Record<string, number | string>> {
  return page.evaluate(async () => {
    // The console's preview is a (WHEP) peer connection too: take the one that sends video.
    const out: Record<string, number | string> = {};
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.toReversed()) {
      if (pc.connectionState === 'closed') continue;
      const reports: Record<string, unknown>[] = [];
      (await pc.getStats()).forEach((r: Record<string, unknown>) => reports.push(r));
      const rtp = reports.find((r) => r.type === 'outbound-rtp' && r.kind === 'video');
      if (!rtp) continue;
      for (const [k, v] of Object.entries(rtp))
        if (typeof v === 'number' || typeof v === 'string') out[k] = v;
      const codec = reports.find((r) => r.id === rtp.codecId);
      if (codec) out.codec = String(codec.mimeType);
      break;
    }
    return out;
  });
}

/** CPU seconds of the server process and, apart, of its children (and theirs). */
function serverCpu(pid: number): { own: number; children: number } {
  const all = (p: number): number[] => childPids(p).flatMap((c) => [c, ...all(c)]);
  return { own: cpuSeconds(pid), children: all(pid).reduce((s, c) => s + cpuSeconds(c), 0) };
}

/** % of one core used by the server over `seconds` from now. */
async function cpuWindow(pid: number, seconds: number): Promise<{ own: number; children: number }> {
  const a = serverCpu(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const b = serverCpu(pid);
  const wall = (performance.now() - t0) / 1000;
  return { own: (100 * (b.own - a.own)) / wall, children: (100 * (b.children - a.children)) / wall };
}

interface Share {
  classId: string;
}

/** Clicks Share screen (with or without the microphone) and waits for `sharing`. */
async function startShare(teacher: Page, audio: boolean): Promise<void> {
  await teacher.evaluate((a) => {
    const st = (window as unknown as { __whipBench: BenchState }).__whipBench;
    st.audio = a;
    st.beeps = [];
  }, audio);
  await teacher.waitForSelector('#share-start:not([disabled])', WAIT);
  await teacher.click('#share-start');
  await teacher.waitForSelector('#share-state[data-state="sharing"]', WAIT);
}

async function stopShare(teacher: Page): Promise<void> {
  await teacher.click('#share-stop');
  await teacher.waitForSelector('#share-state[data-state="stopped"]', WAIT);
}

interface RunResult {
  audio: boolean;
  total: number[];
  unreadable: number;
  /** drawn → received by the student's Chromium; received → shown (ms). */
  toReceived: number[];
  browser: number[];
  /** Each beep: reached the student's WebAudio − switched on at the teacher (ms). */
  sound: number[];
  soundNote?: string;
  s0: StatsSnapshot;
  s1: StatsSnapshot;
  sent: Record<string, number | string>;
  sent0: Record<string, number | string>;
  cpu: { own: number; children: number };
  /** The server's egress: audio behind its video (ms), the audio pacing hold (ms), from /health. */
  server: { lag?: number; hold?: number };
  load: string;
}

async function measureRun(
  server: TestServer,
  teacher: Page,
  studentCtx: BrowserContext,
  share: Share,
  audio: boolean,
  live: { page?: Page },
): Promise<RunResult> {
  const path = `live/${share.classId}`;
  const readToken = await server.token('student', path, 'read');
  const loadAtStart = load();
  await startShare(teacher, audio);
  await sleep(WARMUP_S * 1000);
  // One share, nobody watching: the ingest (and the class's recording) alone.
  const cpu = await cpuWindow(server.proc.pid!, CPU_S);
  const page = (live.page = await studentCtx.newPage());
  await preparePage(page);
  if (audio) await allowOnsetWorklet(page);
  await page.goto(`${server.httpUrl}/watch/${path}?jwt=${readToken}&lang=en`);
  await page.waitForFunction(() => window.airclass?.firstFrameAt != null, null, WAIT);
  await page.waitForTimeout(WARMUP_S * 1000);
  let soundNote: string | undefined;
  if (audio) await startOnsets(page).catch((e: Error) => (soundNote = e.message.split('\n')[0]));
  const sent0 = await outbound(teacher);
  const s0 = await statsSnapshot(page);
  const { samples, unreadable } = await sampleFrames(page, SECONDS, LAYOUT);
  const s1 = await statsSnapshot(page);
  const sent = await outbound(teacher);
  const onsets = audio ? await readOnsets(page) : [];
  const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
    webrtc?: { audioLagMs?: Record<string, number>; audioHoldMs?: Record<string, number> };
  };
  const beeps = await teacher.evaluate(
    () => (window as unknown as { __whipBench: BenchState }).__whipBench.beeps,
  );
  await page.goto('about:blank').catch(() => undefined); // the page DELETEs its session
  await page.close();
  live.page = undefined;
  await stopShare(teacher);

  const r: RunResult = {
    audio,
    total: [],
    unreadable,
    toReceived: [],
    browser: [],
    sound: [],
    s0,
    s1,
    sent,
    sent0,
    cpu,
    server: { lag: health.webrtc?.audioLagMs?.[path], hold: health.webrtc?.audioHoldMs?.[path] },
    load: loadAtStart,
  };
  for (const [stamp, shown, received] of samples) {
    const d = (Math.floor(shown) - stamp + STAMP_MOD) % STAMP_MOD;
    if (d > 5000) continue; // not a stamp of this run
    r.total.push(d);
    if (received !== null) {
      const drawn = shown - d;
      r.toReceived.push(received - drawn);
      r.browser.push(shown - received);
    }
  }
  // Each onset against the latest beep switched on before it (a beep a period late would be misread).
  for (const at of onsets) {
    const b = beeps.findLast((t) => t <= at);
    if (b !== undefined && at - b < BEEP_PERIOD_MS) r.sound.push(at - b);
  }
  if (soundNote) r.soundNote = soundNote;
  return r;
}

function delta(a: Record<string, number | string>, b: Record<string, number | string>, k: string): number {
  return Number(b[k]) - Number(a[k]);
}

function report(run: number, r: RunResult): void {
  const kind = r.audio ? 'with Opus audio' : 'video only';
  console.log(
    `run ${run} ${kind}: glass to glass p50 ${ms(pct(r.total, 50))}, p95 ${ms(pct(r.total, 95))} ` +
      `(n=${r.total.length}, unreadable ${r.unreadable}; load ${r.load})`,
  );
  console.log(
    `  split p50: drawn → received by the student (capture + encode + WHIP + server + WHEP) ` +
      `${ms(pct(r.toReceived, 50))} · Chromium (received → shown) ${ms(pct(r.browser, 50))}` +
      `  [p95 ${ms(pct(r.toReceived, 95))} · ${ms(pct(r.browser, 95))}]`,
  );
  const jbv = (k: string, key: string): number => {
    const d = (x: string) => (r.s1[k]?.[x] ?? NaN) - (r.s0[k]?.[x] ?? NaN);
    return (1000 * d(key)) / d('jitterBufferEmittedCount');
  };
  const jb = (k: string): string =>
    `jitter buffer ${ms(jbv(k, 'jitterBufferDelay'))} (target ${ms(jbv(k, 'jitterBufferTargetDelay'))}, ` +
    `minimum ${ms(jbv(k, 'jitterBufferMinimumDelay'))}), arrival jitter ${ms(1000 * (r.s1[k]?.jitter ?? NaN))}`;
  const dropped = (r.s1.video?.framesDropped ?? NaN) - (r.s0.video?.framesDropped ?? NaN);
  console.log(`  student's Chromium video: ${jb('video')}, frames dropped ${dropped}`);
  const frames = delta(r.sent0, r.sent, 'framesEncoded');
  const encMs = (1000 * delta(r.sent0, r.sent, 'totalEncodeTime')) / frames;
  const secs = delta(r.sent0, r.sent, 'timestamp') / 1000;
  const kbps = (8 * delta(r.sent0, r.sent, 'bytesSent')) / secs / 1000;
  console.log(
    `  teacher's Chromium sends ${r.sent.codec ?? '?'} ${r.sent.frameWidth ?? '?'}x${r.sent.frameHeight ?? '?'} ` +
      `at ${(frames / secs).toFixed(1)} fps, ${kbps.toFixed(0)} kbit/s, encode ${encMs.toFixed(1)} ms/frame ` +
      `(${r.sent.encoderImplementation ?? 'encoder not named'}; limited by ${r.sent.qualityLimitationReason ?? '?'})`,
  );
  console.log(
    `  server CPU with this share live, the console's preview its only viewer: ${r.cpu.own.toFixed(1)} % of a core ` +
      `(+ children ${r.cpu.children.toFixed(1)} %)`,
  );
  if (!r.audio) return;
  const playout =
    (1000 * ((r.s1.playout?.totalPlayoutDelay ?? NaN) - (r.s0.playout?.totalPlayoutDelay ?? NaN))) /
    ((r.s1.playout?.totalSamplesCount ?? NaN) - (r.s0.playout?.totalSamplesCount ?? NaN));
  console.log(
    `  student's Chromium audio: ${jb('audio')}, playout ${ms(playout)}; server: audio ` +
      `${r.server.lag ?? '–'} ms behind its video at the egress, paced with ${ms(r.server.hold ?? NaN)} hold`,
  );
  console.log(
    `  sound glass to glass (beep switched on at the teacher → reaches the student's WebAudio): ` +
      `p50 ${ms(pct(r.sound, 50))}, p95 ${ms(pct(r.sound, 95))} (n=${r.sound.length}` +
      `${r.soundNote ? `; ${r.soundNote}` : ''}); after its picture by ${ms(pct(r.sound, 50) - pct(r.total, 50))} (p50s)`,
  );
}

/** A student joins the live share in a fresh tab; POST → first frame and its parts, ms. */
async function join(
  ctx: BrowserContext,
  url: string,
): Promise<{ ttff: number; answer: number; connect: number }> {
  const page = await ctx.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.airclass?.firstFrameAt != null, null, { timeout: 15_000 });
    return await page.evaluate(() => {
      const a = window.airclass!;
      return {
        ttff: a.firstFrameAt! - a.postAt!,
        answer: a.answerAt! - a.postAt!,
        connect: a.connectedAt === null ? NaN : a.connectedAt - a.postAt!,
      };
    });
  } finally {
    await page.goto('about:blank').catch(() => {});
    await page.close();
  }
}

async function api<T>(server: TestServer, p: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(`${server.httpUrl}/api${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /api${p}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main(): Promise<number> {
  let server: TestServer | undefined;
  let pool: TestBrowserPool | undefined;
  const live: { page?: Page } = {};
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      const steps = [pool?.close(), server?.stop()];
      await Promise.race([Promise.allSettled(steps), sleep(10_000)]);
    })());
  const bail = (code: number, why: string) => (): void => {
    console.error(`whip: ${why}; stopping`);
    void cleanup().finally(() => process.exit(code));
  };
  const hard = setTimeout(
    bail(2, `deadline of ${values['deadline-s']} s reached`),
    Number(values['deadline-s']) * 1000,
  );
  process.once('SIGINT', bail(130, 'interrupted'));
  process.once('SIGTERM', bail(143, 'terminated'));

  const results: RunResult[] = [];
  try {
    server = await startServer({
      env: {
        AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
        AIRCLASS_ADMIN_EMAIL: ADMIN.email,
        AIRCLASS_LOG_LEVEL: 'warn',
      },
    });
    pool = await launchBrowserPool();
    const admin = await api<{ token: string }>(server, '/auth/login', ADMIN);
    await api(server, '/users', TEACHER, admin.token);
    console.log(
      `whip: ${W}x${H}@${FPS} stamped canvas shared from the console (Chromium's WHIP publisher) → WHEP → ` +
        `a student's watch page; ${WARMUP_S} s warm-up + ${SECONDS} s per run; load ${load()}`,
    );

    const teacherCtx = await pool.newContext();
    await stubCapture(teacherCtx);
    const teacher = await teacherCtx.newPage();
    await preparePage(teacher); // keeps the publisher's peer connection, for its stats
    await teacher.goto(`${server.httpUrl}/login?lang=en`);
    await teacher.fill('#email', TEACHER.email);
    await teacher.fill('#password', TEACHER.password);
    await teacher.click('#submit');
    await teacher.waitForURL(/\/console/, WAIT);
    await teacher.fill('#new-title', 'WHIP bench');
    await teacher.click('#create-class');
    await teacher.waitForSelector('#share-start:not([disabled])', WAIT);
    const share: Share = { classId: (await teacher.getAttribute('.class-page', 'data-class-id')) ?? '' };
    if (!share.classId) throw new Error('the console shows no class id');

    await sleep(WARMUP_S * 1000); // the class's creation settles
    const idle = await cpuWindow(server.proc.pid!, CPU_S);
    console.log(
      `server CPU idle (the console open, no share): ${idle.own.toFixed(1)} % of a core ` +
        `(+ children ${idle.children.toFixed(1)} %; load ${load()})`,
    );

    const studentCtx = await pool.newContext();
    for (let run = 1; run <= Number(values.runs); run++) {
      for (const audio of KINDS) {
        const r = await measureRun(server, teacher, studentCtx, share, audio, live);
        results.push(r);
        report(run, r);
      }
    }

    // Time to first frame: students joining the live share, one after another.
    const path = `live/${share.classId}`;
    const readToken = await server.token('student', path, 'read');
    await startShare(teacher, KINDS[0]!);
    await sleep(WARMUP_S * 1000);
    const joins: { ttff: number; answer: number; connect: number }[] = [];
    for (let i = 0; i < JOINS; i++) {
      const j = await join(studentCtx, `${server.httpUrl}/watch/${path}?jwt=${readToken}&lang=en`);
      joins.push(j);
      console.log(
        `  join ${i + 1}: first frame ${ms(j.ttff)} (201 ${ms(j.answer)}, connected ${ms(j.connect)})`,
      );
      await sleep(300);
    }
    await stopShare(teacher);
    await sleep(WARMUP_S * 1000);
    const idleAfter = await cpuWindow(server.proc.pid!, CPU_S);
    console.log(
      `server CPU idle again (the share stopped): ${idleAfter.own.toFixed(1)} % of a core ` +
        `(+ children ${idleAfter.children.toFixed(1)} %; load ${load()})`,
    );
    const col = (k: 'ttff' | 'answer' | 'connect') => joins.map((j) => j[k]);
    console.log(
      `time to first frame, ${joins.length} joins of the live share${KINDS[0] ? ' (with audio)' : ''}: ` +
        `p50 ${ms(pct(col('ttff'), 50))}, p95 ${ms(pct(col('ttff'), 95))} (POST → 201 p50 ` +
        `${ms(pct(col('answer'), 50))}; → connected p50 ${ms(pct(col('connect'), 50))}; load ${load()})`,
    );

    if (results.length > 1) {
      console.log(`summary (each run's figure, in run order):`);
      for (const audio of KINDS) {
        const rs = results.filter((r) => r.audio === audio);
        const med = (f: (r: RunResult) => number, d = 0): string =>
          rs.map((r) => (Number.isFinite(f(r)) ? f(r).toFixed(d) : '–')).join(' / ');
        console.log(
          `  ${audio ? 'with Opus audio' : 'video only'}: p50 ${med((r) => pct(r.total, 50))} ms, ` +
            `p95 ${med((r) => pct(r.total, 95))} ms (→ received ${med((r) => pct(r.toReceived, 50))} · ` +
            `Chromium ${med((r) => pct(r.browser, 50))} ms)` +
            (audio ? `; sound p50 ${med((r) => pct(r.sound, 50))} ms` : '') +
            `; server CPU per share ${med((r) => r.cpu.own, 1)} % (idle ${idle.own.toFixed(1)} / ${idleAfter.own.toFixed(1)} %)`,
        );
      }
    }
    console.log(`load average after: ${load()}`);
    return 0;
  } catch (e) {
    if (cleaning) return 1; // interrupted: the children are being stopped
    console.error('whip: failed:', e instanceof Error ? e.message : e);
    if (server) console.error(server.logTail().slice(-1500));
    return 1;
  } finally {
    clearTimeout(hard);
    await live.page?.close().catch(() => undefined);
    await cleanup();
  }
}

process.exit(await main());
