import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { AvcDecoderConfig } from './avcc.ts';
import { NAL_PPS, NAL_SPS, nalType } from './nal.ts';
import { loadAccessUnits, loadAvcc, STREAMS } from './testdata/fixtures.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function badMedia(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (!isAirError(e, 'BAD_MEDIA')) throw e;
    return true;
  }
}

describe.each(STREAMS)('avcC record ffmpeg wrote for %s', (name) => {
  const bytes = loadAvcc(name);
  const { nalus } = loadAccessUnits(name);
  const sps = nalus.find((n) => nalType(n) === NAL_SPS)!;
  const pps = nalus.find((n) => nalType(n) === NAL_PPS)!;

  it('parses to the in-band SPS/PPS and serialises byte for byte', () => {
    const cfg = AvcDecoderConfig.parse(bytes);
    expect(cfg.lengthSize).toBe(4);
    expect([cfg.profile, cfg.compat, cfg.level]).toEqual([sps[1], sps[2], sps[3]]);
    expect(cfg.sps.map(hex)).toEqual([hex(sps)]);
    expect(cfg.pps.map(hex)).toEqual([hex(pps)]);
    expect(hex(cfg.serialize())).toBe(hex(bytes));
  });

  it('has the high-profile trailer exactly when the profile is not 66/77/88', () => {
    const cfg = AvcDecoderConfig.parse(bytes);
    if (name === 'baseline') expect(cfg.ext).toBeUndefined();
    else
      expect(cfg.ext).toEqual({
        chromaFormat: name === 'crop444' ? 3 : 1,
        bitDepthLumaMinus8: 0,
        bitDepthChromaMinus8: 0,
        spsExt: [],
      });
  });

  it('is rebuilt identically from the SPS and PPS', () => {
    expect(hex(AvcDecoderConfig.fromParameterSets(sps, pps).serialize())).toBe(hex(bytes));
  });

  it('throws BAD_MEDIA on every truncation that cuts a parameter set', () => {
    const cfg = AvcDecoderConfig.parse(bytes);
    const end = cfg.ext ? bytes.length - 4 : bytes.length; // the trailer is optional
    for (let len = 0; len < end; len++)
      expect(badMedia(() => AvcDecoderConfig.parse(bytes.subarray(0, len)))).toBe(true);
    expect(hex(AvcDecoderConfig.parse(bytes.subarray(0, end)).serialize())).toBe(hex(bytes.subarray(0, end)));
  });
});

describe('AvcDecoderConfig', () => {
  it('round-trips several parameter sets, 2-byte lengths and SPS extensions', () => {
    const cfg = new AvcDecoderConfig({
      profile: 100,
      compat: 0,
      level: 40,
      lengthSize: 2,
      sps: [Uint8Array.of(0x67, 100, 0, 40, 1), Uint8Array.of(0x67, 100, 0, 40, 2)],
      pps: [Uint8Array.of(0x68, 1), Uint8Array.of(0x68, 2), Uint8Array.of(0x68, 3)],
      ext: {
        chromaFormat: 2,
        bitDepthLumaMinus8: 2,
        bitDepthChromaMinus8: 1,
        spsExt: [Uint8Array.of(0x6d, 9)],
      },
    });
    const bytes = cfg.serialize();
    const back = AvcDecoderConfig.parse(bytes);
    expect(back).toEqual(cfg);
    expect(hex(back.serialize())).toBe(hex(bytes));
  });

  it('rejects a wrong version, a 3-byte length size and overrunning sets', () => {
    expect(badMedia(() => AvcDecoderConfig.parse(Uint8Array.of(0, 0x42, 0xc0, 0x1f, 0xff, 0xe0, 0)))).toBe(
      true,
    );
    expect(badMedia(() => AvcDecoderConfig.parse(Uint8Array.of(1, 0x42, 0xc0, 0x1f, 0xfe, 0xe0, 0)))).toBe(
      true,
    );
    expect(
      badMedia(() => AvcDecoderConfig.parse(Uint8Array.of(1, 0x42, 0xc0, 0x1f, 0xff, 0xe1, 0, 9, 0x67))),
    ).toBe(true);
    const empty = new AvcDecoderConfig({
      profile: 66,
      compat: 0,
      level: 31,
      sps: [new Uint8Array(0)],
      pps: [],
    });
    expect(badMedia(() => empty.serialize())).toBe(true);
  });
});
