/**
 * Loaders for the RTSP captures in this folder (written by ../capture.ts, see there):
 * `<name>.bin` is what the client sent over TCP, `<name>.reply.bin` what the server answered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;

/** The captured sessions. */
export const CAPTURES = ['ffmpeg-h264-aac', 'ffmpeg-h264-opus', 'ffprobe-play'] as const;
export type CaptureName = (typeof CAPTURES)[number];

/** The bytes the client sent. */
export function clientBytes(name: CaptureName): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, `${name}.bin`)));
}

/** The bytes the capture server answered. */
export function serverBytes(name: CaptureName): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, `${name}.reply.bin`)));
}

/** What ffprobe reported while playing the ffprobe-play session. */
export function ffprobeStreams(): Record<string, unknown>[] {
  return (JSON.parse(readFileSync(join(dir, 'ffprobe-play.json'), 'utf8')) as { streams: Record<string, unknown>[] })
    .streams;
}
