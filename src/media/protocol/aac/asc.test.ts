import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { parseAudioSpecificConfig, serializeAudioSpecificConfig } from './asc.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('AudioSpecificConfig', () => {
  it('parses and re-serialises the configs ffmpeg writes into FLV sequence headers', () => {
    // 48 kHz mono and 44.1 kHz stereo AAC LC, with ffmpeg's backward-compatible "no SBR" extension.
    for (const [bytes, rate, index, channels] of [
      ['118856e500', 48000, 3, 1],
      ['121056e500', 44100, 4, 2],
    ] as const) {
      const asc = parseAudioSpecificConfig(hex(bytes));
      expect(asc).toEqual({
        objectType: 2,
        sampleRate: rate,
        sampleRateIndex: index,
        channels,
        channelConfig: channels,
        frameLength: 1024,
        sbr: false,
      });
      expect(toHex(serializeAudioSpecificConfig(asc))).toBe(bytes);
    }
  });

  it('round-trips the plain two-byte LC config', () => {
    const asc = parseAudioSpecificConfig(hex('1190'));
    expect(asc).toMatchObject({ objectType: 2, sampleRate: 48000, sampleRateIndex: 3, channels: 2 });
    expect(asc.sbr).toBeUndefined();
    expect(toHex(serializeAudioSpecificConfig(asc))).toBe('1190');
    expect(toHex(serializeAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2 }))).toBe(
      '1190',
    );
  });

  it('reads explicit hierarchical HE-AAC (SBR) and HE-AACv2 (PS) signalling', () => {
    // 00101 0110 0010 0011 00010 000: SBR, core 24 kHz stereo, output 48 kHz, core AAC LC.
    const he = parseAudioSpecificConfig(hex('2b118800'));
    expect(he).toMatchObject({
      objectType: 2,
      sampleRate: 24000,
      channels: 2,
      sbr: true,
      extensionSampleRate: 48000,
    });
    expect(toHex(serializeAudioSpecificConfig(he))).toBe('2b118800');
    // 11101 0110 0001 0011 00010 000: SBR + PS, core 24 kHz mono (stereo out), output 48 kHz.
    const v2bytes = serializeAudioSpecificConfig({
      objectType: 2,
      sampleRate: 24000,
      channels: 1,
      sbr: true,
      ps: true,
      extensionSampleRate: 48000,
    });
    expect(toHex(v2bytes)).toBe('eb098800');
    const v2 = parseAudioSpecificConfig(v2bytes);
    expect(v2).toMatchObject({ objectType: 2, sampleRate: 24000, channels: 1, sbr: true, ps: true });
  });

  it('handles the object type escape (31) and an explicit frequency (index 15)', () => {
    // 11111 001010 (42 = USAC) 0011 (48 kHz) 0010 (stereo)
    const usac = parseAudioSpecificConfig(
      serializeAudioSpecificConfig({ objectType: 42, sampleRate: 48000, channels: 2 }),
    );
    expect(usac).toMatchObject({ objectType: 42, sampleRate: 48000, sampleRateIndex: 3, channels: 2 });
    const odd = serializeAudioSpecificConfig({ objectType: 2, sampleRate: 46000, channels: 1 });
    // 00010 1111 <24 bits: 46000> 0001 000
    expect(toHex(odd)).toBe('178059d808');
    expect(parseAudioSpecificConfig(odd)).toMatchObject({
      objectType: 2,
      sampleRate: 46000,
      sampleRateIndex: 15,
      channels: 1,
    });
  });

  it('reports 960-sample frames and the 7.1 channel configuration', () => {
    const asc = parseAudioSpecificConfig(
      serializeAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 8, frameLength: 960 }),
    );
    expect(asc).toMatchObject({ channels: 8, channelConfig: 7, frameLength: 960 });
  });

  it('rejects truncated and reserved configs with BAD_MEDIA', () => {
    for (const bad of ['', '12', 'f8', '16']) {
      let err: unknown;
      try {
        parseAudioSpecificConfig(hex(bad));
      } catch (e) {
        err = e;
      }
      expect(isAirError(err, 'BAD_MEDIA'), bad).toBe(true);
    }
    // index 13 is reserved
    expect(() => parseAudioSpecificConfig(hex('1690'))).toThrow(/reserved/);
  });
});
