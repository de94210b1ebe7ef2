import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normaliseOcr, TesseractReader } from './ocr.ts';

const FFMPEG = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';

const reader = new TesseractReader();
const status = await reader.status();
if (!status.ok) console.warn(`ocr.test: skipping the tesseract reads: ${status.note}`);

/** A white 1280×720 slide with black lines of text, as a PNG (real ffmpeg, Noto CJK). */
function slidePng(lines: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'airclass-ocr-'));
  dirs.push(dir);
  const out = join(dir, 'slide.png');
  const draw = lines
    .map(
      (t, i) =>
        `drawtext=fontfile=${FONT}:text='${t}':fontsize=${i === 0 ? 72 : 52}:x=100:y=${120 + i * 160}:fontcolor=black`,
    )
    .join(',');
  execFileSync(FFMPEG, [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'color=c=white:s=1280x720', '-frames:v', '1', '-vf', draw, out],
  ]);
  return readFileSync(out);
}
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('TesseractReader', () => {
  it('says whether it can read, with the languages present', () => {
    if (status.ok) expect(status.langs.length).toBeGreaterThan(0);
    else expect(status.note).toBeTruthy();
  });

  it.skipIf(!status.ok || !existsSync(FONT))('reads a Korean and English slide', async () => {
    const text = await reader.read(
      slidePng(['광합성의 원리', '빛 에너지를 화학 에너지로', 'Photosynthesis makes glucose']),
    );
    if (status.langs.includes('kor')) {
      expect(text).toContain('광합성');
      expect(text).toContain('화학');
      expect(text).toContain('에너지');
    }
    expect(text).toContain('Photosynthesis');
    expect(text).toContain('glucose');
  });

  it.skipIf(!status.ok)('answers empty text for a blank picture', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-ocr-'));
    dirs.push(dir);
    execFileSync(FFMPEG, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=white:s=640x360',
      '-frames:v',
      '1',
      join(dir, 'b.png'),
    ]);
    expect(await reader.read(readFileSync(join(dir, 'b.png')))).toBe('');
  });

  it.skipIf(!status.ok)('runs one read at a time and refuses beyond its queue', async () => {
    const small = new TesseractReader({ maxQueued: 1 });
    const png = slidePng(['Queue test']);
    const reads = [small.read(png), small.read(png), small.read(png)];
    const settled = await Promise.allSettled(reads);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(2);
    const refused = settled.find((s) => s.status === 'rejected');
    expect((refused as PromiseRejectedResult).reason.code).toBe('OCR_UNAVAILABLE');
  });

  it('says tesseract-ocr is not installed when it is not on PATH', async () => {
    const none = new TesseractReader({ searchPath: '/nonexistent' });
    expect(await none.status()).toEqual({ ok: false, langs: [], note: 'tesseract-ocr is not installed' });
    await expect(none.read(new Uint8Array(8))).rejects.toMatchObject({ code: 'OCR_UNAVAILABLE' });
  });
});

describe('normaliseOcr', () => {
  it('trims, collapses blank lines and drops noise lines', () => {
    expect(normaliseOcr('  광합성의 원리  \n\n\n|\n — .\n\n빛 에너지를   화학 에너지로\n\f')).toBe(
      '광합성의 원리\n\n빛 에너지를 화학 에너지로',
    );
  });
});
