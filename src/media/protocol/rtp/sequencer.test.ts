import { describe, expect, it } from 'vitest';
import { RtpPacket } from './packet.ts';
import { RtpSequencer } from './sequencer.ts';

const payloads = (n: number): { payload: Uint8Array; marker: boolean }[] =>
  Array.from({ length: n }, (_, i) => ({ payload: Uint8Array.of(0x41, i), marker: i === n - 1 }));

describe('RtpSequencer', () => {
  it('numbers packets across the 16-bit wrap and gives an access unit one timestamp', () => {
    const seq = new RtpSequencer(90000, 0xdeadbeef, { sequenceNumber: 65534, payloadType: 102 });
    const a = seq.next(payloads(3), 1000);
    const b = seq.next(payloads(2), 1033.3333);
    expect([...a, ...b].map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1, 2]);
    expect(a.map((p) => p.timestamp)).toEqual([90000, 90000, 90000]);
    expect(b.map((p) => p.timestamp)).toEqual([93000, 93000]);
    expect([...a, ...b].map((p) => p.marker)).toEqual([false, false, true, false, true]);
    expect(a.every((p) => p.ssrc === 0xdeadbeef && p.payloadType === 102)).toBe(true);
    expect(seq.sequenceNumber).toBe(3);
    expect([seq.packetCount, seq.octetCount]).toEqual([5, 10]);
    // and the packets serialise and parse back
    const back = RtpPacket.parse(b[1]!.serialize());
    expect([back.sequenceNumber, back.timestamp, back.marker, back.ssrc]).toEqual([
      2,
      93000,
      true,
      0xdeadbeef,
    ]);
  });

  it('wraps timestamps at 32 bits', () => {
    const seq = new RtpSequencer(90000, 1, { sequenceNumber: 0 });
    const wrapMs = (2 ** 32 / 90000) * 1000; // ≈ 13.25 hours
    expect(seq.timestamp(wrapMs)).toBe(0);
    expect(seq.timestamp(wrapMs + 1000)).toBe(90000);
    expect(seq.timestamp(wrapMs - 1000)).toBe(2 ** 32 - 90000);
    const offset = new RtpSequencer(48000, 1, { timestampOffset: 2 ** 32 - 480 });
    expect(offset.timestamp(0)).toBe(2 ** 32 - 480);
    expect(offset.timestamp(20)).toBe(480);
    expect(offset.next([{ payload: Uint8Array.of(0xfc), marker: false }], 20)[0]!.timestamp).toBe(480);
  });

  it('picks a random SSRC and first sequence number when none is given', () => {
    const seen = new Set(Array.from({ length: 8 }, () => new RtpSequencer(90000).ssrc));
    expect(seen.size).toBeGreaterThan(1);
    const s = new RtpSequencer(48000);
    expect(s.ssrc).toBeGreaterThanOrEqual(0);
    expect(s.ssrc).toBeLessThan(2 ** 32);
    expect(s.sequenceNumber).toBeLessThan(65536);
  });

  it('rejects a bad clock rate or SSRC', () => {
    expect(() => new RtpSequencer(0)).toThrow(RangeError);
    expect(() => new RtpSequencer(90000, 2 ** 32)).toThrow(RangeError);
  });
});
