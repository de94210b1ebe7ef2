/**
 * The recorder on real media: ffmpeg encodes H.264 1280x720 (2 s GOP) + AAC once, the access
 * units go through a real StreamRegistry publisher, and ffprobe/ffmpeg read what landed on
 * disk: a whole lesson, a publisher that drops and returns (also with a new resolution), a disk
 * too full to start, a disk filling up mid-lesson, audio only, and a shutdown.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeClip, type TestClip } from '../protocol/hls/test-clip.ts';
import { StreamRegistry, type Publisher } from '../stream/registry.ts';
import type { AccessUnit } from '../stream/types.ts';
import { captureLogger, until } from '../transcode/test-support.ts';
import { Recorder, type RecorderOptions, type RecordingEnd, type RecordingProgress } from './recorder.ts';

const run = promisify(execFile);

type Clip = TestClip;

/** `seconds` of testsrc2 at `size` (30 fps, keyframe every 2 s) + a sine in AAC. */
const encode = (dir: string, size: string, seconds: number): Promise<Clip> =>
  encodeClip({ dir, size, seconds });

let tmp = '';
let hd: Clip;
let small: Clip;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'airclass-rec-'));
  [hd, small] = await Promise.all([encode(tmp, '1280x720', 6), encode(tmp, '640x360', 4)]);
}, 60_000);

afterAll(() => rm(tmp, { recursive: true, force: true }));

/** A registry, a recorder on it, and what its callbacks saw. */
interface Rig {
  registry: StreamRegistry;
  recorder: Recorder;
  root: string;
  begun: string[];
  progress: RecordingProgress[];
  ends: { id: string; end: RecordingEnd }[];
  lines: Record<string, unknown>[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.recorder.close();
    r.registry.close();
  }
});

let ids = 0;
async function rig(opts: Partial<RecorderOptions> = {}): Promise<Rig> {
  const registry = opts.registry ?? new StreamRegistry({ reconnectGraceMs: 5000 });
  const root = await mkdtemp(join(tmp, 'root-'));
  const { logger, lines } = captureLogger();
  const r: Rig = { registry, root, begun: [], progress: [], ends: [], lines, recorder: undefined! };
  r.recorder = new Recorder({
    registry,
    root,
    logger,
    begin: async (path) => {
      r.begun.push(path);
      return { id: `rec${++ids}` };
    },
    onProgress: (_id, p) => r.progress.push(p),
    onEnd: (id, end) => r.ends.push({ id, end }),
    freeBytes: async () => 1e12,
    ...opts,
  });
  r.recorder.start();
  rigs.push(r);
  return r;
}

/** Publishes `clip`'s units with dts in [from, to) on `path` (tracks set first). */
function feed(registry: StreamRegistry, path: string, clip: Clip, from = 0, to = Infinity): Publisher {
  const pub = registry.publish(path, { id: 'p', protocol: 'test', remote: 'local' });
  pub.setVideo(clip.video);
  pub.setAudio(clip.audio);
  for (const u of clip.units) if (u.dts >= from && u.dts < to) pub.write(u);
  return pub;
}

async function probe(playlist: string): Promise<{
  duration: number;
  streams: { codec_name: string; width?: number; height?: number }[];
}> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-show_entries', 'format=duration', '-show_streams', '-of', 'json', playlist],
  ]);
  const j = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string }[] };
  return { duration: Number(j.format.duration), streams: j.streams };
}

async function decodeErrors(playlist: string): Promise<string> {
  return (await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-'])).stderr;
}

describe('Recorder', () => {
  it('records a whole lesson to HLS that ffprobe reads: 1280x720 H.264 + AAC, 2 s segments, ENDLIST', async () => {
    const r = await rig();
    feed(r.registry, 'live/math', hd);
    r.registry.stop('live/math'); // the teacher ends the lesson
    await until(() => r.ends.length === 1, 10_000, 'onEnd');
    const [{ id, end }] = r.ends as [{ id: string; end: RecordingEnd }];
    expect(r.begun).toEqual(['live/math']);
    expect(end).toMatchObject({ status: 'complete', segments: 3 });
    expect(end.reason).toBeUndefined();
    const dir = join(r.root, id);
    const text = await readFile(join(dir, 'index.m3u8'), 'utf8');
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const durations = [...text.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
    expect(durations).toHaveLength(3);
    for (const d of durations) {
      expect(d).toBeGreaterThanOrEqual(1.95);
      expect(d).toBeLessThanOrEqual(4);
    }
    expect((await readdir(dir)).sort()).toEqual([
      'index.m3u8',
      'init-0.mp4',
      'recording.json',
      'seg-00001.m4s',
      'seg-00002.m4s',
      'seg-00003.m4s',
    ]);
    const meta = JSON.parse(await readFile(join(dir, 'recording.json'), 'utf8')) as Record<string, string>;
    expect(meta).toMatchObject({ id, path: 'live/math' });
    expect(Number.isNaN(Date.parse(meta.startedAt!))).toBe(false);
    const p = await probe(join(dir, 'index.m3u8'));
    expect(Math.abs(p.duration - hd.videoFrames / 30)).toBeLessThan(0.5);
    expect(Math.abs(end.durationMs / 1000 - hd.videoFrames / 30)).toBeLessThan(0.5);
    expect(p.streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 1280, height: 720 });
    expect(p.streams.some((s) => s.codec_name === 'aac')).toBe(true);
    expect(await decodeErrors(join(dir, 'index.m3u8'))).toBe('');
    // Progress after each segment, the last one equal to what onEnd reports.
    expect(r.progress.map((x) => x.segments)).toEqual([1, 2, 3]);
    expect(r.progress.at(-1)).toEqual({ durationMs: end.durationMs, sizeBytes: end.sizeBytes, segments: 3 });
    expect(r.recorder.active()).toEqual([]);
  }, 30_000);

  it('continues one recording when the publisher drops and returns within the grace (a discontinuity)', async () => {
    const r = await rig();
    const first = feed(r.registry, 'live/drop', hd, 0, 4000);
    await until(() => r.recorder.active().length === 1, 5000, 'recording open');
    first.close(); // the teacher's connection dropped
    await sleep(1200); // the wall-clock gap becomes a jump in the timeline
    expect(r.recorder.active()).toMatchObject([{ path: 'live/drop' }]);
    feed(r.registry, 'live/drop', hd, 4000);
    r.registry.stop('live/drop');
    await until(() => r.ends.length === 1, 10_000, 'onEnd');
    expect(r.begun).toEqual(['live/drop']);
    const playlist = join(r.root, r.ends[0]!.id, 'index.m3u8');
    const text = await readFile(playlist, 'utf8');
    expect(text.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
    expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1); // same tracks: same init segment
    expect(await decodeErrors(playlist)).toBe('');
    const p = await probe(playlist);
    expect(Math.abs(p.duration - hd.videoFrames / 30)).toBeLessThan(0.5);
  }, 30_000);

  it('writes a new init segment when the returning publisher changed resolution', async () => {
    const r = await rig();
    feed(r.registry, 'live/res', hd, 0, 4000).close();
    await sleep(1200);
    feed(r.registry, 'live/res', small);
    r.registry.stop('live/res');
    await until(() => r.ends.length === 1, 10_000, 'onEnd');
    const dir = join(r.root, r.ends[0]!.id);
    const text = await readFile(join(dir, 'index.m3u8'), 'utf8');
    expect(text.match(/#EXT-X-MAP:URI="[^"]+"/g)).toEqual([
      '#EXT-X-MAP:URI="init-0.mp4"',
      '#EXT-X-MAP:URI="init-1.mp4"',
    ]);
    expect(text).toContain('#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-1.mp4"');
    expect(await decodeErrors(join(dir, 'index.m3u8'))).toBe('');
    // Both parts are there: 4 s of 1280x720 then 4 s of 640x360.
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=width', '-of', 'json'],
      join(dir, 'index.m3u8'),
    ]);
    const widths = (JSON.parse(stdout) as { frames: { width: number }[] }).frames.map((f) => f.width);
    expect(widths.filter((w) => w === 1280).length).toBe(120);
    expect(widths.filter((w) => w === 640).length).toBe(small.videoFrames);
  }, 30_000);

  it('does not start on a nearly full disk and says so (onEnd DISK_FULL)', async () => {
    const r = await rig({ freeBytes: async () => 100 * 2 ** 20, minFreeBytes: 512 * 2 ** 20 });
    feed(r.registry, 'live/full', hd, 0, 2000);
    await until(() => r.ends.length === 1, 5000, 'onEnd');
    expect(r.ends[0]!.end).toEqual({
      status: 'stopped',
      reason: 'DISK_FULL',
      durationMs: 0,
      sizeBytes: 0,
      segments: 0,
    });
    expect(existsSync(join(r.root, r.ends[0]!.id))).toBe(false);
    expect(r.lines.find((l) => l.level === 50)?.msg).toBe(
      'recording not started: disk almost full (100.0 MiB free, 512.0 MiB needed)',
    );
    expect(r.recorder.active()).toEqual([]);
  }, 30_000);

  it('stops a recording whose disk fills up, closes its playlist, and leaves the live stream alone', async () => {
    let calls = 0;
    // Plenty at the start and for the first segment, then nearly nothing.
    const r = await rig({ freeBytes: async () => (++calls <= 2 ? 1e12 : 1000) });
    const pub = r.registry.publish('live/fill', { id: 'p', protocol: 'test', remote: 'local' });
    const viewer: AccessUnit[] = [];
    pub.stream.addReader({ codecs: new Set(['h264', 'aac']) }, (au) => void viewer.push(au));
    pub.setVideo(hd.video);
    pub.setAudio(hd.audio);
    for (const u of hd.units) pub.write(u);
    await until(() => r.ends.length === 1, 10_000, 'onEnd');
    expect(r.ends[0]!.end).toMatchObject({ status: 'stopped', reason: 'DISK_FULL', segments: 1 });
    const playlist = join(r.root, r.ends[0]!.id, 'index.m3u8');
    const text = await readFile(playlist, 'utf8');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(Math.abs((await probe(playlist)).duration - 2)).toBeLessThan(0.5);
    const errors = r.lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      path: 'live/fill',
      msg: expect.stringMatching(/^recording stopped: disk almost full/),
    });
    // The viewer got every unit; the path stays live and is not recorded again in this session.
    await until(() => viewer.length === hd.units.length, 5000, 'viewer frames');
    expect(pub.stream.state).toBe('live');
    expect(r.recorder.active()).toEqual([]);
    pub.close();
    feed(r.registry, 'live/fill', hd, 0, 2000);
    r.registry.stop('live/fill');
    await sleep(100);
    expect(r.begun).toHaveLength(1);
    expect(r.ends).toHaveLength(1);
  }, 30_000);

  it('stops on a write error (WRITE_FAILED) and the stream goes on', async () => {
    let calls = 0;
    let root = '';
    // Before the second segment, the recording's directory disappears (a disk unmounted, a cleanup).
    const r = await rig({
      freeBytes: async () => {
        if (++calls === 3) await rm(join(root, (await readdir(root))[0]!), { recursive: true, force: true });
        return 1e12;
      },
    });
    root = r.root;
    const pub = feed(r.registry, 'live/gone', hd);
    await until(() => r.ends.length === 1, 10_000, 'onEnd');
    expect(r.ends[0]!.end).toMatchObject({ status: 'stopped', reason: 'WRITE_FAILED', segments: 1 });
    const errors = r.lines.filter((l) => l.level === 50);
    expect(errors).toMatchObject([{ path: 'live/gone', msg: 'recording stopped: write failed' }]);
    expect(pub.stream.state).toBe('live');
    expect(r.recorder.active()).toEqual([]);
  }, 30_000);

  it('skips a path that publishes audio only (onEnd TRACKS), without a crash', async () => {
    const r = await rig({ tracksTimeoutMs: 300 });
    const pub = r.registry.publish('live/radio', { id: 'p', protocol: 'test', remote: 'local' });
    pub.setAudio(hd.audio);
    for (const u of hd.units) if (u.codec === 'aac') pub.write(u);
    await until(() => r.ends.length === 1, 5000, 'onEnd');
    expect(r.ends[0]!.end).toMatchObject({ status: 'stopped', reason: 'TRACKS', segments: 0 });
    expect(r.lines.some((l) => l.level === 40 && /audio only/.test(String(l.msg)))).toBe(true);
    const text = await readFile(join(r.root, r.ends[0]!.id, 'index.m3u8'), 'utf8');
    expect(text).toContain('#EXT-X-ENDLIST');
  }, 30_000);

  it('closes open recordings on shutdown without waiting for more media (idempotent)', async () => {
    const r = await rig();
    const pub = feed(r.registry, 'live/late', hd, 0, 4100);
    await until(() => r.progress.length >= 1, 5000, 'a segment');
    await Promise.all([r.recorder.close(), r.recorder.close()]);
    expect(r.ends).toHaveLength(1);
    expect(r.ends[0]!.end.status).toBe('complete');
    const playlist = join(r.root, r.ends[0]!.id, 'index.m3u8');
    expect(await readFile(playlist, 'utf8')).toContain('#EXT-X-ENDLIST');
    expect(await decodeErrors(playlist)).toBe('');
    // Nothing is recorded after close.
    pub.close();
    feed(r.registry, 'live/other', hd, 0, 2000);
    await sleep(50);
    expect(r.begun).toEqual(['live/late']);
  }, 30_000);

  it('records a path already live when it starts, and one recording per path', async () => {
    const registry = new StreamRegistry({ reconnectGraceMs: 5000 });
    const early = feed(registry, 'live/early', hd, 0, 100);
    const r = await rig({ registry });
    await until(() => r.begun.length === 1, 5000, 'begin');
    expect(r.begun).toEqual(['live/early']);
    for (const u of hd.units) if (u.dts >= 100) early.write(u);
    feed(registry, 'live/second', hd);
    registry.stop('live/early');
    registry.stop('live/second');
    await until(() => r.ends.length === 2, 10_000, 'two onEnd');
    expect(r.ends.map((e) => e.end.status)).toEqual(['complete', 'complete']);
    // The early one starts at its next keyframe (2 s in), the other has all of it.
    const segs = r.ends.map((e) => e.end.segments).sort();
    expect(segs).toEqual([2, 3]);
  }, 30_000);
});
