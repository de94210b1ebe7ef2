/**
 * Loaders for the captured H.264 test data (see capture.ts) and an access-unit splitter used
 * to line the elementary streams up with ffprobe's per-frame output.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BitReader, unescapeRbsp } from '../bit-reader.ts';
import { splitAnnexB } from '../nal.ts';

/** The captured streams. */
export const STREAMS = ['baseline', 'high', 'crop444', 'interlaced'] as const;
export type StreamName = (typeof STREAMS)[number];

/** What ffprobe said about a stream (written by capture.ts). */
export interface Expected {
  stream: { profile: string; width: number; height: number; pix_fmt: string; level: number; field_order: string };
  packets: { size: number; key: boolean }[];
  frames: { key: boolean; type: string }[];
}

const dir = import.meta.dirname;

/** The Annex B elementary stream. */
export function loadEs(name: StreamName): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, `${name}.h264`)));
}

/** The avcC record ffmpeg wrote for the stream in MP4. */
export function loadAvcc(name: StreamName): Uint8Array {
  return new Uint8Array(readFileSync(join(dir, `${name}.avcc`)));
}

/** ffprobe's view of the stream. */
export function loadExpected(name: StreamName): Expected {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as Expected;
}

/**
 * Groups NAL units into access units (H.264 §7.4.1.2.3): a new one starts at an AUD, SPS,
 * PPS, SEI or prefix NAL after a slice, or at a slice with first_mb_in_slice = 0 after a slice.
 */
export function splitAccessUnits(nalus: readonly Uint8Array[]): Uint8Array[][] {
  const aus: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let hasSlice = false;
  for (const nal of nalus) {
    const t = nal[0]! & 0x1f;
    const vcl = t >= 1 && t <= 5;
    const startsAu = vcl
      ? new BitReader(unescapeRbsp(nal.subarray(1))).ue() === 0
      : (t >= 6 && t <= 9) || (t >= 14 && t <= 18);
    if (hasSlice && startsAu) {
      aus.push(cur);
      cur = [];
      hasSlice = false;
    }
    cur.push(nal);
    hasSlice ||= vcl;
  }
  if (cur.length > 0) aus.push(cur);
  return aus;
}

/** The stream split into NAL units and access units. */
export function loadAccessUnits(name: StreamName): { es: Uint8Array; nalus: Uint8Array[]; aus: Uint8Array[][] } {
  const es = loadEs(name);
  const nalus = splitAnnexB(es);
  return { es, nalus, aus: splitAccessUnits(nalus) };
}
