/**
 * Live HLS on real encoder output through a real StreamRegistry: ffmpeg encodes H.264
 * (keyframe every second) and AAC, a test publisher writes the access units, and the live
 * playlist is served from a small local HTTP server so ffprobe and ffmpeg read it as a player
 * would. Covered: the first playlist waits for the first segment, the sliding window, a track
 * change (new init, discontinuity), ENDLIST when the stream goes offline, the idle stop, and
 * 409 STREAM_NOT_LIVE.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import { encodeClip } from '../protocol/hls/test-clip.ts';
import { StreamRegistry, type Publisher } from '../stream/registry.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from '../stream/types.ts';
import { LiveHls, type LiveHlsOptions } from './live-hls.ts';

const run = promisify(execFile);
const PATH = 'live/hls-test';
let dir = '';

interface Clip {
  video: VideoTrack;
  audio: AudioTrack;
  units: AccessUnit[];
}
let clip: Clip;
let small: Clip;

/** `seconds` of test picture (keyframe every second) and tone on a timeline from `startMs`. */
const encode = (name: string, size: string, seconds: number, startMs: number): Promise<Clip> =>
  encodeClip({ dir, name, size, seconds, gop: 30, startMs });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airclass-live-hls-'));
  clip = await encode('clip', '320x240', 7, 0);
  small = await encode('small', '160x120', 3, 7000);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Everything a test made, closed after it.
let registry: StreamRegistry;
let hls: LiveHls;
let server: Server | undefined;
afterEach(async () => {
  hls?.close();
  registry?.close();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

function setup(opts: Partial<LiveHlsOptions> = {}): Publisher {
  registry = new StreamRegistry({ reconnectGraceMs: 60_000 });
  hls = new LiveHls({ registry, logger: createLogger({ level: 'silent' }), ...opts });
  const pub = registry.publish(PATH, { id: 'p1', protocol: 'test', remote: '127.0.0.1' });
  pub.setVideo(clip.video);
  pub.setAudio(clip.audio);
  return pub;
}

/** Writes units as a publisher would, letting the reader drain between small bursts. */
async function feed(pub: Publisher, units: AccessUnit[], fromMs: number, toMs: number): Promise<void> {
  let i = 0;
  for (const u of units) {
    if (u.dts < fromMs || u.dts >= toMs) continue;
    pub.write(u);
    if (++i % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
}

/** Serves the live HLS of PATH at http://127.0.0.1:<port>/index.m3u8 as the route does. */
async function serve(): Promise<string> {
  server = createServer((req, res) => {
    void (async () => {
      const file = new URL(req.url ?? '/', 'http://x').pathname.slice(1);
      const seg = /^seg-(\d+)\.m4s$/.exec(file);
      const init = /^init-(\d+)\.mp4$/.exec(file);
      let body: Uint8Array | string | undefined;
      if (file === 'index.m3u8') {
        const r = await hls.playlist(PATH, 'jwt=t0k');
        if (r.status === 200) body = r.body;
      } else if (seg) body = hls.segment(PATH, Number(seg[1]));
      else if (init) body = hls.init(PATH, Number(init[1]));
      res.writeHead(body === undefined ? 404 : 200).end(body);
    })();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.m3u8`;
}

/** The segment URIs of a playlist, in order. */
function uris(body: string): string[] {
  return body.split('\n').filter((l) => l && !l.startsWith('#'));
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('live HLS', () => {
  it('answers the first playlist once the first segment exists, live and sliding', async () => {
    const pub = setup({ window: 3 });
    await feed(pub, clip.units, 0, 500);
    let answered = false;
    const first = hls.playlist(PATH, 'jwt=abc').then((r) => ((answered = true), r));
    await feed(pub, clip.units, 500, 900);
    expect(answered).toBe(false); // half a GOP: no segment to list yet
    await feed(pub, clip.units, 900, 1200); // the keyframe at 1 s closes segment 1
    const r = await first;
    expect(r.status).toBe(200);
    const body = r.status === 200 ? r.body : '';
    expect(body).toContain('#EXT-X-MEDIA-SEQUENCE:1');
    expect(body).toContain('#EXT-X-MAP:URI="init-1.mp4?jwt=abc"');
    expect(body).not.toContain('#EXT-X-PLAYLIST-TYPE');
    expect(body).not.toContain('#EXT-X-ENDLIST');
    expect(uris(body)).toEqual(['seg-1.m4s?jwt=abc']);
    expect(hls.active()).toEqual([PATH]);

    // Five more seconds: the playlist lists the last three segments only.
    await feed(pub, clip.units, 1200, 7000);
    const later = await hls.playlist(PATH);
    const text = later.status === 200 ? later.body : '';
    expect(uris(text)).toEqual(['seg-4.m4s', 'seg-5.m4s', 'seg-6.m4s']);
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:4');
    expect(text).toMatch(/#EXTINF:1\.0\d\d,/);
    expect(hls.segment(PATH, 6)).toBeInstanceOf(Uint8Array);
    expect(hls.segment(PATH, 1)).toBeUndefined(); // left the window and its grace: freed
    // One reader for the path, however many ask.
    await hls.playlist(PATH);
    expect(registry.get(PATH)!.readers.size).toBe(1);
  }, 30_000);

  it('serves a live playlist ffprobe reads, then ENDLIST when the stream goes offline', async () => {
    const pub = setup({ window: 4 });
    const url = await serve();
    const asked = hls.playlist(PATH); // a student's first ask starts the segmenter
    await feed(pub, clip.units, 0, 4500);
    expect((await asked).status).toBe(200);
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', url]);
    const streams = (
      JSON.parse(stdout) as { streams: { codec_name: string; width?: number; sample_rate?: string }[] }
    ).streams;
    expect(streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 320 });
    expect(streams.find((s) => s.codec_name === 'aac')).toMatchObject({ sample_rate: '48000' });

    await feed(pub, clip.units, 4500, 7000);
    registry.stop(PATH); // the lesson ended: the open segment closes, the playlist ends
    expect(hls.active()).toEqual([]);
    const r = await hls.playlist(PATH);
    const body = r.status === 200 ? r.body : '';
    expect(body.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(uris(body)).toEqual(['seg-4.m4s', 'seg-5.m4s', 'seg-6.m4s', 'seg-7.m4s']);
    expect(registry.get(PATH)!.readers.size).toBe(0);
    // A player reads the whole ended window and decodes every frame of it.
    const decode = await run('ffmpeg', ['-v', 'error', '-i', url, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
    const probe = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'json',
      url,
    ]);
    const duration = Number((JSON.parse(probe.stdout) as { format: { duration: string } }).format.duration);
    expect(Math.abs(duration - 4)).toBeLessThan(0.2);
  }, 60_000);

  it('starts a new init segment after a discontinuity when the tracks change', async () => {
    const pub = setup({ window: 10 });
    const url = await serve();
    const asked = hls.playlist(PATH);
    await feed(pub, clip.units, 0, 1200);
    expect((await asked).status).toBe(200);
    await feed(pub, clip.units, 1200, 7000);
    // The teacher's encoder restarts at another size.
    pub.setVideo(small.video);
    pub.setAudio(small.audio);
    await feed(pub, small.units, 7000, 10_000);
    registry.stop(PATH);
    const r = await hls.playlist(PATH);
    const body = r.status === 200 ? r.body : '';
    const lines = body.split('\n');
    const disc = lines.indexOf('#EXT-X-DISCONTINUITY');
    expect(disc).toBeGreaterThan(0);
    expect(lines[disc + 1]).toBe('#EXT-X-MAP:URI="init-2.mp4"');
    expect(hls.init(PATH, 1)).toBeInstanceOf(Uint8Array);
    expect(hls.init(PATH, 2)).toBeInstanceOf(Uint8Array);
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=width', '-of', 'csv=p=0', url],
    ]);
    const widths = new Set(
      stdout
        .split('\n')
        .map((l) => parseInt(l, 10))
        .filter((w) => w > 0),
    );
    expect([...widths].sort((a, b) => a - b)).toEqual([160, 320]);
  }, 60_000);

  it('stops a path nobody asks for, and frees it', async () => {
    const pub = setup({ idleMs: 300 });
    const first = hls.playlist(PATH);
    await feed(pub, clip.units, 0, 2200);
    expect((await first).status).toBe(200);
    expect(registry.get(PATH)!.readers.size).toBe(1);
    await until(() => hls.active().length === 0, 'the idle stop');
    expect(registry.get(PATH)!.readers.size).toBe(0);
    expect(hls.segment(PATH, 1)).toBeUndefined();
    expect(hls.init(PATH)).toBeUndefined();
    // Asked again, it starts again, with URIs never used before (a cached seg-1 stays true).
    const asked = hls.playlist(PATH);
    await feed(pub, clip.units, 2200, 4200);
    const again = await asked;
    const body = again.status === 200 ? again.body : '';
    expect(uris(body)[0]).not.toBe('seg-1.m4s');
    expect(body).not.toContain('init-1.mp4');
  }, 30_000);

  it('answers 409 STREAM_NOT_LIVE when nothing is published, or no segment comes', async () => {
    const pub = setup({ readyMs: 300 });
    expect(await hls.playlist('live/nobody')).toEqual({ status: 409, code: 'STREAM_NOT_LIVE' });
    // Live, but the encoder sends nothing: no segment in time.
    expect(await hls.playlist(PATH)).toEqual({ status: 409, code: 'STREAM_NOT_LIVE' });
    pub.close();
    registry.stop(PATH);
    expect(await hls.playlist(PATH)).toEqual({ status: 409, code: 'STREAM_NOT_LIVE' });
    expect(hls.active()).toEqual([]);
  }, 30_000);
});
