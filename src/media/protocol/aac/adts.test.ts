import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { parseAdtsHeader, serializeAdtsHeader, splitAdts, toAdts, type AdtsHeader } from './adts.ts';
import { parseAudioSpecificConfig } from './asc.ts';

const testdata = (name: string): Uint8Array => readFileSync(new URL(`./testdata/${name}`, import.meta.url));
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

function badMedia(fn: () => unknown): boolean {
  try {
    fn();
  } catch (e) {
    return isAirError(e, 'BAD_MEDIA');
  }
  return false;
}

describe('ADTS', () => {
  it('splits an ffmpeg capture and rebuilds it byte for byte (48 kHz mono)', () => {
    const file = testdata('sine-48k-mono.aac');
    const frames = splitAdts(file);
    expect(frames.length).toBeGreaterThan(45);
    const asc = parseAudioSpecificConfig(hex('118856e500')); // the same encoder's FLV sequence header
    let offset = 0;
    for (const f of frames) {
      expect(f.header).toMatchObject({ mpegVersion: 4, objectType: 2, sampleRate: 48000, channelConfig: 1 });
      expect(f.header.crc).toBeUndefined();
      const original = file.subarray(offset, offset + f.header.frameLength);
      expect(Buffer.from(serializeAdtsHeader(f.header))).toEqual(Buffer.from(original.subarray(0, 7)));
      expect(Buffer.from(toAdts(f.data, asc))).toEqual(Buffer.from(original));
      offset += f.header.frameLength;
    }
    expect(offset).toBe(file.length);
  });

  it('does the same for 44.1 kHz stereo', () => {
    const file = testdata('sine-44k1-stereo.aac');
    const asc = parseAudioSpecificConfig(hex('121056e500'));
    const rebuilt = Buffer.concat(splitAdts(file).map((f) => toAdts(f.data, asc)));
    expect(rebuilt).toEqual(Buffer.from(file));
    expect(splitAdts(file)[0]!.header).toMatchObject({
      sampleRate: 44100,
      sampleRateIndex: 4,
      channelConfig: 2,
    });
  });

  it('round-trips a header with CRC, MPEG-2 ID, flags and several raw data blocks', () => {
    const h: AdtsHeader = {
      mpegVersion: 2,
      objectType: 1,
      sampleRateIndex: 11,
      sampleRate: 8000,
      channelConfig: 6,
      frameLength: 4000,
      bufferFullness: 0x123,
      rawDataBlocks: 3,
      crc: 0xbeef,
      privateBit: 1,
      original: 1,
      home: 0,
      copyrightBit: 1,
      copyrightStart: 0,
    };
    const bytes = serializeAdtsHeader(h);
    expect(bytes.length).toBe(9);
    expect(parseAdtsHeader(bytes)).toEqual(h);
    expect(Buffer.from(serializeAdtsHeader(parseAdtsHeader(bytes)))).toEqual(Buffer.from(bytes));
  });

  it('writes HE-AAC as its LC core and refuses what ADTS cannot carry', () => {
    const he = parseAudioSpecificConfig(hex('2b118800'));
    const h = parseAdtsHeader(toAdts(new Uint8Array(10), he));
    expect(h).toMatchObject({ objectType: 2, sampleRate: 24000, channelConfig: 2, frameLength: 17 });
    expect(
      badMedia(() => toAdts(new Uint8Array(10), { objectType: 42, sampleRateIndex: 3, channels: 2 })),
    ).toBe(true);
    expect(
      badMedia(() => toAdts(new Uint8Array(10), { objectType: 2, sampleRateIndex: 15, channels: 2 })),
    ).toBe(true);
    expect(
      badMedia(() => toAdts(new Uint8Array(9000), { objectType: 2, sampleRateIndex: 3, channels: 2 })),
    ).toBe(true);
  });

  it('rejects garbage and truncated streams with BAD_MEDIA', () => {
    const file = testdata('sine-48k-mono.aac');
    expect(badMedia(() => splitAdts(file.subarray(0, file.length - 3)))).toBe(true);
    expect(badMedia(() => splitAdts(file.subarray(1)))).toBe(true);
    expect(badMedia(() => splitAdts(hex('fff1')))).toBe(true);
    expect(badMedia(() => parseAdtsHeader(hex('fff14c4000007c')))).toBe(true); // length 0
    expect(splitAdts(new Uint8Array(0))).toEqual([]);
  });
});
