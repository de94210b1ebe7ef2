/**
 * Captured RTMP byte streams used by the tests (see README-like notes below).
 *
 * - `ffmpeg-publish.bin`: everything ffmpeg 5.1 sent (C0+C1+C2, then the chunk stream) while
 *   publishing 2 s of testsrc2 160x120 10 fps (libx264 baseline, -g 10) + 48 kHz sine (AAC) to
 *   `rtmp://127.0.0.1/live/test?token=good`, recorded by a TCP proxy in front of
 *   `ffmpeg -listen 1`.
 * - `ffmpeg-publish-extts.bin`: the same for 1 s with `-output_ts_offset 20000`, so that the
 *   first media messages carry extended timestamps (also on their continuation chunks).
 * - `ffmpeg-listen-reply.bin`: what `ffmpeg -listen 1` answered (S0+S1+S2, then its chunk
 *   stream: window ack size, peer bandwidth, _result, onStatus …).
 */
import { readFileSync } from 'node:fs';

/** C0 + C1 + C2 (or S0 + S1 + S2). */
export const HANDSHAKE_BYTES = 1 + 1536 * 2;

/** Reads a capture from this folder. */
export function capture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, import.meta.url)));
}

/** The chunk stream of a capture (after the handshake). */
export function chunkStream(name: string): Uint8Array {
  return capture(name).subarray(HANDSHAKE_BYTES);
}
