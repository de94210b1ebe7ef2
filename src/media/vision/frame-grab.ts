/**
 * Snapshots of a live picture (issue 10, slides): the stream's last H.264 keyframe, written as
 * Annex-B (start codes, SPS, PPS, the frame's NAL units) into one ffmpeg run that decodes the
 * single picture to a PNG at most 1280 px wide and to a 32×18 grayscale fingerprint. `changed`
 * compares two fingerprints (mean absolute difference), so an unchanged slide costs no OCR.
 * Media plane: knows nothing of classes or lessons.
 */
import { spawn } from 'node:child_process';
import type { Stream } from '../stream/stream.ts';
import type { AccessUnit, VideoTrack } from '../stream/types.ts';

/** Width and height of a fingerprint. */
export const FINGERPRINT_W = 32;
export const FINGERPRINT_H = 18;
/** Widest snapshot kept, px. */
export const MAX_WIDTH = 1280;

/** One decoded picture. */
export interface Frame {
  png: Uint8Array;
  width: number;
  height: number;
  /** FINGERPRINT_W × FINGERPRINT_H gray bytes, row by row. */
  fingerprint: Uint8Array;
}

const START = Uint8Array.of(0, 0, 0, 1);

/** The keyframe as an Annex-B H.264 elementary stream a decoder can start on. */
export function annexB(track: VideoTrack, au: AccessUnit): Uint8Array {
  const nals = [track.sps, track.pps, ...au.data];
  const out = new Uint8Array(nals.reduce((n, d) => n + START.length + d.length, 0));
  let at = 0;
  for (const d of nals) {
    out.set(START, at);
    out.set(d, at + START.length);
    at += START.length + d.length;
  }
  return out;
}

/** Options of {@link grabFrame}. */
export interface GrabOptions {
  /** The ffmpeg binary (see transcode/ffmpeg-locate.ts). */
  ffmpeg: string;
  /** Kill ffmpeg after this long, ms (default 10 000). */
  timeoutMs?: number;
}

/** The stream's last keyframe decoded; undefined when it has none (not live, no video yet). */
export async function grabFrame(stream: Stream, opts: GrabOptions): Promise<Frame | undefined> {
  const key = stream.lastKeyframe();
  if (!key) return undefined;
  return decodeKeyframe(annexB(key.track, key.au), opts);
}

/** Decodes the first picture of an Annex-B stream to a PNG (stdout) and a fingerprint (fd 3). */
export function decodeKeyframe(h264: Uint8Array, opts: GrabOptions): Promise<Frame> {
  const args = [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'h264', '-i', 'pipe:0'],
    ...[
      '-filter_complex',
      `[0:v]split=2[a][b];[a]scale='min(${MAX_WIDTH},iw)':-2[png];` +
        `[b]scale=${FINGERPRINT_W}:${FINGERPRINT_H}:flags=area,format=gray[fp]`,
    ],
    ...['-map', '[png]', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
    ...['-map', '[fp]', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:3'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(opts.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const png: Buffer[] = [];
    const fp: Buffer[] = [];
    let err = '';
    let done = false;
    const finish = (e?: Error, f?: Frame): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(f!);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`ffmpeg did not decode the keyframe within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    child.stdout!.on('data', (d: Buffer) => png.push(d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => fp.push(d));
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString();
    });
    child.on('error', (e) => finish(e));
    child.on('close', (code) => {
      const image = Buffer.concat(png);
      const print = Buffer.concat(fp);
      const size = pngSize(image);
      if (code !== 0 || !size || print.length < FINGERPRINT_W * FINGERPRINT_H) {
        finish(new Error(`ffmpeg could not decode the keyframe (exit ${code}): ${err.trim().slice(-300)}`));
        return;
      }
      finish(undefined, {
        png: image,
        ...size,
        fingerprint: print.subarray(0, FINGERPRINT_W * FINGERPRINT_H),
      });
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(h264);
  });
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } | undefined {
  if (png.length < 24 || png[0] !== 0x89 || png[1] !== 0x50) return undefined;
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/** Mean absolute difference of two fingerprints, 0–255. */
export function difference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length || a.length === 0) return 255;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** When two fingerprints count as different slides (see {@link changed}). */
export interface ChangeThreshold {
  /** Mean absolute difference over which the picture changed, of 255 (default 0.4). */
  mean: number;
  /** Or: this many cells (default 4) … */
  cells: number;
  /** … each differing by more than this (default 12). */
  level: number;
}

const DEFAULT_THRESHOLD: ChangeThreshold = { mean: 0.4, cells: 4, level: 12 };

/**
 * True when the picture changed enough to be a new slide. On a 32×18 fingerprint a new
 * heading on a white slide moves the mean by about 0.8 and a dozen cells by more than 12;
 * encoder noise on a still picture stays near 0.05 and under 6 per cell. No previous
 * fingerprint counts as changed.
 */
export function changed(
  a: Uint8Array | undefined,
  b: Uint8Array,
  threshold: Partial<ChangeThreshold> = {},
): boolean {
  if (!a) return true;
  if (a.length !== b.length) return true;
  const t = { ...DEFAULT_THRESHOLD, ...threshold };
  if (difference(a, b) > t.mean) return true;
  let cells = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > t.level) cells++;
  return cells >= t.cells;
}
