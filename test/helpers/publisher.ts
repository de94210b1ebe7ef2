/**
 * A real teacher stand-in: ffmpeg publishing a lavfi test pattern (testsrc2) and a sine tone
 * over RTMP as H.264 baseline + AAC in FLV, paced in real time with `-re`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Debian's ffmpeg; override with FFMPEG_PATH. */
export const FFMPEG_PATH = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';

/** Options for {@link publishTestPattern}. */
export interface PublishOptions {
  /** RTMP publish URL, e.g. rtmp://127.0.0.1:2035/live/math1?token=… */
  url: string;
  /** Picture size, e.g. '1280x720' (default). */
  size?: string;
  /** Frame rate (default 30). */
  rate?: number;
  /** Sine tone frequency in Hz (default 440). */
  toneHz?: number;
  /** Video bitrate, e.g. '2M'; default: x264's CRF rate control. */
  bitrate?: string;
  /** Keyframe interval in frames (default 2 s worth: 2 × rate). */
  gop?: number;
  /** More ffmpeg arguments, inserted before the output (`-f flv URL`). */
  extraArgs?: string[];
}

/** A running publisher. */
export interface Publisher {
  /** The ffmpeg child process. */
  proc: ChildProcess;
  /** Resolves with ffmpeg's exit code (or -1 when killed by a signal). */
  exited: Promise<number>;
  /** The last lines ffmpeg wrote to stderr (for error messages). */
  stderrTail(): string;
  /** Asks ffmpeg to quit (q, then SIGTERM, then SIGKILL) and waits for it. Idempotent. */
  stop(): Promise<void>;
}

const TAIL_BYTES = 4000;

/** The ffmpeg argument list {@link publishTestPattern} runs (exported for logs and tests). */
export function testPatternArgs(opts: PublishOptions): string[] {
  const size = opts.size ?? '1280x720';
  const rate = opts.rate ?? 30;
  const gop = opts.gop ?? rate * 2;
  const rateControl = opts.bitrate
    ? ['-b:v', opts.bitrate, '-maxrate', opts.bitrate, '-bufsize', opts.bitrate]
    : [];
  return [
    ...['-hide_banner', '-nostats', '-loglevel', 'warning'],
    ...['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}`],
    ...['-re', '-f', 'lavfi', '-i', `sine=frequency=${opts.toneHz ?? 440}:sample_rate=48000`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-pix_fmt', 'yuv420p', '-g', String(gop), '-keyint_min', String(gop), ...rateControl],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000'],
    ...(opts.extraArgs ?? []),
    ...['-f', 'flv', opts.url],
  ];
}

/**
 * Spawns ffmpeg publishing testsrc2 + a sine tone to `url`. Returns at once; the stream is
 * live once the server has seen the first keyframe (poll the server, don't sleep).
 */
export function publishTestPattern(opts: PublishOptions): Publisher {
  // stdin stays a pipe so stop() can send 'q' for a clean quit (FLV trailer, RTMP close).
  const proc = spawn(FFMPEG_PATH, testPatternArgs(opts), { stdio: ['pipe', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_BYTES);
  });
  proc.stdin?.on('error', () => {}); // EPIPE when ffmpeg is already gone
  const exited = new Promise<number>((resolve) => {
    proc.once('error', (err) => {
      tail += `\nspawn ${FFMPEG_PATH}: ${err.message}`;
      resolve(-1);
    });
    proc.once('exit', (code) => resolve(code ?? -1));
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin?.end('q');
      const timers: NodeJS.Timeout[] = [
        setTimeout(() => proc.kill('SIGTERM'), 2000),
        setTimeout(() => proc.kill('SIGKILL'), 4000),
      ];
      await exited;
      for (const timer of timers) clearTimeout(timer);
    })());

  return { proc, exited, stderrTail: () => tail.trim(), stop };
}
