/**
 * For tests (not used in production): real encoder output as access units of the stream model.
 * ffmpeg encodes testsrc2 as baseline H.264 (no B-frames, an AUD NAL unit per frame so frames
 * split cleanly) and a 440 Hz sine as AAC (ADTS); the units come back with their tracks, on a
 * timeline starting at `startMs`, video and audio interleaved by time.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { splitAdts } from '../aac/adts.ts';
import { serializeAudioSpecificConfig } from '../aac/asc.ts';
import { NAL_AUD, NAL_IDR, NAL_PPS, NAL_SPS, nalType, splitAnnexB } from '../h264/nal.ts';
import { parseSps } from '../h264/sps.ts';
import { accessUnit, type AccessUnit, type AudioTrack, type VideoTrack } from '../../stream/types.ts';

const run = promisify(execFile);

/** An encoded clip as the stream model carries it. */
export interface TestClip {
  video: VideoTrack;
  audio: AudioTrack;
  /** Video and audio units by decode time. */
  units: AccessUnit[];
  videoFrames: number;
}

/** What to encode. */
export interface ClipOptions {
  /** Working dir for ffmpeg's output files. */
  dir: string;
  /** File name stem (several clips can share a dir). */
  name?: string;
  size?: string;
  seconds: number;
  fps?: number;
  /** Keyframe interval in frames (default 2 s). */
  gop?: number;
  /** Time of the first unit, ms. */
  startMs?: number;
}

/** Encodes a clip with ffmpeg and returns its access units. */
export async function encodeClip(o: ClipOptions): Promise<TestClip> {
  const size = o.size ?? '320x240';
  const fps = o.fps ?? 30;
  const name = o.name ?? size;
  const start = o.startMs ?? 0;
  const [h264, aac] = [join(o.dir, `${name}.h264`), join(o.dir, `${name}.aac`)];
  const t = String(o.seconds);
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', t, '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline'],
    ...['-bf', '0', '-g', String(o.gop ?? fps * 2), '-x264opts', 'aud=1', '-f', 'h264', h264],
    ...['-t', t, '-map', '1:a', '-c:a', 'aac', '-ac', '1', '-f', 'adts', aac],
  ]);
  const nals = splitAnnexB(await readFile(h264));
  const frames: Uint8Array[][] = [];
  for (const n of nals) {
    if (nalType(n) === NAL_AUD) frames.push([]);
    else frames.at(-1)?.push(n);
  }
  const sps = nals.find((n) => nalType(n) === NAL_SPS)!;
  const pps = nals.find((n) => nalType(n) === NAL_PPS)!;
  const info = parseSps(sps);
  const video: VideoTrack = {
    kind: 'video',
    codec: 'h264',
    sps,
    pps,
    width: info.width,
    height: info.height,
    profile: info.profile,
    constraints: info.constraints,
    level: info.level,
    clockRate: 90000,
  };
  const adts = splitAdts(await readFile(aac));
  const h = adts[0]!.header;
  const audio: AudioTrack = {
    kind: 'audio',
    codec: 'aac',
    sampleRate: h.sampleRate,
    channels: h.channelConfig,
    clockRate: h.sampleRate,
    config: serializeAudioSpecificConfig({
      objectType: h.objectType,
      sampleRate: h.sampleRate,
      channels: h.channelConfig,
    }),
  };
  const v = frames.map((f, i) => {
    const ts = start + (i * 1000) / fps;
    return accessUnit(
      'h264',
      ts,
      ts,
      f.some((n) => nalType(n) === NAL_IDR),
      f,
    );
  });
  const a = adts.map((f, i) => {
    const ts = start + (i * 1024 * 1000) / h.sampleRate;
    return accessUnit('aac', ts, ts, true, [Uint8Array.from(f.data)]);
  });
  return { video, audio, units: [...v, ...a].sort((x, y) => x.dts - y.dts), videoFrames: v.length };
}
