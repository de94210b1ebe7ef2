/**
 * Repair after a crash, on a real recording: ffmpeg-made H.264 1280x720 + AAC goes through a
 * StreamRegistry publisher into the Recorder, which is then left hanging mid-lesson (the node
 * "died": its playlist has no ENDLIST). A half-written `.tmp` segment and an orphan segment are
 * added; repair must leave a closed playlist that ffprobe and ffmpeg read, report the figures,
 * and cope with fresh, closed, broken and foreign directories.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClip, type TestClip } from '../protocol/hls/test-clip.ts';
import { StreamRegistry } from '../stream/registry.ts';
import { captureLogger, until } from '../transcode/test-support.ts';
import { Recorder } from './recorder.ts';
import { recordingDirSize, repairRecordings } from './repair.ts';

const run = promisify(execFile);

/** 6 s of testsrc2 1280x720 (30 fps, keyframe every 2 s) + a sine in AAC. */
const encode = (dir: string): Promise<TestClip> => encodeClip({ dir, size: '1280x720', seconds: 6 });

let tmp = '';
let root = '';
const registry = new StreamRegistry({ reconnectGraceMs: 5000 });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'airclass-repair-'));
  root = join(tmp, 'recordings');
  const clip = await encode(tmp);
  let crashed = false;
  const segments = new Map<string, number>();
  const ended = new Set<string>();
  const recorder = new Recorder({
    registry,
    root,
    logger: captureLogger().logger,
    begin: async (path) => ({ id: path === 'live/crash' ? 'crashed' : 'closed' }),
    onProgress: (id, p) => segments.set(id, p.segments),
    onEnd: (id) => ended.add(id),
    // After the crash the recorder never gets to write again (as if the process were gone).
    freeBytes: () => (crashed ? new Promise<number>(() => {}) : Promise.resolve(1e12)),
  });
  recorder.start();
  const publish = (path: string, to: number): void => {
    const pub = registry.publish(path, { id: 'p', protocol: 'test', remote: 'local' });
    pub.setVideo(clip.video);
    pub.setAudio(clip.audio);
    for (const u of clip.units) if (u.dts < to) pub.write(u);
  };
  // A lesson that ended normally (3 segments) …
  publish('live/done', Infinity);
  registry.stop('live/done');
  await until(() => ended.has('closed'), 10_000, 'the first recording closed');
  // … and one cut short after two segments: the open third is never written.
  publish('live/crash', Infinity);
  await until(() => segments.get('crashed') === 2, 10_000, 'two segments');
  crashed = true;
  const dir = join(root, 'crashed');
  const seg2 = await readFile(join(dir, 'seg-00002.m4s'));
  await writeFile(join(dir, 'seg-00003.m4s.tmp'), seg2.subarray(0, 1000)); // half-written
  await writeFile(join(dir, 'index.m3u8.tmp'), '#EXTM3U\n');
  await cp(join(dir, 'seg-00001.m4s'), join(dir, 'seg-00004.m4s')); // on disk, never listed
  // A copy whose second segment file is gone.
  await cp(dir, join(root, 'missing'), { recursive: true });
  await rm(join(root, 'missing', 'seg-00002.m4s'));
  // Started, nothing written yet; a broken playlist; a directory that is no recording; a stray file.
  await mkdir(join(root, 'fresh'));
  await writeFile(
    join(root, 'fresh', 'recording.json'),
    JSON.stringify({ id: 'fresh', path: 'live/fresh', startedAt: new Date().toISOString() }),
  );
  await mkdir(join(root, 'broken'));
  await writeFile(join(root, 'broken', 'index.m3u8'), 'not a playlist');
  await mkdir(join(root, 'other'));
  await writeFile(join(root, 'stray.txt'), 'x');
}, 60_000);

afterAll(async () => {
  registry.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('repairRecordings', () => {
  it('closes what a dead node left open, cleans the debris, and ffprobe reads the result', async () => {
    const { logger, lines } = captureLogger();
    const before = await readFile(join(root, 'crashed', 'index.m3u8'), 'utf8');
    expect(before).not.toContain('#EXT-X-ENDLIST');
    const report = await repairRecordings(root, logger);
    expect(report.map((r) => r.id)).toEqual(['closed', 'crashed', 'fresh', 'missing']);
    const by = Object.fromEntries(report.map((r) => [r.id, r]));

    const dir = join(root, 'crashed');
    expect((await readdir(dir)).sort()).toEqual([
      'index.m3u8',
      'init-0.mp4',
      'recording.json',
      'seg-00001.m4s',
      'seg-00002.m4s',
    ]);
    const text = await readFile(join(dir, 'index.m3u8'), 'utf8');
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const media = ['init-0.mp4', 'seg-00001.m4s', 'seg-00002.m4s'];
    const bytes = (await Promise.all(media.map((f) => stat(join(dir, f))))).reduce((n, s) => n + s.size, 0);
    expect(by.crashed).toEqual({
      id: 'crashed',
      path: 'live/crash',
      durationMs: 4000,
      sizeBytes: bytes,
      segments: 2,
      repaired: true,
    });
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-show_entries', 'format=duration', '-show_streams', '-of', 'json'],
      join(dir, 'index.m3u8'),
    ]);
    const probe = JSON.parse(stdout) as {
      format: { duration: string };
      streams: { codec_name: string; width?: number; height?: number }[];
    };
    expect(Math.abs(Number(probe.format.duration) - 4)).toBeLessThan(0.5);
    expect(probe.streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 1280, height: 720 });
    expect(probe.streams.some((s) => s.codec_name === 'aac')).toBe(true);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', join(dir, 'index.m3u8'), '-f', 'null', '-']);
    expect(decode.stderr).toBe('');

    // A listed segment whose file is gone is dropped; the orphan too.
    expect(by.missing).toMatchObject({ segments: 1, durationMs: 2000, repaired: true });
    expect((await readdir(join(root, 'missing'))).filter((f) => f.startsWith('seg-'))).toEqual([
      'seg-00001.m4s',
    ]);
    // Started but nothing written: an empty closed playlist.
    expect(by.fresh).toEqual({
      id: 'fresh',
      path: 'live/fresh',
      durationMs: 0,
      sizeBytes: 0,
      segments: 0,
      repaired: true,
    });
    expect(await readFile(join(root, 'fresh', 'index.m3u8'), 'utf8')).toContain('#EXT-X-ENDLIST');
    // A recording closed normally is only reported.
    expect(by.closed).toMatchObject({ path: 'live/done', segments: 3, repaired: false });
    expect(Math.abs(by.closed!.durationMs - 6000)).toBeLessThan(100);
    // The broken directory is logged and skipped, the foreign one ignored.
    expect(lines.some((l) => l.level === 50 && String(l.dir).endsWith('broken'))).toBe(true);

    // A second run finds everything closed.
    const again = await repairRecordings(root, captureLogger().logger);
    expect(again.map((r) => [r.id, r.repaired])).toEqual([
      ['closed', false],
      ['crashed', false],
      ['fresh', false],
      ['missing', false],
    ]);
    expect(again.find((r) => r.id === 'crashed')).toEqual({ ...by.crashed, repaired: false });
  }, 30_000);

  it('reports nothing for a root that does not exist yet, and sizes a directory', async () => {
    expect(await repairRecordings(join(tmp, 'nope'), captureLogger().logger)).toEqual([]);
    const dir = join(root, 'closed');
    const [closed] = (await repairRecordings(root, captureLogger().logger)).filter((r) => r.id === 'closed');
    const extra = (await stat(join(dir, 'index.m3u8'))).size + (await stat(join(dir, 'recording.json'))).size;
    expect(await recordingDirSize(dir)).toBe(closed!.sizeBytes + extra);
  });
});
