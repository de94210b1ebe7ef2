import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GenericNack,
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RtcpPacketConverter,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
} from 'werift';
import {
  isRtcp,
  ntpMiddle,
  ntpOf,
  parseRtcp,
  serializeFeedback,
  writeSenderReport,
  type RtcpPacket,
} from './rtcp.ts';

/**
 * RTCP on real bytes: the sender reports ffmpeg's RTP muxer writes (a fixture captured by
 * fixtures/capture.ts, and one captured live), the feedback a werift peer writes, and our own
 * sender reports read back by werift's parser.
 */

const NTP_UNIX = 2_208_988_800;

/** The datagrams of fixtures/ffmpeg-rtcp-sr.bin (each prefixed by its u16 length). */
function ffmpegDatagrams(): Buffer[] {
  const all = readFileSync(new URL('./fixtures/ffmpeg-rtcp-sr.bin', import.meta.url));
  const out: Buffer[] = [];
  for (let o = 0; o < all.length;) {
    const n = all.readUInt16BE(o);
    out.push(all.subarray(o + 2, o + 2 + n));
    o += 2 + n;
  }
  return out;
}

type Sr = Extract<RtcpPacket, { type: 'sr' }>;
const ntpSeconds = (p: Sr): number => p.ntpSec + p.ntpFrac / 2 ** 32;

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function bind(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  return s;
}

describe('parseRtcp on what ffmpeg sends', () => {
  it("reads ffmpeg's compound SR + SDES (+ BYE) datagrams, with consistent NTP and RTP times", () => {
    const grams = ffmpegDatagrams();
    expect(grams.length).toBeGreaterThanOrEqual(3);
    const srs: Sr[] = [];
    for (const [i, g] of grams.entries()) {
      expect(isRtcp(g)).toBe(true);
      const ps = parseRtcp(g);
      const last = i === grams.length - 1;
      // SR, SDES (pt 202, one chunk) and, in the last datagram, BYE (pt 203, one source).
      expect(ps.map((p) => p.type)).toEqual(last ? ['sr', 'other', 'other'] : ['sr', 'other']);
      expect(ps[1]).toEqual({ type: 'other', pt: 202, fmt: 1 });
      if (last) expect(ps[2]).toEqual({ type: 'other', pt: 203, fmt: 1 });
      const sr = ps[0] as Sr;
      expect(sr.reports).toEqual([]);
      srs.push(sr);
    }
    expect(new Set(srs.map((s) => s.ssrc)).size).toBe(1);
    // Captured 2026: the NTP seconds are a date after 2024 (before the 2036 era wrap).
    expect(srs[0]!.ntpSec - NTP_UNIX).toBeGreaterThan(Date.UTC(2024, 0, 1) / 1000);
    for (let i = 1; i < srs.length; i++) {
      const a = srs[i - 1]!;
      const b = srs[i]!;
      const wall = ntpSeconds(b) - ntpSeconds(a);
      const media = ((b.rtpTimestamp - a.rtpTimestamp) >>> 0) / 48_000;
      expect(wall).toBeGreaterThan(0);
      // RTP (48 kHz Opus) and NTP advance together: the fields are read at the right offsets.
      expect(Math.abs(wall - media)).toBeLessThan(0.1);
      expect(b.packetCount).toBeGreaterThan(a.packetCount);
      expect(b.octetCount).toBeGreaterThan(a.octetCount);
      // 20 ms Opus packets: 50 a second.
      expect((b.packetCount - a.packetCount) / media).toBeCloseTo(50, -1);
    }
  });

  it('reads the first sender report of a live ffmpeg RTP muxer, its NTP time close to now', async () => {
    const rtp = await bind();
    const rtcp = await bind();
    const got = new Promise<Buffer>((resolve) => rtcp.once('message', (m) => resolve(m)));
    const ff = spawn(
      '/usr/bin/ffmpeg',
      // prettier-ignore
      ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=20',
        '-c:a', 'libopus', '-f', 'rtp',
        `rtp://127.0.0.1:${rtp.address().port}?rtcpport=${rtcp.address().port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    ff.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const exited = new Promise<never>((_, reject) =>
        ff.once('exit', (c) => reject(new Error(`ffmpeg exited (${c}): ${stderr}`))),
      );
      const gram = await Promise.race([got, exited]);
      const before = Date.now();
      const [sr] = parseRtcp(gram);
      expect(sr?.type).toBe('sr');
      const s = sr as Sr;
      const ntpNow = ntpOf(before);
      // ffmpeg stamps the report with the wall clock: seconds away at most.
      expect(Math.abs(ntpSeconds(s) - (ntpNow.sec + ntpNow.frac / 2 ** 32))).toBeLessThan(5);
    } finally {
      ff.kill('SIGKILL');
    }
  });
});

describe('parseRtcp on what a werift peer writes', () => {
  it('reads a receiver report with its blocks', () => {
    const rr = new RtcpRrPacket({
      ssrc: 0xdeadbeef,
      reports: [
        new RtcpReceiverInfo({
          ssrc: 0x11111111,
          fractionLost: 26,
          packetsLost: 1234,
          highestSequence: 0x0001_fffe,
          jitter: 377,
          lsr: 0x9abc_def0,
          dlsr: 65536 * 2,
        }),
        new RtcpReceiverInfo({
          ssrc: 0x22222222,
          fractionLost: 0,
          packetsLost: 0,
          highestSequence: 7,
          jitter: 0,
          lsr: 0,
          dlsr: 0,
        }),
      ],
    }).serialize();
    expect(isRtcp(rr)).toBe(true);
    expect(parseRtcp(rr)).toEqual([
      {
        type: 'rr',
        ssrc: 0xdeadbeef,
        reports: [
          {
            ssrc: 0x11111111,
            fractionLost: 26,
            packetsLost: 1234,
            highestSeq: 0x0001_fffe,
            jitter: 377,
            lsr: 0x9abc_def0,
            dlsr: 131072,
          },
          { ssrc: 0x22222222, fractionLost: 0, packetsLost: 0, highestSeq: 7, jitter: 0, lsr: 0, dlsr: 0 },
        ],
      },
    ]);
  });

  it('reads a generic NACK, across the sequence wrap', () => {
    const lost = [100, 101, 105, 116, 117, 200, 65533, 65535, 0, 2, 14];
    const nack = new RtcpTransportLayerFeedback({
      feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: 0xcafebabe, lost }),
    }).serialize();
    const [p] = parseRtcp(nack);
    expect(p).toMatchObject({ type: 'nack', ssrc: 1, mediaSsrc: 0xcafebabe });
    expect([...(p as Extract<RtcpPacket, { type: 'nack' }>).lost].sort((a, b) => a - b)).toEqual(
      [...lost].sort((a, b) => a - b),
    );
  });

  it('reads a PLI and a REMB', () => {
    const pli = new RtcpPayloadSpecificFeedback({
      feedback: new PictureLossIndication({ senderSsrc: 7, mediaSsrc: 0x01020304 }),
    }).serialize();
    expect(parseRtcp(pli)).toEqual([{ type: 'pli', ssrc: 7, mediaSsrc: 0x01020304 }]);

    // 2 500 000 bit/s: mantissa 156250 (18 bits), exponent 4.
    const remb = new RtcpPayloadSpecificFeedback({
      feedback: new ReceiverEstimatedMaxBitrate({
        senderSsrc: 9,
        mediaSsrc: 0,
        brExp: 4,
        brMantissa: 156_250,
        ssrcNum: 2,
        ssrcFeedbacks: [0xaaaa0001, 0xaaaa0002],
      }),
    }).serialize();
    expect(parseRtcp(remb)).toEqual([
      { type: 'remb', ssrc: 9, bitrate: 2_500_000, ssrcs: [0xaaaa0001, 0xaaaa0002] },
    ]);
  });

  it('reads a compound datagram (RR, REMB, NACK, PLI) in order', () => {
    const parts = [
      new RtcpRrPacket({
        ssrc: 5,
        reports: [new RtcpReceiverInfo({ ssrc: 6, highestSequence: 9 })],
      }).serialize(),
      new RtcpPayloadSpecificFeedback({
        feedback: new ReceiverEstimatedMaxBitrate({
          senderSsrc: 5,
          mediaSsrc: 0,
          brExp: 0,
          brMantissa: 200_000,
          ssrcNum: 1,
          ssrcFeedbacks: [6],
        }),
      }).serialize(),
      new RtcpTransportLayerFeedback({
        feedback: new GenericNack({ senderSsrc: 5, mediaSourceSsrc: 6, lost: [42] }),
      }).serialize(),
      new RtcpPayloadSpecificFeedback({
        feedback: new PictureLossIndication({ senderSsrc: 5, mediaSsrc: 6 }),
      }).serialize(),
    ];
    const ps = parseRtcp(Buffer.concat(parts));
    expect(ps.map((p) => p.type)).toEqual(['rr', 'remb', 'nack', 'pli']);
    expect(ps[1]).toMatchObject({ bitrate: 200_000, ssrcs: [6] });
    expect(ps[2]).toMatchObject({ lost: [42] });
  });
});

describe('serializeFeedback → parseRtcp', () => {
  it('round-trips a receiver report, negative cumulative loss included', () => {
    const rr = {
      type: 'rr' as const,
      ssrc: 0xffffffff,
      reports: [
        {
          ssrc: 1,
          fractionLost: 255,
          packetsLost: -1,
          highestSeq: 0xffffffff,
          jitter: 12,
          lsr: 0x80000000,
          dlsr: 3,
        },
        { ssrc: 2, fractionLost: 1, packetsLost: 0x7fffff, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 },
        { ssrc: 3, fractionLost: 0, packetsLost: -0x800000, highestSeq: 1, jitter: 1, lsr: 1, dlsr: 1 },
      ],
    };
    expect(parseRtcp(serializeFeedback(rr))).toEqual([rr]);
    // werift's parser reads the same blocks.
    const [w] = RtcpPacketConverter.deSerialize(Buffer.from(serializeFeedback(rr)));
    expect(w).toBeInstanceOf(RtcpRrPacket);
    expect((w as RtcpRrPacket).reports.map((r) => [r.ssrc, r.fractionLost, r.highestSequence])).toEqual([
      [1, 255, 0xffffffff],
      [2, 1, 0],
      [3, 0, 1],
    ]);
  });

  it('round-trips NACKs of any shape (duplicates, spread, unsorted, across 65535 → 0)', () => {
    const cases = [
      [0],
      [65535],
      [65535, 0, 1, 15],
      [65520, 65535, 0, 14],
      [7, 7, 7],
      [300, 100, 200, 101, 301],
      Array.from({ length: 40 }, (_, i) => (65530 + i * 3) & 0xffff),
    ];
    let seed = 1;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (let i = 0; i < 200; i++) {
      const base = Math.floor(rand() * 65536);
      cases.push(
        Array.from({ length: 1 + Math.floor(rand() * 30) }, () => (base + Math.floor(rand() * 60)) & 0xffff),
      );
    }
    for (const lost of cases) {
      const bytes = serializeFeedback({ type: 'nack', ssrc: 11, mediaSsrc: 12, lost });
      const [p] = parseRtcp(bytes);
      expect(p).toMatchObject({ type: 'nack', ssrc: 11, mediaSsrc: 12 });
      const got = (p as Extract<RtcpPacket, { type: 'nack' }>).lost;
      expect(got.length).toBe(new Set(got).size);
      expect(new Set(got)).toEqual(new Set(lost));
    }
  });

  it('round-trips a PLI and REMBs (exact when the mantissa fits, else rounded down by < 2^-17)', () => {
    const pli = { type: 'pli' as const, ssrc: 1, mediaSsrc: 2 };
    expect(parseRtcp(serializeFeedback(pli))).toEqual([pli]);
    const [wp] = RtcpPacketConverter.deSerialize(Buffer.from(serializeFeedback(pli)));
    expect((wp as RtcpPayloadSpecificFeedback).feedback).toBeInstanceOf(PictureLossIndication);

    for (const bitrate of [0, 1, 262_143, 300_000, 2_500_000, 30_000_000, 1e12]) {
      const remb = { type: 'remb' as const, ssrc: 3, bitrate, ssrcs: [4, 5] };
      const bytes = serializeFeedback(remb);
      const [p] = parseRtcp(bytes);
      const got = (p as Extract<RtcpPacket, { type: 'remb' }>).bitrate;
      expect(p).toMatchObject({ type: 'remb', ssrc: 3, ssrcs: [4, 5] });
      expect(got).toBeLessThanOrEqual(bitrate);
      expect(bitrate - got).toBeLessThanOrEqual(bitrate / 2 ** 17);
      if (bitrate < 2 ** 18) expect(got).toBe(bitrate);
      // werift reads the same figure.
      const [w] = RtcpPacketConverter.deSerialize(Buffer.from(bytes));
      const fb = (w as RtcpPayloadSpecificFeedback).feedback as ReceiverEstimatedMaxBitrate;
      expect(Number(fb.bitrate)).toBe(got);
      expect(fb.ssrcFeedbacks).toEqual([4, 5]);
    }
  });

  it("writes NACKs werift's parser reads", () => {
    const lost = [10, 11, 12, 40, 41];
    const [w] = RtcpPacketConverter.deSerialize(
      Buffer.from(serializeFeedback({ type: 'nack', ssrc: 1, mediaSsrc: 2, lost })),
    );
    const fb = (w as RtcpTransportLayerFeedback).feedback as GenericNack;
    expect(fb.mediaSourceSsrc).toBe(2);
    expect(fb.lost).toEqual(lost);
  });
});

describe('NACK bitmask expansion (RFC 4585 §6.2.1)', () => {
  /** A generic NACK with the given (pid, blp) entries. */
  function nack(entries: [number, number][]): Uint8Array {
    const b = Buffer.alloc(12 + 4 * entries.length);
    b[0] = 0x81;
    b[1] = 205;
    b.writeUInt16BE(2 + entries.length, 2);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE(2, 8);
    entries.forEach(([pid, blp], i) => {
      b.writeUInt16BE(pid, 12 + 4 * i);
      b.writeUInt16BE(blp, 14 + 4 * i);
    });
    return b;
  }
  const lostOf = (b: Uint8Array): number[] => (parseRtcp(b)[0] as Extract<RtcpPacket, { type: 'nack' }>).lost;

  it('lists the pid, then pid + i + 1 for each bit i of blp', () => {
    expect(lostOf(nack([[1000, 0]]))).toEqual([1000]);
    expect(lostOf(nack([[1000, 0b1]]))).toEqual([1000, 1001]);
    expect(lostOf(nack([[1000, 0b1000_0000_0010_0100]]))).toEqual([1000, 1003, 1006, 1016]);
    expect(lostOf(nack([[1000, 0xffff]]))).toEqual(Array.from({ length: 17 }, (_, i) => 1000 + i));
    expect(
      lostOf(
        nack([
          [5, 1],
          [50, 0x8000],
        ]),
      ),
    ).toEqual([5, 6, 50, 66]);
  });

  it('wraps at 65535', () => {
    expect(lostOf(nack([[65535, 0b11]]))).toEqual([65535, 0, 1]);
    expect(lostOf(nack([[65530, 0b1000_0000_0010_0001]]))).toEqual([65530, 65531, 0, 10]);
    expect(lostOf(nack([[65535, 0xffff]]))).toEqual([65535, ...Array.from({ length: 16 }, (_, i) => i)]);
  });
});

describe('parseRtcp on broken input', () => {
  const compound = Buffer.concat([
    serializeFeedback({
      type: 'rr',
      ssrc: 1,
      reports: [{ ssrc: 2, fractionLost: 3, packetsLost: 4, highestSeq: 5, jitter: 6, lsr: 7, dlsr: 8 }],
    }),
    serializeFeedback({ type: 'nack', ssrc: 1, mediaSsrc: 2, lost: [9, 10, 40] }),
    serializeFeedback({ type: 'pli', ssrc: 1, mediaSsrc: 2 }),
    serializeFeedback({ type: 'remb', ssrc: 1, bitrate: 100_000, ssrcs: [2] }),
  ]);
  const whole = parseRtcp(compound);

  it('returns the packets read before a truncation, for every cut', () => {
    expect(whole).toHaveLength(4);
    const ends: number[] = [];
    for (let o = 0; o < compound.length;) {
      o += (compound.readUInt16BE(o + 2) + 1) * 4;
      ends.push(o);
    }
    for (let cut = 0; cut <= compound.length; cut++) {
      const complete = ends.filter((e) => e <= cut).length;
      expect(parseRtcp(compound.subarray(0, cut))).toEqual(whole.slice(0, complete));
    }
  });

  it('stops at a packet with a wrong version or a length past the end', () => {
    const badVersion = Buffer.from(compound);
    const second = (compound.readUInt16BE(2) + 1) * 4;
    badVersion[second] = (badVersion[second]! & 0x3f) | 0x40;
    expect(parseRtcp(badVersion)).toEqual(whole.slice(0, 1));
    const tooLong = Buffer.from(compound);
    tooLong.writeUInt16BE(0xffff, second + 2);
    expect(parseRtcp(tooLong)).toEqual(whole.slice(0, 1));
    // A header-only packet (length 0) ends the datagram.
    const empty = Buffer.concat([compound.subarray(0, second), Buffer.from([0x80, 201, 0, 0])]);
    expect(parseRtcp(empty)).toEqual(whole.slice(0, 1));
  });

  it('reads only the report blocks and REMB sources that are there', () => {
    // An RR claiming 3 blocks with room for one.
    const rr = Buffer.from(compound.subarray(0, 32));
    rr[0] = 0x83;
    expect(parseRtcp(rr)).toEqual([whole[0]]);
    // A REMB claiming 9 sources with one present.
    const remb = Buffer.from(serializeFeedback({ type: 'remb', ssrc: 1, bitrate: 5000, ssrcs: [77] }));
    remb[16] = 9;
    expect(parseRtcp(remb)).toEqual([{ type: 'remb', ssrc: 1, bitrate: 5000, ssrcs: [77] }]);
  });

  it('never throws on random bytes or random damage', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    for (let i = 0; i < 20_000; i++) {
      let b: Buffer;
      if (i % 2) {
        b = Buffer.alloc(Math.floor(rand() * 80));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
        // Often a plausible first byte, so the parser goes past the header.
        if (b.length && rand() < 0.7) b[0] = 0x80 | (b[0]! & 0x1f);
      } else {
        b = Buffer.from(compound);
        for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        b = b.subarray(0, Math.floor(rand() * (b.length + 1)));
      }
      const out = parseRtcp(b);
      expect(Array.isArray(out)).toBe(true);
    }
    for (const b of [new Uint8Array(0), new Uint8Array(3), new Uint8Array([0x80, 200, 0, 6])]) {
      expect(parseRtcp(b)).toEqual([]);
    }
  });

  it('tells RTCP from RTP on a muxed port (RFC 5761)', () => {
    expect(isRtcp(compound)).toBe(true);
    const rtp = Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(isRtcp(rtp)).toBe(false);
    rtp[1] = 0x80 | 111; // marker set, payload type 111
    expect(isRtcp(rtp)).toBe(false);
    expect(isRtcp(compound.subarray(0, 7))).toBe(false);
  });
});

describe('ntpOf and ntpMiddle', () => {
  it('maps Unix time to NTP time at known points', () => {
    expect(ntpOf(0)).toEqual({ sec: NTP_UNIX, frac: 0 });
    // 2000-01-01T00:00:00Z is NTP 3 155 673 600.
    expect(ntpOf(Date.UTC(2000, 0, 1))).toEqual({ sec: 3_155_673_600, frac: 0 });
    expect(ntpOf(Date.UTC(2000, 0, 1) + 500)).toEqual({ sec: 3_155_673_600, frac: 0x8000_0000 });
    expect(ntpOf(Date.UTC(2000, 0, 1) + 250)).toEqual({ sec: 3_155_673_600, frac: 0x4000_0000 });
    // 999 ms: floor(0.999 × 2^32).
    expect(ntpOf(Date.UTC(2000, 0, 1) + 999).frac).toBe(4_290_672_328);
    // Era 1 begins 2036-02-07T06:28:16Z: the seconds wrap to 0.
    expect(ntpOf(Date.UTC(2036, 1, 7, 6, 28, 16))).toEqual({ sec: 0, frac: 0 });
    expect(ntpOf(Date.UTC(2036, 1, 7, 6, 28, 15)).sec).toBe(0xffff_ffff);
    // Sub-millisecond times keep their fraction.
    expect(ntpOf(Date.UTC(2000, 0, 1) + 0.5).frac).toBe(Math.floor(0.0005 * 2 ** 32));
  });

  it('takes the middle 32 bits of an NTP time', () => {
    expect(ntpMiddle(0x1234_5678, 0x9abc_def0)).toBe(0x5678_9abc);
    expect(ntpMiddle(0xffff_ffff, 0xffff_ffff)).toBe(0xffff_ffff);
  });
});

describe('writeSenderReport', () => {
  const sr = {
    ssrc: 0x8765_4321,
    unixMs: Date.UTC(2026, 11, 2, 12, 0, 0, 250),
    rtpTimestamp: 0xffff_fff0,
    packetCount: 123_456,
    octetCount: 98_765_432,
  };

  it('writes a 28-byte SR that parseRtcp reads back, at any offset of a larger buffer', () => {
    const backing = new Uint8Array(100).fill(0xaa);
    const out = backing.subarray(13);
    expect(writeSenderReport(out, sr)).toBe(28);
    expect(backing.subarray(0, 13).every((x) => x === 0xaa)).toBe(true);
    expect(backing.subarray(41).every((x) => x === 0xaa)).toBe(true);
    const ntp = ntpOf(sr.unixMs);
    expect(parseRtcp(out.subarray(0, 28))).toEqual([
      {
        type: 'sr',
        ssrc: sr.ssrc,
        ntpSec: ntp.sec,
        ntpFrac: ntp.frac,
        rtpTimestamp: sr.rtpTimestamp,
        packetCount: sr.packetCount,
        octetCount: sr.octetCount,
        reports: [],
      },
    ]);
    expect(ntp.frac).toBe(0x4000_0000);
  });

  it("is read by werift's RTCP parser, also in a compound with our feedback", () => {
    const out = Buffer.alloc(28);
    writeSenderReport(out, sr);
    const ntp = ntpOf(sr.unixMs);
    const [w] = RtcpPacketConverter.deSerialize(out);
    expect(w).toBeInstanceOf(RtcpSrPacket);
    const p = w as RtcpSrPacket;
    expect(p.ssrc).toBe(sr.ssrc);
    expect(p.senderInfo.ntpTimestamp).toBe((BigInt(ntp.sec) << 32n) | BigInt(ntp.frac));
    expect(p.senderInfo.rtpTimestamp).toBe(sr.rtpTimestamp);
    expect(p.senderInfo.packetCount).toBe(sr.packetCount);
    expect(p.senderInfo.octetCount).toBe(sr.octetCount);
    expect(p.reports).toEqual([]);

    const both = Buffer.concat([out, Buffer.from(serializeFeedback({ type: 'pli', ssrc: 1, mediaSsrc: 2 }))]);
    expect(RtcpPacketConverter.deSerialize(both).map((x) => x.type)).toEqual([200, 206]);
    expect(parseRtcp(both).map((x) => x.type)).toEqual(['sr', 'pli']);
  });

  it('masks out-of-range numbers to 32 bits', () => {
    const out = new Uint8Array(28);
    writeSenderReport(out, { ...sr, ssrc: -1, rtpTimestamp: 2 ** 32 + 5, packetCount: -2 });
    expect(parseRtcp(out)[0]).toMatchObject({ ssrc: 0xffff_ffff, rtpTimestamp: 5, packetCount: 0xffff_fffe });
  });
});
