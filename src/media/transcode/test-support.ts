/**
 * Test support for the transcoder tests (not used by the server): real AAC made by ffmpeg,
 * real-time playback into a publisher, an Ogg Opus writer so ffmpeg can measure what came
 * out, and a logger that keeps its lines.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { splitAdts } from '../protocol/aac/adts.ts';
import { serializeAudioSpecificConfig } from '../protocol/aac/asc.ts';
import type { Publisher } from '../stream/registry.ts';
import { accessUnit, type AccessUnit, type AudioTrack } from '../stream/types.ts';

/** AAC frames of a sine, encoded by ffmpeg and split with our ADTS splitter. */
export interface AacClip {
  frames: Uint8Array[];
  track: AudioTrack;
  /** Duration of one frame, ms. */
  frameMs: number;
}

function ffmpeg(args: string[], bin = 'ffmpeg'): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) =>
    execFile(bin, ['-hide_banner', '-nostdin', ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    ),
  );
}

/** Encodes `seconds` of a 440 Hz sine to AAC LC with ffmpeg and splits it into frames. */
export async function makeAac(seconds: number, sampleRate = 48000, channels = 2): Promise<AacClip> {
  const dir = await mkdtemp(join(tmpdir(), 'airclass-aac-'));
  try {
    const file = join(dir, 'sine.aac');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`, '-t', String(seconds)],
      ...['-ac', String(channels), '-c:a', 'aac', '-b:a', '128k', '-f', 'adts', file],
    ]);
    const frames = splitAdts(await readFile(file)).map((f) => f.data);
    const config = serializeAudioSpecificConfig({ objectType: 2, sampleRate, channels });
    const track: AudioTrack = {
      kind: 'audio',
      codec: 'aac',
      sampleRate,
      channels,
      config,
      clockRate: sampleRate,
    };
    return { frames, track, frameMs: (1024 * 1000) / sampleRate };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Writes frames [from, from + count) to the publisher in real time, pts in whole ms as RTMP
 * carries them, starting at `pts0` for frame 0. `mutate` may replace a frame (bad input).
 */
export async function play(
  pub: Publisher,
  clip: AacClip,
  opts: {
    from?: number;
    count?: number;
    pts0?: number;
    mutate?: (k: number, f: Uint8Array) => Uint8Array;
  } = {},
): Promise<void> {
  const from = opts.from ?? 0;
  const end = Math.min(clip.frames.length, from + (opts.count ?? clip.frames.length));
  const start = performance.now();
  for (let k = from; k < end; k++) {
    const due = start + (k - from) * clip.frameMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const frame = opts.mutate ? opts.mutate(k, clip.frames[k]!) : clip.frames[k]!;
    const pts = Math.round((opts.pts0 ?? 0) + k * clip.frameMs);
    pub.write(accessUnit('aac', pts, pts, true, [frame]));
  }
}

/** Collects the Opus access units of a publisher's stream. */
export function collectOpus(pub: Publisher): AccessUnit[] {
  const got: AccessUnit[] = [];
  pub.stream.addReader({ codecs: new Set(['opus']), label: 'test' }, (au) => void got.push(au), false);
  return got;
}

/** Decodes Opus packets with ffmpeg (via Ogg) and returns volumedetect's mean and max, dB. */
export async function opusVolume(packets: Uint8Array[]): Promise<{ mean: number; max: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'airclass-opus-'));
  try {
    const file = join(dir, 'out.opus');
    await writeFile(file, oggOpus(packets));
    const { stderr } = await ffmpeg(['-i', file, '-af', 'volumedetect', '-f', 'null', '-']);
    const mean = /mean_volume: (-?[\d.]+|-inf) dB/.exec(stderr)?.[1];
    const max = /max_volume: (-?[\d.]+|-inf) dB/.exec(stderr)?.[1];
    return {
      mean: Number(mean === '-inf' ? -Infinity : mean),
      max: Number(max === '-inf' ? -Infinity : max),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A minimal Ogg Opus file (RFC 7845): OpusHead, OpusTags, one packet per page (20 ms each). */
export function oggOpus(packets: Uint8Array[], preSkip = 120): Uint8Array {
  const head = Buffer.alloc(19);
  head.write('OpusHead');
  head[8] = 1;
  head[9] = 2;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48000, 12);
  const tags = Buffer.concat([
    Buffer.from('OpusTags'),
    Buffer.from([4, 0, 0, 0]),
    Buffer.from('test'),
    Buffer.alloc(4),
  ]);
  const pages = [oggPage(head, 0, 0, 2), oggPage(tags, 0, 1, 0)];
  let granule = preSkip;
  packets.forEach((p, i) => {
    granule += 960;
    pages.push(oggPage(p, granule, i + 2, i === packets.length - 1 ? 4 : 0));
  });
  return Buffer.concat(pages);
}

function oggPage(packet: Uint8Array, granule: number, seq: number, flags: number): Buffer {
  const lacing: number[] = [];
  for (let left = packet.length; ; left -= 255) {
    lacing.push(Math.min(left, 255));
    if (left < 255) break;
  }
  const h = Buffer.alloc(27 + lacing.length);
  h.write('OggS');
  h[5] = flags;
  h.writeBigInt64LE(BigInt(granule), 6);
  h.writeUInt32LE(0x41c, 14);
  h.writeUInt32LE(seq, 18);
  h[26] = lacing.length;
  lacing.forEach((l, i) => (h[27 + i] = l));
  const page = Buffer.concat([h, packet]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

function oggCrc(b: Uint8Array): number {
  let crc = 0;
  for (const byte of b) {
    crc ^= byte << 24;
    for (let i = 0; i < 8; i++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** A pino logger that keeps parsed lines in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug', base: undefined },
    { write: (s: string) => void lines.push(JSON.parse(s)) },
  );
  return { logger, lines };
}

/** Waits until `cond()` holds (polling), or throws after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** True while a process with that pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
