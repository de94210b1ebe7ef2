import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from './ffmpeg-locate.ts';

describe('locateFfmpeg', () => {
  it('finds the system ffmpeg on PATH with libopus', async () => {
    const r = await locateFfmpeg();
    expect(r).toMatchObject({ ok: true, source: 'system', opusEncoder: 'libopus' });
    if (r.ok) {
      expect(r.path).toMatch(/ffmpeg$/);
      expect(r.version).toMatch(/\d/);
      console.log(`ffmpeg: ${r.path} ${r.version} (${r.opusEncoder})`);
    }
  });

  it('uses a configured path as given', async () => {
    expect(await locateFfmpeg({ path: '/usr/bin/ffmpeg' })).toMatchObject({ ok: true, source: 'config' });
  });

  it('does not fall back when the configured path is wrong', async () => {
    const r = await locateFfmpeg({ path: '/nonexistent/ffmpeg' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/\/nonexistent\/ffmpeg does not run: ENOENT/);
  });

  it('rejects a binary that is not ffmpeg', async () => {
    const r = await locateFfmpeg({ path: '/bin/true' });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/does not look like ffmpeg/) });
  });

  it('falls back to the npm-shipped binary when PATH has none', async () => {
    const r = await locateFfmpeg({ searchPath: '/nonexistent' });
    // The npm package is an optional dependency; where it is installed it must be used.
    if (r.ok) {
      expect(r.source).toBe('npm');
      expect(r.path).toMatch(/@ffmpeg-installer/);
      console.log(`npm ffmpeg: ${r.version} (${r.opusEncoder})`);
    } else expect(r.reason).toMatch(/no ffmpeg on PATH; @ffmpeg-installer\/ffmpeg unavailable/);
  });

  it('reports why nothing was found', async () => {
    const r = await locateFfmpeg({ searchPath: '', noNpm: true });
    expect(r).toEqual({ ok: false, reason: 'ffmpeg not found (install ffmpeg): no ffmpeg on PATH' });
  });
});
