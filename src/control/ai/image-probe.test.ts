import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import { probeImage, sniffImage } from './image-probe.ts';

const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
let dir: string;

/** One frame of ffmpeg's test pattern at `size`, encoded by the output's extension. */
function still(name: string, size: string, extra: string[] = []): Uint8Array {
  const out = join(dir, name);
  execFileSync(FFMPEG, [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${size}`,
    '-frames:v',
    '1',
    ...extra,
    out,
  ]);
  return new Uint8Array(readFileSync(out));
}

function photoType(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isAirError(e)) return e.code;
    throw e;
  }
  return 'none';
}

describe('probeImage', () => {
  const files: Record<string, Uint8Array> = {};
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'probe-'));
    files.png = still('a.png', '321x123');
    files.jpg = still('a.jpg', '640x360');
    files.q3 = still('p.jpg', '200x150', ['-c:v', 'mjpeg', '-q:v', '3']);
    files.webp = still('a.webp', '250x130', ['-c:v', 'libwebp']);
    files.lossless = still('l.webp', '99x77', ['-c:v', 'libwebp', '-lossless', '1']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the type and size of a PNG, a JPEG and a WebP made by ffmpeg', () => {
    expect(probeImage(files.png!, 'image/png')).toEqual({
      mime: 'image/png',
      ext: 'png',
      width: 321,
      height: 123,
    });
    expect(probeImage(files.jpg!, 'image/jpeg')).toEqual({
      mime: 'image/jpeg',
      ext: 'jpg',
      width: 640,
      height: 360,
    });
    expect(probeImage(files.q3!)).toMatchObject({ width: 200, height: 150 });
    expect(probeImage(files.webp!, 'image/webp')).toEqual({
      mime: 'image/webp',
      ext: 'webp',
      width: 250,
      height: 130,
    });
    expect(probeImage(files.lossless!, 'image/webp; charset=binary')).toMatchObject({
      width: 99,
      height: 77,
    });
  });

  it('reads a VP8X (extended) WebP header', () => {
    // RIFF, WEBP, VP8X chunk: flags, canvas width − 1 = 1999, height − 1 = 999 (24-bit LE).
    const b = new Uint8Array(30);
    b.set(
      [...'RIFF'].map((c) => c.charCodeAt(0)),
      0,
    );
    b.set(
      [...'WEBPVP8X'].map((c) => c.charCodeAt(0)),
      8,
    );
    b.set([10, 0, 0, 0, 0, 0, 0, 0, 0xcf, 0x07, 0, 0xe7, 0x03, 0], 16);
    expect(probeImage(b)).toMatchObject({ mime: 'image/webp', width: 2000, height: 1000 });
  });

  it('refuses a declared type that disagrees with the bytes', () => {
    expect(photoType(() => probeImage(files.jpg!, 'image/png'))).toBe('PHOTO_TYPE');
    expect(photoType(() => probeImage(files.png!, 'image/webp'))).toBe('PHOTO_TYPE');
    expect(photoType(() => probeImage(files.jpg!, 'image/jpg'))).toBe('none');
  });

  it('refuses text, GIF and empty input with PHOTO_TYPE', () => {
    const text = new TextEncoder().encode('this is my homework, honest\n');
    expect(sniffImage(text)).toBeUndefined();
    expect(photoType(() => probeImage(text, 'image/png'))).toBe('PHOTO_TYPE');
    expect(photoType(() => probeImage(new TextEncoder().encode('GIF89a......')))).toBe('PHOTO_TYPE');
    expect(photoType(() => probeImage(new Uint8Array(0)))).toBe('PHOTO_TYPE');
  });

  it('never throws anything but PHOTO_TYPE on truncated or garbage bytes', () => {
    for (const f of Object.values(files)) {
      // Every prefix that ends before the size is known.
      for (let n = 0; n < Math.min(f.length, 700); n++) {
        const code = photoType(() => probeImage(f.subarray(0, n)));
        expect(['PHOTO_TYPE', 'none']).toContain(code);
      }
    }
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 2000; i++) {
      const base = Object.values(files)[i % 5]!;
      const b = new Uint8Array(base.subarray(0, 64 + (i % 200)));
      // Keep the magic bytes, scramble the rest.
      for (let k = 16; k < b.length; k++) if (rand() < 64) b[k] = rand();
      expect(['PHOTO_TYPE', 'none']).toContain(photoType(() => probeImage(b)));
    }
  });
});
