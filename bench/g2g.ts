/**
 * Glass to glass: the time from the moment a frame is published to the moment Chromium shows
 * it. `npm run bench:g2g [-- --seconds 15 --runs 2 --warmup 4 --size 1280x720 --bitrate 2M]`
 * (`--no-audio` / `--audio-only` for one kind of run, `--tone` for a continuous tone).
 *
 * Starts `airclass start`, pipes raw frames from this process into ffmpeg (x264 zerolatency,
 * baseline, over RTMP), each frame carrying the wall-clock time it was handed to ffmpeg as two
 * rows of black/white blocks (bench/g2g/stamp.ts). The watch page plays it in real Chromium; on
 * each requestVideoFrameCallback the page reads the blocks back and takes the frame's expected
 * display time minus the stamp (one machine: one clock). Runs with AAC sound (through the
 * server's AAC → Opus transcoder; the browser's lip sync may hold the picture to it) and
 * without audio, alternating.
 *
 * The RTMP connection goes through a relay in this process (bench/g2g/rtmp-tap.ts) that notes
 * when each frame is on the wire, so each sample splits into ffmpeg (stamp → on the wire), the
 * server and WebRTC (on the wire → received by Chromium, rVFC receiveTime) and the browser
 * (received → shown). The sound is a beep every second, timed as it reaches the page's WebAudio
 * (an AudioWorklet on the remote track; this excludes the audio device's playout delay, printed
 * apart). Also printed: Chromium's inbound-rtp figures over the measured window (jitter-buffer
 * delay per emitted sample/frame, its target and minimum, arrival jitter, audio playout delay),
 * the server's audio lag and hold (/health), the transcoder's delay (its log) and the load
 * average. Never asserts; stops by --deadline-s; stops its children on exit and Ctrl-C.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../test/helpers/chromium.ts';
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
import { BEEP_PERIOD_MS, FPS, publishStamped, type StampedPublisher } from './g2g/publisher.ts';
import { startRtmpTap, timestampShift, type RtmpTap } from './g2g/rtmp-tap.ts';
import { STAMP_MOD, stampLayout } from './g2g/stamp.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    runs: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '4' },
    size: { type: 'string', default: '1280x720' },
    bitrate: { type: 'string', default: '2M' },
    'no-audio': { type: 'boolean', default: false },
    'audio-only': { type: 'boolean', default: false },
    /** A continuous tone instead of beeps (the sound is then not timed). */
    tone: { type: 'boolean', default: false },
    'deadline-s': { type: 'string', default: '600' },
  },
});
const [W, H] = values.size.split('x').map(Number) as [number, number];
const SECONDS = Number(values.seconds);
const WARMUP_S = Number(values.warmup);
const LAYOUT = stampLayout(W);
const KINDS: boolean[] = values['no-audio'] ? [false] : values['audio-only'] ? [true] : [true, false];

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

/** One run's figures. */
interface RunResult {
  audio: boolean;
  total: number[];
  unreadable: number;
  /** Per sample: stamp → on the wire, on the wire → received, received → shown (ms). */
  publisher: number[];
  network: number[];
  browser: number[];
  /** The publisher's sound: on the wire − when it was due (ms). */
  soundOut: number[];
  /** Each beep: reached the page's WebAudio − when it was due (ms). */
  sound: number[];
  soundNote?: string;
  s0: StatsSnapshot;
  s1: StatsSnapshot;
  server: { lag?: number; hold?: number; transcoder?: { median: number; p95: number } };
  load: string;
}

/** Mean per emitted sample/frame of a cumulative jitter-buffer figure over the window, ms. */
function perEmitted(r: RunResult, kind: string, key: string): number {
  const d = (k: string) => (r.s1[kind]?.[k] ?? NaN) - (r.s0[kind]?.[k] ?? NaN);
  return (1000 * d(key)) / d('jitterBufferEmittedCount');
}

/**
 * How much later Chromium plays the audio than the video of the same sender time, ms: the
 * difference of the tracks' estimatedPlayoutTimestamp (sender NTP, through the sender reports).
 */
function avOffset(snap: StatsSnapshot): number {
  return (snap.video?.estimatedPlayoutTimestamp ?? NaN) - (snap.audio?.estimatedPlayoutTimestamp ?? NaN);
}

function delta(r: RunResult, kind: string, key: string): number {
  return (r.s1[kind]?.[key] ?? NaN) - (r.s0[kind]?.[key] ?? NaN);
}

async function measureRun(
  server: TestServer,
  browser: TestBrowser,
  name: string,
  audio: boolean,
  live: { pub?: StampedPublisher; tap?: RtmpTap; page?: Page },
): Promise<RunResult> {
  const path = `live/${name}`;
  const [pubToken, readToken] = await Promise.all([
    server.token('teacher', path, 'publish'),
    server.token('student', path, 'read'),
  ]);
  const rtmpPort = Number(new URL(server.rtmpUrl).port);
  const tap = (live.tap = await startRtmpTap(rtmpPort));
  const loadAtStart = load();
  const pub = (live.pub = publishStamped({
    url: `rtmp://127.0.0.1:${tap.port}/${path}?token=${pubToken}`,
    width: W,
    height: H,
    bitrate: values.bitrate,
    audio,
    tone: values.tone,
  }));
  const page = (live.page = await browser.newPage());
  await preparePage(page);
  const timeSound = audio && !values.tone;
  if (timeSound) await allowOnsetWorklet(page);
  await page.goto(`${server.httpUrl}/watch/${path}?jwt=${readToken}&lang=en`);
  await page
    .waitForFunction(() => window.airclass?.firstFrameAt != null, null, { timeout: 30_000 })
    .catch((e: Error) => {
      throw new Error(`no picture within 30 s (${e.message.split('\n')[0]}); ffmpeg: ${pub.stderrTail()}`);
    });
  await page.waitForTimeout(WARMUP_S * 1000); // jitter buffers and lip sync settle
  let soundNote: string | undefined;
  if (timeSound) await startOnsets(page).catch((e: Error) => (soundNote = e.message.split('\n')[0]));
  const s0 = await statsSnapshot(page);
  const { samples, unreadable } = await sampleFrames(page, SECONDS, LAYOUT);
  const s1 = await statsSnapshot(page);
  const onsets = timeSound ? await readOnsets(page) : [];
  const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
    webrtc?: { audioLagMs?: Record<string, number>; audioHoldMs?: Record<string, number> };
  };
  await page.goto('about:blank').catch(() => undefined); // the page DELETEs its session
  await page.close();
  live.page = undefined;
  await pub.stop();
  live.pub = undefined;
  await tap.close();
  live.tap = undefined;

  const r: RunResult = {
    audio,
    total: [],
    unreadable,
    publisher: [],
    network: [],
    browser: [],
    soundOut: [],
    sound: [],
    s0,
    s1,
    server: { lag: health.webrtc?.audioLagMs?.[path], hold: health.webrtc?.audioHoldMs?.[path] },
    load: loadAtStart,
  };
  // ffmpeg shifts its timestamps by the AAC priming when there is sound (bench/g2g/rtmp-tap.ts).
  const shift = timestampShift(tap.video.keys(), FPS);
  for (const [stamp, shown, received] of samples) {
    const d = (Math.floor(shown) - stamp + STAMP_MOD) % STAMP_MOD;
    if (d > 5000) continue; // not a stamp of this run
    r.total.push(d);
    const f = pub.frames.get(stamp);
    // Frame n is at n/FPS s (with -fflags nobuffer ffmpeg drops frame 0, read while probing).
    const wire = f && tap.video.get(Math.round((f.n * 1000) / FPS) + shift);
    if (f && wire !== undefined && received !== null) {
      r.publisher.push(wire - f.at);
      r.network.push(received - wire);
      r.browser.push(shown - received);
    }
  }
  // The sound at RTMP time ts was due at t0 + ts − shift: both inputs start at t0 in this process.
  const warm = pub.t0 + WARMUP_S * 1000;
  for (const [ts, at] of tap.audio) {
    const due = pub.t0 + ts - shift;
    if (due > warm) r.soundOut.push(at - due);
  }
  // Beep k was due at t0 + k × period (a beep reaching the page a period late would be misread).
  for (const at of onsets) {
    const since = at - pub.t0;
    if (since > WARMUP_S * 1000) r.sound.push(since % BEEP_PERIOD_MS);
  }
  if (soundNote) r.soundNote = soundNote;
  // The transcoder logs its delay once, after its first 500 packets (10 s).
  for (const line of server.logTail().split('\n')) {
    if (!line.includes('transcoder latency') || !line.includes(path)) continue;
    try {
      const j = JSON.parse(line) as { path?: string; delayMs?: { median: number; p95: number } };
      if (j.path === path && j.delayMs) r.server.transcoder = j.delayMs;
    } catch {
      /* not a JSON line */
    }
  }
  return r;
}

function report(run: number, r: RunResult): void {
  const kind = r.audio ? 'with audio' : 'video only';
  console.log(
    `run ${run} ${kind}: glass to glass p50 ${ms(pct(r.total, 50))}, p95 ${ms(pct(r.total, 95))} ` +
      `(n=${r.total.length}, unreadable ${r.unreadable}; load ${r.load})`,
  );
  // Samples are in display order: the first and last quarter show whether the delay settles.
  const q = Math.floor(r.total.length / 4);
  console.log(
    `  first quarter of the window p50 ${ms(pct(r.total.slice(0, q), 50))}, last quarter ${ms(pct(r.total.slice(-q), 50))}`,
  );
  console.log(
    `  split p50: ffmpeg (stamp → on the wire) ${ms(pct(r.publisher, 50))} · server + WebRTC ` +
      `(→ received) ${ms(pct(r.network, 50))} · Chromium (received → shown) ${ms(pct(r.browser, 50))}` +
      `  [p95 ${ms(pct(r.publisher, 95))} · ${ms(pct(r.network, 95))} · ${ms(pct(r.browser, 95))}]`,
  );
  const jb = (k: string): string =>
    `jitter buffer ${ms(perEmitted(r, k, 'jitterBufferDelay'))} (target ${ms(perEmitted(r, k, 'jitterBufferTargetDelay'))}, ` +
    `minimum ${ms(perEmitted(r, k, 'jitterBufferMinimumDelay'))}), arrival jitter ${ms(1000 * (r.s1[k]?.jitter ?? NaN))}`;
  console.log(`  Chromium video: ${jb('video')}, frames dropped ${delta(r, 'video', 'framesDropped')}`);
  if (!r.audio) return;
  const concealed = (100 * delta(r, 'audio', 'concealedSamples')) / delta(r, 'audio', 'totalSamplesReceived');
  const playout =
    (1000 * delta(r, 'playout', 'totalPlayoutDelay')) / delta(r, 'playout', 'totalSamplesCount');
  console.log(
    `  Chromium plays the audio ${ms(avOffset(r.s0))} (window start) / ${ms(avOffset(r.s1))} (end) after ` +
      `the video of the same sender time (estimatedPlayoutTimestamp)`,
  );
  console.log(
    `  Chromium audio: ${jb('audio')}, playout ${ms(playout)}, concealed ${Number.isFinite(concealed) ? concealed.toFixed(1) : '–'} %`,
  );
  if (!values.tone)
    console.log(
      `  sound glass to glass (beep due → reaches the page's WebAudio): p50 ${ms(pct(r.sound, 50))}, ` +
        `p95 ${ms(pct(r.sound, 95))} (n=${r.sound.length}${r.soundNote ? `; ${r.soundNote}` : ''}); ` +
        `sound after its picture by ${ms(pct(r.sound, 50) - pct(r.total, 50))} (p50s)`,
    );
  const t = r.server.transcoder;
  console.log(
    `  ffmpeg puts the sound on the wire ${ms(pct(r.soundOut, 50))} after it was due (p50); server: ` +
      `audio ${r.server.lag ?? '–'} ms behind its video at the egress, paced with ${ms(r.server.hold ?? NaN)} hold; ` +
      `AAC → Opus ${t ? `${ms(t.median)} (p95 ${ms(t.p95)})` : '–'}`,
  );
}

async function main(): Promise<number> {
  let server: TestServer | undefined;
  let browser: TestBrowser | undefined;
  const live: { pub?: StampedPublisher; tap?: RtmpTap; page?: Page } = {};
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      const steps = [live.pub?.stop(), live.tap?.close(), browser?.close(), server?.stop()];
      await Promise.race([Promise.allSettled(steps), new Promise((r) => setTimeout(r, 10_000))]);
    })());
  const bail = (code: number, why: string) => (): void => {
    console.error(`g2g: ${why}; stopping`);
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
    server = await startServer();
    browser = await launchBrowser();
    console.log(
      `g2g: ${W}x${H}@${FPS} ${values.bitrate}bit/s x264 zerolatency over RTMP → WHEP → Chromium; ` +
        `${WARMUP_S} s warm-up + ${SECONDS} s per run; load ${load()}`,
    );
    for (let run = 1; run <= Number(values.runs); run++) {
      for (const audio of KINDS) {
        const r = await measureRun(server, browser, `g2g${run}${audio ? 'a' : 'v'}`, audio, live);
        results.push(r);
        report(run, r);
      }
    }
    if (results.length > 1) {
      console.log(`summary (each run's figure, in run order):`);
      for (const audio of KINDS) {
        const rs = results.filter((r) => r.audio === audio);
        const med = (f: (r: RunResult) => number): string =>
          rs.map((r) => (Number.isFinite(f(r)) ? f(r).toFixed(0) : '–')).join(' / ') + ' ms';
        console.log(
          `  ${audio ? 'with audio' : 'video only'}: p50 ${med((r) => pct(r.total, 50))}, p95 ${med((r) => pct(r.total, 95))}` +
            ` (ffmpeg ${med((r) => pct(r.publisher, 50))} · server + WebRTC ${med((r) => pct(r.network, 50))}` +
            ` · Chromium ${med((r) => pct(r.browser, 50))})` +
            (audio && !values.tone ? `; sound p50 ${med((r) => pct(r.sound, 50))}` : ''),
        );
      }
    }
    console.log(`load average after: ${load()}`);
    return 0;
  } catch (e) {
    if (cleaning) return 1; // interrupted: the children are being stopped
    console.error('g2g: failed:', e instanceof Error ? e.message : e);
    if (server) console.error(server.logTail().slice(-1500));
    return 1;
  } finally {
    clearTimeout(hard);
    await cleanup();
  }
}

process.exit(await main());
