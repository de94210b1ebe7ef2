import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import type { AudioTrack } from '../../stream/types.ts';
import { parseAudioSpecificConfig } from '../aac/asc.ts';
import { toAdts } from '../aac/adts.ts';
import { RtspParser } from '../rtsp/message.ts';
import { parseSdp } from '../rtsp/sdp.ts';
import { clientBytes } from '../rtsp/testdata/captures.ts';
import { AacDepacketizer, packetizeAac, type AacFrame, type AacRtpInput } from './aac.ts';
import { RtpPacket } from './packet.ts';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

function expectBadMedia(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isAirError(e, 'BAD_MEDIA'), String(e)).toBe(true);
    return;
  }
  throw new Error('expected BAD_MEDIA');
}

/** Numbers payloads as consecutive RTP packets; each packet carries `framesPer` × 1024 ticks. */
function number(
  payloads: readonly { payload: Uint8Array; marker: boolean }[],
  seq = 65530,
  ts = 1000,
): AacRtpInput[] {
  return payloads.map((p) => ({ ...p, sequenceNumber: seq++ & 0xffff, timestamp: ts }));
}

function frames(sizes: readonly number[], seed = 1): Uint8Array[] {
  const r = prng(seed);
  return sizes.map((n) => Uint8Array.from({ length: n }, () => r(256)));
}

describe('AAC RTP captured from ffmpeg (RTSP publish, AAC-hbr)', () => {
  const items = new RtspParser().push(clientBytes('ffmpeg-h264-aac'));
  const announce = items.find((i) => i.type === 'request' && i.request.method === 'ANNOUNCE');
  const sdp = announce?.type === 'request' ? new TextDecoder().decode(announce.request.body) : '';
  const config = (parseSdp(sdp)[1]!.track as AudioTrack).config!;
  const pkts = items.flatMap((i) =>
    i.type === 'interleaved' && i.channel === 2 ? [RtpPacket.parse(i.data)] : [],
  );
  const d = new AacDepacketizer();
  const out = pkts.flatMap((p) => d.process(p));

  it('gives about 1 s of frames at 48 kHz, 1024 ticks apart, several per packet', () => {
    // ffmpeg aggregates up to its max delay: 6 packets for 1 s; the tail still in its buffer at
    // TEARDOWN is not sent, so a little under 48000 / 1024 ≈ 47 frames arrive.
    expect(pkts.length).toBe(6);
    expect(out.length).toBeGreaterThanOrEqual(40);
    expect(out.length).toBeLessThanOrEqual(48);
    expect(out.length).toBeGreaterThan(pkts.length);
    for (let i = 1; i < out.length; i++) expect((out[i]!.timestamp - out[i - 1]!.timestamp) >>> 0).toBe(1024);
    expect(out[0]!.timestamp).toBe(pkts[0]!.timestamp);
    expect(pkts.every((p) => p.marker)).toBe(true);
  });

  it('gives frames ffmpeg decodes without error', () => {
    const asc = parseAudioSpecificConfig(config);
    const adts = Buffer.concat(out.map((f) => toAdts(f.frame, asc)));
    const probe = spawnSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-f',
        'aac',
        '-count_frames',
        '-show_entries',
        'stream=nb_read_frames,sample_rate',
        '-of',
        'csv=p=0',
        '-',
      ],
      { input: adts },
    );
    expect(probe.stderr.toString()).toBe('');
    expect(probe.stdout.toString().trim()).toBe(`48000,${out.length}`);
  });

  it('packetizes the frames back into the same payloads when grouped as ffmpeg did', () => {
    let k = 0;
    for (const p of pkts) {
      const n = ((p.payload[0]! << 8) | p.payload[1]!) / 16;
      const [again] = packetizeAac(
        out.slice(k, k + n).map((f) => f.frame),
        1500,
      );
      expect(Buffer.compare(again!.payload, p.payload)).toBe(0);
      k += n;
    }
    expect(k).toBe(out.length);
  });
});

describe('packetizeAac → AacDepacketizer', () => {
  const check = (input: Uint8Array[], got: AacFrame[], ts = 1000): void => {
    expect(got.map((f) => Buffer.from(f.frame).toString('hex'))).toEqual(
      input.map((f) => Buffer.from(f).toString('hex')),
    );
    got.forEach((f, i) => expect(f.timestamp).toBe(ts + 1024 * i));
  };

  it('aggregates frames that fit, with the marker on every packet', () => {
    const input = frames([300, 280, 310, 290, 305]);
    const pkts = packetizeAac(input, 1200);
    expect(pkts.map((p) => p.payload.length)).toEqual([2 + 8 + 1180, 2 + 2 + 305]);
    expect(pkts.every((p) => p.marker)).toBe(true);
    const d = new AacDepacketizer();
    const [a, b] = number(pkts);
    const got = [...d.process(a!), ...d.process({ ...b!, timestamp: 1000 + 4 * 1024 })];
    check(input, got);
  });

  it('fragments a frame larger than the mtu, marker on its last fragment only', () => {
    const input = frames([100, 2500, 100]);
    const pkts = packetizeAac(input, 1000);
    expect(pkts.map((p) => [p.payload.length, p.marker])).toEqual([
      [104, true],
      [1000, false],
      [1000, false],
      [4 + 2500 - 2 * 996, true],
      [104, true],
    ]);
    // Each fragment repeats the AU-header with the full size.
    for (const p of pkts.slice(1, 4)) expect(((p.payload[2]! << 8) | p.payload[3]!) >> 3).toBe(2500);
    const d = new AacDepacketizer();
    const numbered = number(pkts).map((p, i) => ({ ...p, timestamp: 1000 + 1024 * [0, 1, 1, 1, 2][i]! }));
    const got = numbered.flatMap((p) => d.process(p));
    check(input, got);
    expect(got[1]!.frame.buffer).not.toBe(numbered[1]!.payload.buffer);
  });

  it('drops a fragmented frame when a fragment is lost, and resumes with the next frame', () => {
    const input = frames([100, 2500, 100, 2500, 100]);
    const pkts = number(packetizeAac(input, 1000)).map((p, i) => ({
      ...p,
      timestamp: 1000 + 1024 * [0, 1, 1, 1, 2, 3, 3, 3, 4][i]!,
    }));
    const lose = (skip: number[]): AacFrame[] => {
      const d = new AacDepacketizer();
      const got = pkts.filter((_, i) => !skip.includes(i)).flatMap((p) => d.process(p));
      expect(d.droppedFrames).toBeGreaterThan(0);
      return got;
    };
    // Lost middle fragment of frame 1; lost first fragment of frame 3; lost last fragment of 1.
    expect(lose([2]).map((f) => f.timestamp)).toEqual([1000, 1000 + 2048, 1000 + 3072, 1000 + 4096]);
    expect(lose([5]).map((f) => f.timestamp)).toEqual([1000, 1000 + 1024, 1000 + 2048, 1000 + 4096]);
    expect(lose([3]).map((f) => f.timestamp)).toEqual([1000, 1000 + 2048, 1000 + 3072, 1000 + 4096]);
    // Duplicates are ignored.
    const d = new AacDepacketizer();
    const twice = pkts.flatMap((p) => [p, p]).flatMap((p) => d.process(p));
    expect(twice.length).toBe(5);
  });

  it('reads AU indices when computing timestamps, and refuses frames it cannot carry', () => {
    // Two AUs with AU-Index 0 and AU-Index-delta 1 (a serial gap of one frame).
    const payload = Uint8Array.of(0, 32, 0, 8, 0, 9, 0xaa, 0xbb);
    const got = new AacDepacketizer({ samplesPerFrame: 960 }).process({
      payload,
      marker: true,
      sequenceNumber: 1,
      timestamp: 0,
    });
    expect(got.map((f) => [f.timestamp, [...f.frame]])).toEqual([
      [0, [0xaa]],
      [1920, [0xbb]],
    ]);
    expectBadMedia(() => packetizeAac([new Uint8Array(8192)]));
    expectBadMedia(() => packetizeAac([new Uint8Array(0)]));
    expectBadMedia(() => packetizeAac([new Uint8Array(10)], 8));
  });

  it('throws BAD_MEDIA on malformed payloads and recovers after', () => {
    const d = new AacDepacketizer();
    let seq = 0;
    const feed = (payload: number[], marker = true): AacFrame[] =>
      d.process({ payload: Uint8Array.from(payload), marker, sequenceNumber: seq++, timestamp: seq * 1024 });
    expectBadMedia(() => feed([0, 16]));
    expectBadMedia(() => feed([0, 12, 0, 8, 1]));
    expectBadMedia(() => feed([0, 48, 0, 8, 0, 8, 1, 2]));
    expectBadMedia(() => feed([0, 32, 0, 16, 0, 16, 1, 2, 3]));
    expectBadMedia(() => feed([0, 16, 0, 0, 1]));
    // A fragment start, then a last fragment (same timestamp) that leaves it short.
    const start = {
      payload: Uint8Array.of(0, 16, 0, 80, 1, 2, 3),
      marker: false,
      sequenceNumber: seq,
      timestamp: 7,
    };
    expect(d.process(start)).toEqual([]);
    expectBadMedia(() =>
      d.process({ ...start, payload: Uint8Array.of(0, 16, 0, 80, 4), marker: true, sequenceNumber: seq + 1 }),
    );
    seq += 2;
    expect(feed([0, 16, 0, 8, 7]).map((f) => [...f.frame])).toEqual([[7]]);
  });
});
