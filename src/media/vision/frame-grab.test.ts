import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Stream } from '../stream/stream.ts';
import { accessUnit, type VideoTrack } from '../stream/types.ts';
import {
  annexB,
  changed,
  decodeKeyframe,
  difference,
  FINGERPRINT_H,
  FINGERPRINT_W,
  grabFrame,
} from './frame-grab.ts';

const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';

/** One H.264 keyframe of a white slide with `text`, as ffmpeg's Annex-B output. */
function encodeSlide(text: string, size = '1920x1080'): Uint8Array {
  return execFileSync(FFMPEG, [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=white:s=${size}`],
    ...['-vf', `drawtext=fontfile=${FONT}:text='${text}':fontsize=64:x=100:y=200:fontcolor=black`],
    ...[
      '-frames:v',
      '1',
      '-c:v',
      'libx264',
      '-profile:v',
      'baseline',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'h264',
      '-',
    ],
  ]);
}

/** The NAL units of an Annex-B stream. */
function nals(es: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 3 <= es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      if (start >= 0) out.push(es.subarray(start, i > 0 && es[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(es.subarray(start));
  return out;
}

describe('frame grab', () => {
  it('decodes the last keyframe of a stream to a PNG at most 1280 wide and a fingerprint', async () => {
    const units = nals(encodeSlide('광합성의 원리'));
    const sps = units.find((n) => (n[0]! & 0x1f) === 7)!;
    const pps = units.find((n) => (n[0]! & 0x1f) === 8)!;
    const frame = units.filter((n) => ![7, 8].includes(n[0]! & 0x1f));
    const track: VideoTrack = {
      kind: 'video',
      codec: 'h264',
      sps,
      pps,
      width: 1920,
      height: 1080,
      profile: sps[1]!,
      constraints: sps[2]!,
      level: sps[3]!,
      clockRate: 90000,
    };
    const stream = new Stream('live/test');
    expect(stream.lastKeyframe()).toBeUndefined();
    expect(await grabFrame(stream, { ffmpeg: FFMPEG })).toBeUndefined();
    stream.setVideo(track);
    stream.write(accessUnit('h264', 0, 0, true, frame));
    const key = stream.lastKeyframe();
    expect(key?.au.key).toBe(true);
    expect(annexB(key!.track, key!.au).subarray(0, 5)).toEqual(Uint8Array.of(0, 0, 0, 1, sps[0]!));
    const f = (await grabFrame(stream, { ffmpeg: FFMPEG }))!;
    expect(f.width).toBe(1280);
    expect(f.height).toBe(720);
    expect([...f.png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect(f.fingerprint).toHaveLength(FINGERPRINT_W * FINGERPRINT_H);
  });

  it('tells a changed slide from the same slide encoded again', async () => {
    const ff = { ffmpeg: FFMPEG };
    const a = await decodeKeyframe(encodeSlide('광합성의 원리', '1280x720'), ff);
    const again = await decodeKeyframe(encodeSlide('광합성의 원리', '1280x720'), ff);
    const other = await decodeKeyframe(encodeSlide('세포 분열의 단계', '1280x720'), ff);
    expect(changed(undefined, a.fingerprint)).toBe(true);
    expect(changed(a.fingerprint, again.fingerprint)).toBe(false);
    console.log(
      'fingerprint difference: same',
      difference(a.fingerprint, again.fingerprint),
      'changed',
      difference(a.fingerprint, other.fingerprint),
    );
  });

  it('fails clearly on bytes that are not H.264', async () => {
    await expect(decodeKeyframe(Uint8Array.of(0, 0, 0, 1, 9, 9, 9), { ffmpeg: FFMPEG })).rejects.toThrow(
      /could not decode/,
    );
  });
});

describe('changed', () => {
  it('compares the mean absolute difference with the threshold', () => {
    const a = new Uint8Array(576).fill(100);
    const b = new Uint8Array(576).map((_, i) => 100 + (i % 3) - 1);
    const c = new Uint8Array(576).fill(110);
    expect(difference(a, b)).toBeCloseTo(2 / 3);
    expect(changed(a, b, { mean: 1 })).toBe(false);
    expect(changed(a, b)).toBe(true);
    expect(changed(a, c)).toBe(true);
    expect(changed(a, c, { mean: 20, level: 20 })).toBe(false);
    const d = new Uint8Array(576).fill(100);
    d.fill(200, 0, 4);
    expect(difference(a, d)).toBeLessThan(0.8);
    expect(changed(a, d)).toBe(true);
    expect(changed(a, d, { mean: 1, cells: 5 })).toBe(false);
    expect(changed(a, new Uint8Array(10))).toBe(true);
  });
});
