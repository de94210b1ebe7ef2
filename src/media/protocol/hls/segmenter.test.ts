/**
 * The segmenter round trip on real encoder output: ffmpeg encodes 7 s of H.264 (keyframe every
 * second, AUD NAL units marking frames) and AAC (ADTS); the access units go through the
 * segmenter, the segments and playlist are written to disk, and ffprobe/ffmpeg read them back:
 * the duration, the codecs and size, every segment starting at a keyframe, no decode error,
 * and a discontinuity where the timeline jumps.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessUnit, type AccessUnit, type AudioTrack, type VideoTrack } from '../../stream/types.ts';
import { H264Depacketizer } from '../rtp/h264-packetizer.ts';
import { depacketizeOpus } from '../rtp/opus.ts';
import { RtpPacket } from '../rtp/packet.ts';
import { RtspParser } from '../rtsp/message.ts';
import { parseSdp } from '../rtsp/sdp.ts';
import { clientBytes } from '../rtsp/testdata/captures.ts';
import { mediaPlaylist } from './playlist.ts';
import { encodeClip } from './test-clip.ts';
import { HlsSegmenter, type SegmenterOutput } from './segmenter.ts';

const run = promisify(execFile);
let dir = '';
let video: VideoTrack;
let audio: AudioTrack;
let units: AccessUnit[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airclass-hls-'));
  // 7 s, 30 fps, a keyframe every second.
  ({ video, audio, units } = await encodeClip({ dir, name: 'in', seconds: 7, gop: 30 }));
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the units through a segmenter and writes init, segments and the playlist to `sub`. */
function record(input: AccessUnit[], sub: string): { outputs: SegmenterOutput[]; playlist: string } {
  const seg = new HlsSegmenter({ video, audio }, { targetMs: 2000 });
  const outputs = [...input.flatMap((u) => seg.process(u)), ...seg.flush()];
  const segments: { uri: string; durationS: number; discontinuity: boolean }[] = [];
  for (const o of outputs) {
    if (o.type === 'init') writeFileSync(join(dir, `${sub}-init.mp4`), o.data);
    else {
      const uri = `${sub}-${o.sequence}.m4s`;
      writeFileSync(join(dir, uri), o.data);
      segments.push({ uri, durationS: o.durationMs / 1000, discontinuity: o.discontinuity });
    }
  }
  const playlist = join(dir, `${sub}.m3u8`);
  writeFileSync(playlist, mediaPlaylist({ mapUri: `${sub}-init.mp4`, segments, ended: true }));
  return { outputs, playlist };
}

describe('HLS segmenter (fMP4/CMAF)', () => {
  it('remuxes H.264 + AAC into keyframe-aligned 2 s segments that ffprobe and ffmpeg read back whole', async () => {
    const { outputs, playlist } = record(units, 'a');
    const segs = outputs.filter((o) => o.type === 'segment');
    expect(outputs[0]!.type).toBe('init');
    expect(segs.map((s) => Math.round(s.durationMs / 100) / 10)).toEqual([2, 2, 2, 1]);
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_format',
      '-show_streams',
      '-of',
      'json',
      playlist,
    ]);
    const probe = JSON.parse(stdout) as {
      format: { duration: string };
      streams: { codec_name: string; width?: number; height?: number; sample_rate?: string }[];
    };
    expect(Math.abs(Number(probe.format.duration) - 7)).toBeLessThan(0.2);
    expect(probe.streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 320, height: 240 });
    expect(probe.streams.find((s) => s.codec_name === 'aac')).toMatchObject({ sample_rate: '48000' });
    // Every frame decodes, and each segment starts with a keyframe.
    const decode = await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
    const frames = await run('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v',
      '-show_entries',
      'frame=pts_time,key_frame',
      '-of',
      'json',
      playlist,
    ]);
    const rows = (JSON.parse(frames.stdout) as { frames: { key_frame: number; pts_time: string }[] }).frames;
    // Every frame fed in comes out (the encoder wrote 7 s at 30 fps).
    const fed = units.filter((u) => u.codec === 'h264').length;
    expect(fed).toBeGreaterThanOrEqual(210);
    expect(rows.length).toBe(fed);
    const keys = rows.filter((r) => r.key_frame === 1).map((r) => Math.round(Number(r.pts_time)));
    expect(keys).toEqual(expect.arrayContaining([0, 2, 4, 6]));
  }, 60_000);

  it('marks a discontinuity where the timeline jumps and still plays both parts', async () => {
    // A publisher that dropped for 5 s and came back: the second half is shifted (from its keyframe).
    const cut = 3000;
    const shifted = units.map((u) =>
      u.dts >= cut ? accessUnit(u.codec, u.pts + 5000, u.dts + 5000, u.key, u.data) : u,
    );
    const { outputs, playlist } = record(shifted, 'b');
    const segs = outputs.filter((o) => o.type === 'segment');
    expect(segs.map((s) => s.discontinuity)).toEqual([false, false, true, false]);
    expect(readFileSync(playlist, 'utf8')).toContain('#EXT-X-DISCONTINUITY');
    const decode = await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
  }, 60_000);
});

describe('HLS segmenter with Opus (a WHIP or relayed source)', () => {
  it('writes H.264 + Opus that ffprobe reads as opus 48 kHz', async () => {
    // ffmpeg's own RTSP publish of H.264 + Opus, captured (src/media/protocol/rtsp/testdata).
    const items = new RtspParser({ maxBodyBytes: 1 << 20, maxInterleavedBytes: 65535 }).push(
      clientBytes('ffmpeg-h264-opus'),
    );
    const announce = items.find((i) => i.type === 'request' && i.request.method === 'ANNOUNCE');
    const tracks = parseSdp(
      Buffer.from(announce!.type === 'request' ? announce!.request.body : new Uint8Array()).toString(),
    );
    const v = tracks.find((t) => t.track.codec === 'h264')!.track as VideoTrack;
    const o = tracks.find((t) => t.track.codec === 'opus')!.track as AudioTrack;
    const h264 = new H264Depacketizer();
    const input: AccessUnit[] = [];
    let v0: number | undefined;
    let a0: number | undefined;
    for (const i of items) {
      if (i.type !== 'interleaved' || i.channel % 2 === 1) continue;
      const pkt = RtpPacket.parse(i.data);
      if (i.channel === 0) {
        for (const u of h264.process(pkt)) {
          v0 ??= u.timestamp;
          const t = ((u.timestamp - v0) >>> 0) / 90;
          input.push(accessUnit('h264', t, t, u.key, u.nalus));
        }
      } else {
        a0 ??= pkt.timestamp;
        const t = ((pkt.timestamp - a0) >>> 0) / 48;
        input.push(accessUnit('opus', t, t, true, [Uint8Array.from(depacketizeOpus(pkt.payload))]));
      }
    }
    input.sort((a, b) => a.dts - b.dts);
    const seg = new HlsSegmenter({ video: v, audio: o });
    const outputs = [...input.flatMap((u) => seg.process(u)), ...seg.flush()];
    const segments = outputs.filter((x) => x.type === 'segment');
    writeFileSync(join(dir, 'o-init.mp4'), outputs[0]!.data);
    segments.forEach((s) => writeFileSync(join(dir, `o-${s.sequence}.m4s`), s.data));
    const playlist = join(dir, 'o.m3u8');
    writeFileSync(
      playlist,
      mediaPlaylist({
        mapUri: 'o-init.mp4',
        segments: segments.map((s) => ({ uri: `o-${s.sequence}.m4s`, durationS: s.durationMs / 1000 })),
        ended: true,
      }),
    );
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', playlist]);
    const streams = (
      JSON.parse(stdout) as { streams: { codec_name: string; sample_rate?: string; width?: number }[] }
    ).streams;
    expect(streams.find((s) => s.codec_name === 'opus')).toMatchObject({ sample_rate: '48000' });
    expect(streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 1280 });
    const decode = await run('ffmpeg', ['-v', 'error', '-i', playlist, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
  }, 60_000);
});
