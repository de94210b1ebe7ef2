/**
 * The stamped publisher of bench:g2g: raw yuv420p frames made here at 30 fps, each stamped with
 * the wall-clock time (Unix ms) of the moment it is handed to ffmpeg, and — for the run with
 * sound — 440 Hz beeps as s16le PCM written on the same clock (a beep starts every second at t0 + k s, so
 * the page can time the sound too), encoded by ffmpeg (x264
 * zerolatency baseline, AAC) and published over RTMP.
 *
 * The sound comes from this process rather than from lavfi: two independent live inputs start
 * their timelines apart and ffmpeg then holds the video back to interleave it with the audio
 * (300–400 ms measured). Every frame is a fresh buffer: a pipe write that does not complete at
 * once is sent from the buffer later, so reusing one buffer would send a newer stamp.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { FFMPEG_PATH } from '../../test/helpers/publisher.ts';
import { drawStamp, STAMP_MOD } from './stamp.ts';

export const FPS = 30;
const RATE = 48000;
/** PCM is written in 10 ms pieces, like a capture device delivers it. */
const PCM_CHUNK = 480;
/** The sound: a 440 Hz beep of BEEP_MS starting every BEEP_PERIOD_MS from t0, silence between. */
export const BEEP_PERIOD_MS = 1000;
export const BEEP_MS = 100;

export interface StampedOptions {
  url: string;
  width: number;
  height: number;
  /** Video bitrate, e.g. '2M'. */
  bitrate: string;
  /** Publish an AAC track beside the video: 440 Hz beeps (default) or a continuous tone. */
  audio: boolean;
  tone?: boolean;
}

/** Wall-clock time, Unix ms with sub-ms resolution (one clock with the browser page's). */
export const unixNow = (): number => performance.timeOrigin + performance.now();

/** The ffmpeg arguments of a stamped publisher. */
export function stampedArgs(o: StampedOptions): string[] {
  // prettier-ignore
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${o.width}x${o.height}`, '-framerate', String(FPS),
    '-i', 'pipe:0',
    ...(o.audio ? ['-f', 's16le', '-ar', String(RATE), '-ac', '1', '-i', 'pipe:3'] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline',
    '-b:v', o.bitrate, '-maxrate', o.bitrate, '-bufsize', '500k', '-g', '60',
    ...(o.audio ? ['-c:a', 'aac', '-b:a', '96k'] : ['-an']),
    '-flush_packets', '1', '-f', 'flv', o.url,
  ];
}

/** A running stamped publisher. */
export interface StampedPublisher {
  proc: ChildProcess;
  /** Unix ms at which the first frame and the first PCM sample were written (time 0 of both). */
  readonly t0: number;
  /** Frame number (0-based) and exact write time of each stamp written, by stamp value. */
  readonly frames: Map<number, { n: number; at: number }>;
  /** Write time of frame n, Unix ms. */
  readonly writes: number[];
  /** Last lines of ffmpeg's stderr. */
  stderrTail(): string;
  /** Stops writing, ends ffmpeg (SIGTERM, SIGKILL after 2 s) and waits for it. Idempotent. */
  stop(): Promise<void>;
}

export function publishStamped(o: StampedOptions): StampedPublisher {
  const { width: W, height: H } = o;
  const stdio: ('pipe' | 'ignore')[] = ['pipe', 'ignore', 'pipe'];
  if (o.audio) stdio.push('pipe');
  const proc = spawn(FFMPEG_PATH, stampedArgs(o), { stdio });
  let tail = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (s: string) => (tail = (tail + s).slice(-2000)));
  proc.stdin!.on('error', () => undefined);
  const pcmOut = o.audio ? (proc.stdio[3] as Writable) : undefined;
  pcmOut?.on('error', () => undefined);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));

  // The picture: mid grey, a bar moving across the lower half so that every frame differs.
  const base = Buffer.alloc((W * H * 3) / 2, 128);
  base.fill(90, 0, W * H);
  const frames = new Map<number, { n: number; at: number }>();
  const writes: number[] = [];
  const t0 = unixNow();
  let samples = 0;
  const tick = (): void => {
    while (writes.length < ((unixNow() - t0) / 1000) * FPS) {
      const n = writes.length;
      const frame = Buffer.from(base);
      const bx = (n * 8) % W;
      for (let y = H / 2; y < H; y++) frame.fill(200, y * W + bx, y * W + Math.min(W, bx + 40));
      const at = unixNow();
      const stamp = Math.floor(at) % STAMP_MOD;
      drawStamp(frame, W, stamp);
      frames.set(stamp, { n, at });
      writes.push(at);
      proc.stdin!.write(frame);
    }
    if (pcmOut) {
      const due = Math.floor(((unixNow() - t0) / 1000) * RATE);
      while (samples + PCM_CHUNK <= due) {
        const pcm = Buffer.alloc(PCM_CHUNK * 2);
        for (let i = 0; i < PCM_CHUNK; i++) {
          const s = samples + i;
          if (!o.tone && s % ((BEEP_PERIOD_MS * RATE) / 1000) >= (BEEP_MS * RATE) / 1000) continue;
          pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * s) / RATE)), i * 2);
        }
        pcmOut.write(pcm);
        samples += PCM_CHUNK;
      }
    }
  };
  const timer = setInterval(tick, 4);
  tick();
  let stopping: Promise<void> | undefined;
  return {
    proc,
    t0,
    frames,
    writes,
    stderrTail: () => tail,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        proc.stdin!.end();
        pcmOut?.end();
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const kill = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(kill);
      })()),
  };
}
