/**
 * Glass to glass: the time from the moment a frame is published to the moment Chromium shows
 * it. `npm run bench:g2g [-- --seconds 20 --runs 2 --size 640x360]`
 *
 * Starts `airclass start`, pipes raw frames from this process into ffmpeg (x264 zerolatency,
 * baseline, over RTMP), each frame carrying the wall-clock time it was handed to ffmpeg as a row
 * of 24 black/white blocks (ms modulo 2^24). The watch page plays it in real Chromium; on each
 * requestVideoFrameCallback the page reads the blocks back from the picture and takes its
 * expected display time minus the stamp (one machine: one clock). Runs with AAC sound (through
 * the server's AAC → Opus transcoder, so the browser's lip sync holds the picture to the audio)
 * and without audio, alternating; prints p50/p95 of each and Chromium's jitter-buffer delay per
 * track. Never asserts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { launchBrowser, type TestBrowser } from '../test/helpers/chromium.ts';
import { FFMPEG_PATH } from '../test/helpers/publisher.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    runs: { type: 'string', default: '2' },
    size: { type: 'string', default: '640x360' },
    bitrate: { type: 'string', default: '1M' },
    'deadline-s': { type: 'string', default: '600' },
  },
});
const [W, H] = values.size.split('x').map(Number) as [number, number];
const SECONDS = Number(values.seconds);
const BITS = 24;
const BLOCK = Math.floor(Math.min(W / (BITS + 2), 32));

/** A publisher of stamped frames: raw yuv420p written by us at 30 fps, encoded by ffmpeg. */
function publishStamped(url: string, audio: boolean): { proc: ChildProcess; stop: () => void } {
  // prettier-ignore
  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-framerate', '30', '-i', 'pipe:0',
    // The sound comes from this process too, written on the same clock as the frames: two
    // independent live inputs (lavfi -re) start their timelines apart, and ffmpeg's muxer then
    // holds the video back (measured: 300–400 ms) to interleave it with the audio.
    ...(audio ? ['-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:3'] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-b:v', values.bitrate, '-maxrate', values.bitrate, '-bufsize', '500k', '-g', '60',
    ...(audio ? ['-c:a', 'aac', '-b:a', '96k'] : ['-an']),
    '-flush_packets', '1', '-f', 'flv', url,
  ];
  const proc = spawn(FFMPEG_PATH, args, { stdio: ['pipe', 'ignore', 'inherit', 'pipe'] });
  proc.stdin!.on('error', () => undefined);
  const pcmOut = proc.stdio[3] as import('node:stream').Writable | null;
  pcmOut?.on('error', () => undefined);
  let samples = 0;
  const frame = Buffer.alloc(W * H * 1.5, 128);
  frame.fill(90, 0, W * H);
  const y0 = BLOCK;
  const t0 = performance.now();
  let n = 0;
  const timer = setInterval(() => {
    // Catch up to the frame count the clock says (setInterval drifts); one frame per tick normally.
    while (n < ((performance.now() - t0) / 1000) * 30) {
      const stamp = Math.floor(performance.timeOrigin + performance.now()) % 2 ** BITS;
      for (let b = 0; b < BITS; b++) {
        const v = (stamp >> (BITS - 1 - b)) & 1 ? 235 : 16;
        const x0 = BLOCK + b * BLOCK;
        for (let y = y0; y < y0 + BLOCK; y++) frame.fill(v, y * W + x0, y * W + x0 + BLOCK);
      }
      // A moving bar so that every frame differs below the code.
      frame.fill(90, (H / 2) * W, H * W);
      const bx = (n * 8) % W;
      for (let y = H / 2; y < H; y++) frame.fill(200, y * W + bx, y * W + Math.min(W, bx + 40));
      proc.stdin!.write(frame);
      n++;
    }
    if (audio && pcmOut) {
      // A 440 Hz tone, up to the sample the clock says, in 20 ms chunks.
      const due = Math.floor(((performance.now() - t0) / 1000) * 48000);
      while (samples + 960 <= due) {
        const pcm = Buffer.alloc(960 * 2);
        for (let i = 0; i < 960; i++) {
          pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * (samples + i)) / 48000)), i * 2);
        }
        pcmOut.write(pcm);
        samples += 960;
      }
    }
  }, 5);
  return {
    proc,
    stop: () => {
      clearInterval(timer);
      proc.stdin!.end();
      pcmOut?.end();
      proc.kill('SIGTERM');
    },
  };
}

interface RunResult {
  samples: number[];
  audioJitterMs: number | null;
  videoJitterMs: number | null;
  /** Chromium's audio playout delay (media-playout: jitter buffer to the audio device), ms. */
  playoutMs: number | null;
}

async function measure(browser: TestBrowser, url: string): Promise<RunResult> {
  const page = await browser.newPage();
  // Keep the page's peer connections, to read their inbound-rtp stats.
  await page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    const pcs: RTCPeerConnection[] = [];
    (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs = pcs;
    window.RTCPeerConnection = class extends Native {
      constructor(cfg?: RTCConfiguration) {
        super(cfg);
        pcs.push(this);
      }
    } as typeof RTCPeerConnection;
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.airclass?.firstFrameAt != null, null, { timeout: 30_000 });
    await page.waitForTimeout(3000); // warm-up: jitter buffers settle
    const result = await page.evaluate(
      async ({ seconds, bits, block }) => {
        const video = document.querySelector('video')!;
        const canvas = document.createElement('canvas');
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        const samples: number[] = [];
        const mod = 2 ** bits;
        await new Promise<void>((done) => {
          const end = performance.now() + seconds * 1000;
          const onFrame = (_now: number, meta: { expectedDisplayTime: number }): void => {
            ctx.drawImage(video, 0, 0);
            const row = ctx.getImageData(0, block + block / 2, canvas.width, 1).data;
            let stamp = 0;
            for (let b = 0; b < bits; b++) {
              const x = Math.floor(block + b * block + block / 2);
              stamp = stamp * 2 + (row[x * 4]! > 128 ? 1 : 0);
            }
            const shown = Math.floor(performance.timeOrigin + meta.expectedDisplayTime) % mod;
            const d = (shown - stamp + mod) % mod;
            if (d < 5000) samples.push(d);
            if (performance.now() < end) video.requestVideoFrameCallback(onFrame);
            else done();
          };
          video.requestVideoFrameCallback(onFrame);
        });
        return samples;
      },
      { seconds: SECONDS, bits: BITS, block: BLOCK },
    );
    const stats = await page.evaluate(async () => {
      const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
      if (!pc) return null;
      const out: Record<string, number | null> = { audio: null, video: null, playout: null };
      (await pc.getStats()).forEach((r: Record<string, unknown>) => {
        if (r.type === 'media-playout') {
          const c = Number(r.totalSamplesCount);
          if (c > 0) out.playout = (1000 * Number(r.totalPlayoutDelay)) / c;
          return;
        }
        if (r.type !== 'inbound-rtp') return;
        const d = Number(r.jitterBufferDelay);
        const c = Number(r.jitterBufferEmittedCount);
        if (c > 0) out[String(r.kind)] = (1000 * d) / c;
      });
      return out;
    });
    return {
      samples: result,
      audioJitterMs: stats?.audio ?? null,
      videoJitterMs: stats?.video ?? null,
      playoutMs: stats?.playout ?? null,
    };
  } finally {
    await page.goto('about:blank').catch(() => undefined);
    await page.close();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

async function main(): Promise<number> {
  let server: TestServer | undefined;
  let browser: TestBrowser | undefined;
  let pub: ReturnType<typeof publishStamped> | undefined;
  const hard = setTimeout(() => process.exit(2), Number(values['deadline-s']) * 1000);
  try {
    server = await startServer();
    browser = await launchBrowser();
    console.log(
      `g2g: ${W}x${H}@30 ${values.bitrate}bit/s, ${SECONDS} s per run, load ${loadavg()[0]?.toFixed(1)}`,
    );
    for (let run = 0; run < Number(values.runs); run++) {
      for (const audio of [true, false]) {
        const name = `g2g${run}${audio ? 'a' : 'v'}`;
        const [pubToken, readToken] = await Promise.all([
          server.token('teacher', `live/${name}`, 'publish'),
          server.token('student', `live/${name}`, 'read'),
        ]);
        pub = publishStamped(`${server.rtmpUrl}/live/${name}?token=${pubToken}`, audio);
        const r = await measure(browser, `${server.httpUrl}/watch/live/${name}?jwt=${readToken}&lang=en`);
        const health = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
          webrtc: { audioLagMs: Record<string, number>; audioHoldMs: Record<string, number> };
        };
        pub.stop();
        pub = undefined;
        const lag = health.webrtc.audioLagMs[`live/${name}`];
        const hold = health.webrtc.audioHoldMs[`live/${name}`];
        const jb = (x: number | null): string => (x === null ? '–' : `${x.toFixed(0)} ms`);
        console.log(
          `run ${run + 1} ${audio ? 'with audio ' : 'video only '}: p50 ${pct(r.samples, 50).toFixed(0)} ms, ` +
            `p95 ${pct(r.samples, 95).toFixed(0)} ms (n=${r.samples.length}); Chromium jitter buffer: ` +
            `video ${jb(r.videoJitterMs)}, audio ${jb(r.audioJitterMs)}` +
            (audio ? `, audio playout ${jb(r.playoutMs)}` : '') +
            (audio
              ? `; at the server audio arrives ${lag ?? '–'} ms after its video, paced ${hold?.toFixed(0) ?? '–'} ms`
              : ''),
        );
      }
    }
    console.log(
      `load average after: ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
    return 0;
  } catch (e) {
    console.error('g2g: failed:', e instanceof Error ? e.message : e);
    if (server) console.error(server.logTail().slice(-1500));
    return 1;
  } finally {
    clearTimeout(hard);
    pub?.stop();
    await browser?.close();
    await server?.stop();
  }
}

process.exit(await main());
