import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import {
  isKeyframe,
  NAL_IDR,
  NAL_SPS,
  nalType,
  NalType,
  splitAnnexB,
  splitAvcc,
  toAnnexB,
  toAvcc,
} from './nal.ts';
import { loadAccessUnits, loadExpected, STREAMS } from './testdata/fixtures.ts';

const b64 = (list: readonly Uint8Array[]): string[] => list.map((n) => Buffer.from(n).toString('base64'));
const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

function expectBadMedia(f: () => unknown): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isAirError(err, 'BAD_MEDIA'), String(err)).toBe(true);
}

describe('NAL units', () => {
  it('reads the type from the header byte', () => {
    expect(nalType(u8(0x67, 1))).toBe(NAL_SPS);
    expect(nalType(u8(0x65))).toBe(NAL_IDR);
    expect(nalType(u8(0x7c, 0x85))).toBe(NalType.FU_A);
    expectBadMedia(() => nalType(u8()));
  });

  it('splits 3- and 4-byte start codes, trimming trailing zeros', () => {
    const b = u8(0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 0, 0, 3, 1, 0, 0);
    expect(splitAnnexB(b).map((n) => [...n])).toEqual([
      [0x67, 1, 2],
      [0x68, 3],
      [0x65, 0, 0, 3, 1],
    ]);
  });

  it('accepts leading zeros and skips empty NAL units', () => {
    const b = u8(0, 0, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0, 0, 1, 0x41, 0x9a);
    expect(splitAnnexB(b).map((n) => [...n])).toEqual([
      [0x09, 0xf0],
      [0x41, 0x9a],
    ]);
    expect(splitAnnexB(u8())).toEqual([]);
    expect(splitAnnexB(u8(0, 0, 0))).toEqual([]);
  });

  it('rejects data that is not Annex B', () => {
    expectBadMedia(() => splitAnnexB(u8(0x67, 1, 2, 3)));
    expectBadMedia(() => splitAnnexB(u8(5, 0, 0, 1, 0x67)));
  });

  it('round-trips AVCC with 1-, 2- and 4-byte lengths', () => {
    const nalus = [u8(0x67, 1, 2, 3), u8(0x68, 4), u8(0x65, ...new Array<number>(300).fill(7))];
    for (const size of [2, 4]) {
      expect(splitAvcc(toAvcc(nalus, size), size)).toEqual(nalus);
    }
    expect(splitAvcc(toAvcc(nalus.slice(0, 2), 1), 1)).toEqual(nalus.slice(0, 2));
    expect([...toAvcc([u8(0x68, 4)])]).toEqual([0, 0, 0, 2, 0x68, 4]);
  });

  it('rejects bad AVCC', () => {
    expectBadMedia(() => splitAvcc(u8(0, 0, 0, 5, 0x65, 1), 4)); // length past the end
    expectBadMedia(() => splitAvcc(u8(0, 0, 0, 2, 0x65, 1, 0), 4)); // truncated length
    expectBadMedia(() => splitAvcc(u8(0, 2, 0x65, 1), 3));
    expectBadMedia(() => toAvcc([new Uint8Array(256)], 1));
  });

  it('finds keyframes by IDR or SPS in band', () => {
    expect(isKeyframe([u8(0x41, 1), u8(0x41, 2)])).toBe(false);
    expect(isKeyframe([u8(0x41, 1), u8(0x65, 2)])).toBe(true);
    expect(isKeyframe([u8(0x67, 1)])).toBe(true);
    expect(isKeyframe([])).toBe(false);
  });
});

describe.each(STREAMS)('captured %s stream', (name) => {
  const { es, nalus, aus } = loadAccessUnits(name);
  const expected = loadExpected(name);

  it('splits into access units of the sizes ffprobe reports', () => {
    // ffprobe's packet = the bytes from an access unit's first start code to the next one's.
    const starts = aus.map((au) => {
      const off = au[0]!.byteOffset - es.byteOffset;
      return off - (off >= 4 && es[off - 4] === 0 ? 4 : 3);
    });
    const sizes = starts.map((s, i) => (starts[i + 1] ?? es.length) - s);
    expect(sizes).toEqual(expected.packets.map((p) => p.size));
  });

  it('detects the same keyframes as ffprobe', () => {
    expect(aus.map((au) => isKeyframe(au))).toEqual(expected.packets.map((p) => p.key));
    expect(aus.filter((au) => isKeyframe(au)).length).toBe(expected.frames.filter((f) => f.key).length);
  });

  it('sees x264 zerolatency slices: keyframes hold several IDR slices', () => {
    if (name !== 'baseline') return;
    const idrSlices = aus[0]!.filter((n) => nalType(n) === NAL_IDR).length;
    expect(idrSlices).toBeGreaterThan(1);
  });

  it('round-trips Annex B and AVCC', () => {
    // x264 writes 3-byte start codes inside an access unit and toAnnexB 4-byte ones, so the
    // bytes differ; the NAL units must not.
    expect(b64(splitAnnexB(toAnnexB(nalus)))).toEqual(b64(nalus));
    for (const au of aus) {
      expect(b64(splitAvcc(toAvcc(au), 4))).toEqual(b64(au));
      expect(b64(splitAnnexB(toAnnexB(splitAvcc(toAvcc(au, 2), 2))))).toEqual(b64(au));
    }
  });
});
