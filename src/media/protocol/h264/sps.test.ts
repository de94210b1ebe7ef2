import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { BitReader, unescapeRbsp } from './bit-reader.ts';
import { NAL_SPS, nalType } from './nal.ts';
import { parseSps, profileLevelId } from './sps.ts';
import { loadAccessUnits, loadAvcc, loadExpected, STREAMS, type StreamName } from './testdata/fixtures.ts';

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);

function firstSps(name: StreamName): Uint8Array {
  return loadAccessUnits(name).nalus.find((n) => nalType(n) === NAL_SPS)!;
}

function badMedia(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (!isAirError(e, 'BAD_MEDIA')) throw e;
    return true;
  }
}

describe('bit reader', () => {
  it('removes emulation-prevention bytes', () => {
    expect([...unescapeRbsp(u8(1, 0, 0, 3, 1, 0, 0, 3, 0, 0, 3))]).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    expect([...unescapeRbsp(u8(0, 3, 0, 0, 2))]).toEqual([0, 3, 0, 0, 2]);
    const plain = u8(0x67, 0x42);
    expect(unescapeRbsp(plain)).toBe(plain);
  });

  it('reads bits and exp-Golomb codes', () => {
    // 1 | 010 | 011 | 00100 | 00101 | 0001000 → ue 0, 1, 2, 3; se -2; ue 7
    const r = new BitReader(u8(0b10100110, 0b01000010, 0b10001000));
    expect([r.ue(), r.ue(), r.ue(), r.ue(), r.se(), r.ue()]).toEqual([0, 1, 2, 3, -2, 7]);
    expect(r.remaining).toBe(0);
    expect(badMedia(() => r.bit())).toBe(true);
    expect(new BitReader(u8(0xab, 0xcd, 0xef, 0x01, 0x23)).bits(32)).toBe(0xabcdef01);
    expect(badMedia(() => new BitReader(u8(0, 0, 0, 0, 0)).ue())).toBe(true);
  });
});

/** ffprobe profile names → profile_idc. */
const PROFILE_IDC: Record<string, number> = {
  'Constrained Baseline': 66,
  High: 100,
  'High 4:4:4 Predictive': 244,
};
const CHROMA: Record<string, number> = { yuv420p: 1, yuv444p: 3 };

describe.each(STREAMS)('SPS of the captured %s stream', (name) => {
  const expected = loadExpected(name).stream;
  const sps = parseSps(firstSps(name));

  it('matches ffprobe: size, profile, level, chroma, interlacing', () => {
    expect([sps.width, sps.height]).toEqual([expected.width, expected.height]);
    expect(sps.profile).toBe(PROFILE_IDC[expected.profile]);
    expect(sps.level).toBe(expected.level);
    expect(sps.chromaFormatIdc).toBe(CHROMA[expected.pix_fmt]);
    expect(sps.frameMbsOnly).toBe(expected.field_order === 'progressive');
    expect(sps.bitDepthLuma).toBe(8);
    expect(sps.fps).toBe(30); // VUI timing, behind emulation-prevention bytes
  });

  it('agrees with the avcC record ffmpeg wrote', () => {
    const avcc = loadAvcc(name);
    expect(profileLevelId(sps)).toBe(Buffer.from(avcc.subarray(1, 4)).toString('hex'));
  });

  it('throws BAD_MEDIA (never anything else) on every truncation and on bit flips', () => {
    const nal = firstSps(name);
    for (let len = 0; len < nal.length; len++) {
      try {
        parseSps(nal.subarray(0, len));
      } catch (e) {
        expect(isAirError(e, 'BAD_MEDIA'), String(e)).toBe(true);
      }
    }
    for (let bit = 8; bit < nal.length * 8; bit++) {
      const flipped = nal.slice();
      flipped[bit >> 3]! ^= 0x80 >> (bit & 7);
      try {
        parseSps(flipped);
      } catch (e) {
        expect(isAirError(e, 'BAD_MEDIA'), String(e)).toBe(true);
      }
    }
  });
});

describe('parseSps details', () => {
  it('baseline: constrained baseline 42c0xx, no reordering', () => {
    const sps = parseSps(firstSps('baseline'));
    expect(profileLevelId(sps)).toBe('42c00d');
    expect(profileLevelId(firstSps('baseline'))).toBe('42c00d');
    expect(sps.constraints & 0x40).toBe(0x40); // constraint_set1: constrained baseline
    expect(sps.maxNumReorderFrames).toBe(0);
    expect(sps.crop).toEqual({ left: 0, right: 0, top: 0, bottom: 0 });
  });

  it('high 720p: 6400xx, B-frames announced by max_num_reorder_frames', () => {
    const sps = parseSps(firstSps('high'));
    expect(profileLevelId(sps)).toBe('64001f');
    expect(sps.maxNumReorderFrames).toBe(2); // ffprobe: has_b_frames=2
  });

  it('4:4:4 with scaling matrices: cropping in luma samples', () => {
    const sps = parseSps(firstSps('crop444'));
    expect([sps.codedWidth, sps.codedHeight]).toEqual([336, 192]);
    expect(sps.crop).toEqual({ left: 0, right: 14, top: 0, bottom: 10 });
  });

  it('interlaced: height in field pairs, cropping in units of 4 lines', () => {
    const sps = parseSps(firstSps('interlaced'));
    expect(sps.frameMbsOnly).toBe(false);
    expect([sps.codedWidth, sps.codedHeight]).toEqual([352, 288]);
    expect(sps.crop.bottom).toBe(4);
  });

  it('rejects what is not an SPS', () => {
    expect(badMedia(() => parseSps(u8(0x68, 0xce, 0x3c, 0x80)))).toBe(true);
    expect(badMedia(() => parseSps(u8(0x67, 0x42)))).toBe(true);
    expect(badMedia(() => profileLevelId(u8(0x68, 1, 2, 3)))).toBe(true);
    // seq_parameter_set_id 32 (ue 000001 00001)
    expect(badMedia(() => parseSps(u8(0x67, 0x42, 0xc0, 0x1f, 0b00000100, 0b00110000)))).toBe(true);
  });
});
