import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { NalType, nalType } from '../h264/nal.ts';
import { profileLevelId } from '../h264/sps.ts';
import { loadAccessUnits, loadExpected } from '../h264/testdata/fixtures.ts';
import {
  H264Depacketizer,
  packetizeH264,
  type H264AccessUnit,
  type H264RtpInput,
} from './h264-packetizer.ts';
import { RtpPacket } from './packet.ts';
import { RtpSequencer } from './sequencer.ts';
import { loadRtp, loadSdp } from './testdata/fixtures.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexes = (list: readonly Uint8Array[]): string[] => list.map(hex);

function depacketize(pkts: readonly H264RtpInput[], d = new H264Depacketizer()): H264AccessUnit[] {
  return pkts.flatMap((p) => d.process(p));
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe('ffmpeg RTP capture of the baseline stream', () => {
  const pkts = loadRtp('baseline').map((b) => RtpPacket.parse(b));
  const { nalus, aus } = loadAccessUnits('baseline');
  const expected = loadExpected('baseline');
  const out = depacketize(pkts);

  it('depacketizes into the NAL units of the elementary stream, frame by frame', () => {
    expect(out.length).toBe(40);
    expect(out.map((au) => hexes(au.nalus))).toEqual(aus.map(hexes));
    expect(hexes(out.flatMap((au) => au.nalus))).toEqual(hexes(nalus));
  });

  it('flags the keyframes ffprobe flags, and the timestamps advance by 1/30 s', () => {
    expect(out.map((au) => au.key)).toEqual(expected.packets.map((p) => p.key));
    // ffmpeg rounds 1/30 s to 2999 or 3000 ticks.
    for (let i = 1; i < out.length; i++)
      expect(((out[i]!.timestamp - out[i - 1]!.timestamp) >>> 0) - 3000).toBeOneOf([-1, 0]);
  });

  it('has the SPS whose profile-level-id ffmpeg put in the SDP', () => {
    const sps = out[0]!.nalus.find((n) => nalType(n) === NalType.SPS)!;
    expect(loadSdp('baseline')).toContain(`profile-level-id=${profileLevelId(sps).toUpperCase()}`);
  });

  it('packetizes the frames back into ffmpeg payloads (ffmpeg writes STAP-A with NRI 0)', () => {
    // ffmpeg -pkt_size 1200 counts the 12-byte RTP header: a payload MTU of 1188. ffmpeg also
    // aggregates small NAL units greedily into STAP-A like `stapA: true`, but writes the STAP-A
    // header as 0x18 (F=0, NRI=0) where RFC 6184 §5.7.1 asks for the highest NRI inside: that
    // byte is the only difference.
    const ours = out.flatMap((au) => packetizeH264(au.nalus, 1188, { stapA: true }));
    expect(ours.length).toBe(pkts.length);
    expect(ours.map((p) => p.marker)).toEqual(pkts.map((p) => p.marker));
    let staps = 0;
    ours.forEach((p, i) => {
      const theirs = pkts[i]!.payload;
      if ((theirs[0]! & 0x1f) === NalType.STAP_A) {
        staps++;
        expect(theirs[0]).toBe(0x18);
        expect(p.payload[0]).toBe(0x78); // SPS and PPS have NRI 3
        expect(hex(p.payload.subarray(1))).toBe(hex(theirs.subarray(1)));
      } else {
        expect(hex(p.payload)).toBe(hex(theirs));
      }
    });
    expect(staps).toBe(2); // SPS + PPS + SEI of frame 0, SPS + PPS of frame 30
    expect(ours.filter((p) => p.payload[0]! === 0x7c).length).toBeGreaterThan(0); // FU-A of IDR slices
  });

  it('survives a packet loss: drops the broken frame and everything up to the next keyframe', () => {
    const lost = pkts.findIndex((p) => p.timestamp === out[5]!.timestamp) + 1; // inside frame 5
    const d = new H264Depacketizer();
    const got = depacketize([...pkts.slice(0, lost), ...pkts.slice(lost + 1)], d);
    expect(got.map((au) => au.timestamp)).toEqual(
      [...out.slice(0, 5), ...out.slice(30)].map((au) => au.timestamp),
    );
    expect(d.droppedAccessUnits).toBe(25);
    expect(d.needKeyframe).toBe(false);
  });

  it('never emits a keyframe that lost a slice', () => {
    const ts0 = pkts.filter((p) => p.timestamp === out[0]!.timestamp);
    expect(ts0.length).toBeGreaterThan(4);
    const got = depacketize([...pkts.slice(0, 3), ...pkts.slice(4)]);
    expect(got.map((au) => au.timestamp)).toEqual(out.slice(30).map((au) => au.timestamp));
  });

  it('waits for a keyframe when joining mid-stream, unless told not to', () => {
    const from = pkts.findIndex((p) => p.timestamp === out[3]!.timestamp);
    expect(depacketize(pkts.slice(from)).map((au) => au.timestamp)[0]).toBe(out[30]!.timestamp);
    const all = depacketize(pkts.slice(from), new H264Depacketizer({ waitForKeyframe: false }));
    expect(all.length).toBe(37);
  });

  it('ignores duplicated and late packets', () => {
    const noisy = pkts.flatMap((p, i) => (i % 7 === 3 ? [p, p, pkts[i - 2]!] : [p]));
    expect(depacketize(noisy).map((au) => hexes(au.nalus))).toEqual(out.map((au) => hexes(au.nalus)));
  });

  it('ends a frame on a timestamp change when the sender sets no marker', () => {
    const plain = pkts.map((p) => ({
      ...p,
      payload: p.payload,
      sequenceNumber: p.sequenceNumber,
      timestamp: p.timestamp,
      marker: false,
    }));
    expect(depacketize(plain).length).toBe(39); // the last one waits for a marker or a next frame
  });
});

describe('packetizeH264', () => {
  const { aus } = loadAccessUnits('high');

  it('sends single NAL units and FU-A, marks the last packet, drops AUDs', () => {
    const au = [Uint8Array.of(0x09, 0xf0), ...aus[0]!];
    const payloads = packetizeH264(au, 1200);
    expect(payloads.every((p) => p.payload.length <= 1200)).toBe(true);
    expect(payloads.map((p) => p.marker)).toEqual(payloads.map((_, i) => i === payloads.length - 1));
    expect(payloads.some((p) => nalType(p.payload) === NalType.AUD)).toBe(false);
    expect(payloads.slice(0, 3).map((p) => nalType(p.payload))).toEqual([
      NalType.SPS,
      NalType.PPS,
      NalType.SEI,
    ]);
    const fu = payloads.filter((p) => nalType(p.payload) === NalType.FU_A);
    expect(fu[0]!.payload[1]).toBe(0x85); // start, IDR
    expect(fu.at(-1)!.payload[1]).toBe(0x45); // end, IDR
  });

  it('round-trips the 720p high-profile stream through RTP', () => {
    const seq = new RtpSequencer(90000, 1, { sequenceNumber: 65530 });
    const pkts = aus.flatMap((au, i) => seq.next(packetizeH264(au, 1000), (i * 1000) / 30));
    expect(depacketize(pkts).map((au) => hexes(au.nalus))).toEqual(aus.map(hexes));
  });

  it('round-trips random access units at random MTUs, with and without STAP-A', () => {
    const rnd = prng(42);
    const seq = new RtpSequencer(90000, 7, { sequenceNumber: 65000 });
    const d = new H264Depacketizer({ waitForKeyframe: false });
    for (let n = 0; n < 300; n++) {
      const mtu = 16 + rnd(1500);
      const au = Array.from({ length: 1 + rnd(8) }, () => {
        const size = 1 + (rnd(4) === 0 ? rnd(20_000) : rnd(mtu + 10));
        const nal = Uint8Array.from({ length: size }, () => rnd(256));
        nal[0] = (rnd(4) << 5) | [1, 5, 6, 7, 8, 12][rnd(6)]!;
        return nal;
      });
      const pkts = seq.next(packetizeH264(au, mtu, { stapA: rnd(2) === 1 }), n * 33);
      expect(pkts.every((p) => p.payload.length <= mtu)).toBe(true);
      const got = pkts.flatMap((p) => d.process(RtpPacket.parse(p.serialize())));
      expect(got.length).toBe(1);
      expect(hexes(got[0]!.nalus)).toEqual(hexes(au));
      expect(got[0]!.timestamp).toBe(seq.timestamp(n * 33));
    }
  });

  it('rejects empty NAL units and absurd MTUs', () => {
    expect(() => packetizeH264([new Uint8Array(0)])).toThrow(/empty NAL/);
    expect(() => packetizeH264([Uint8Array.of(0x65, 1)], 2)).toThrow(/mtu/);
  });
});

describe('H264Depacketizer on malformed input', () => {
  const pkt = (sequenceNumber: number, bytes: number[], marker = false, timestamp = 1000): H264RtpInput => ({
    payload: Uint8Array.from(bytes),
    marker,
    sequenceNumber,
    timestamp,
  });
  const cases: [string, number[]][] = [
    ['empty payload', []],
    ['type 0', [0x00, 1]],
    ['STAP-B', [0x19, 0, 1, 0, 2, 0x67, 1]],
    ['FU-B', [0x1d, 0x85, 0, 1, 2]],
    ['type 30', [0x1e, 1]],
    ['truncated STAP-A size', [0x18, 0, 2, 0x67, 1, 0]],
    ['STAP-A entry past the end', [0x18, 0, 9, 0x67, 1]],
    ['STAP-A empty entry', [0x18, 0, 0, 0, 1, 0x68]],
    ['FU-A without a start', [0x7c, 0x05, 1, 2]],
    ['truncated FU-A', [0x7c, 0x85]],
  ];

  it.each(cases)('%s throws BAD_MEDIA and the next keyframe is still delivered', (_, bytes) => {
    const d = new H264Depacketizer({ waitForKeyframe: false });
    d.process(pkt(1, [0x67, 0x42]));
    let err: unknown;
    try {
      d.process(pkt(2, bytes));
    } catch (e) {
      err = e;
    }
    expect(isAirError(err, 'BAD_MEDIA'), String(err)).toBe(true);
    expect(d.needKeyframe).toBe(true);
    expect(d.process(pkt(3, [0x41, 1], true, 1000))).toEqual([]); // rest of the broken frame
    expect(d.process(pkt(4, [0x41, 2], true, 2000))).toEqual([]); // not a keyframe
    const key = d.process(pkt(5, [0x65, 3], true, 3000));
    expect(key.map((au) => [au.key, au.timestamp, au.nalus.map((n) => [...n])])).toEqual([
      [true, 3000, [[0x65, 3]]],
    ]);
    expect(d.droppedAccessUnits).toBe(2);
  });

  it('a new FU-A start inside an unfinished one is malformed', () => {
    const d = new H264Depacketizer({ waitForKeyframe: false });
    d.process(pkt(1, [0x7c, 0x85, 1]));
    expect(() => d.process(pkt(2, [0x7c, 0x85, 2]))).toThrow(/FU-A start/);
  });

  it('limits the size of an access unit', () => {
    const d = new H264Depacketizer({ maxAccessUnitSize: 1000 });
    const big = packetizeH264([Uint8Array.from({ length: 5000 }, () => 0x65)], 500);
    expect(() => big.forEach((p, i) => d.process({ ...p, sequenceNumber: i, timestamp: 0 }))).toThrow(
      /larger than 1000/,
    );
  });
});
