import { AirError } from '../../../shared/errors.ts';
import { AAC_SAMPLE_RATES, channelConfigFor, type AudioSpecificConfig } from './asc.ts';

/**
 * ADTS header (ISO/IEC 13818-7 §6.2 / 14496-3 §1.A.2.2), 7 bytes, 9 with a CRC:
 *
 *   AAAAAAAA AAAABCCD EEFFFFGH HHIJKLMM MMMMMMMM MMMOOOOO OOOOOOPP [QQQQQQQQ QQQQQQQQ]
 *
 *   A 12 syncword 0xFFF           B 1 ID (0: MPEG-4, 1: MPEG-2)   C 2 layer (00)
 *   D 1 protection_absent         E 2 profile (audio object type − 1)
 *   F 4 sampling_frequency_index  G 1 private_bit                 H 3 channel_configuration
 *   I 1 original_copy   J 1 home  K 1 copyright_identification_bit
 *   L 1 copyright_identification_start      M 13 aac_frame_length (header included)
 *   O 11 adts_buffer_fullness (0x7FF: VBR)  P 2 number_of_raw_data_blocks_in_frame (− 1)
 *   Q 16 CRC, when protection_absent is 0
 */
export interface AdtsHeader {
  /** 4 for MPEG-4 (ID 0), 2 for MPEG-2 (ID 1). */
  mpegVersion: 2 | 4;
  /** Audio object type (profile + 1): 1 Main, 2 LC, 3 SSR, 4 LTP. */
  objectType: number;
  sampleRateIndex: number;
  /** From the index; 0 for the reserved indices 13–15. */
  sampleRate: number;
  channelConfig: number;
  /** Whole frame length in bytes, header included. */
  frameLength: number;
  bufferFullness: number;
  /** Raw data blocks in the frame (1–4). */
  rawDataBlocks: number;
  /** The CRC word when protection is present (the header is then 9 bytes). */
  crc?: number;
  privateBit: number;
  original: number;
  home: number;
  copyrightBit: number;
  copyrightStart: number;
}

/** Header size without a CRC. */
export const ADTS_HEADER_SIZE = 7;
/** Largest frame an ADTS header can describe (13-bit length). */
export const ADTS_MAX_FRAME = 0x1fff;

/** Header length in bytes: 7, or 9 with a CRC. */
export function adtsHeaderLength(h: Pick<AdtsHeader, 'crc'>): number {
  return h.crc === undefined ? 7 : 9;
}

/** Parses the ADTS header at `offset`; throws BAD_MEDIA on a bad syncword or truncation. */
export function parseAdtsHeader(b: Uint8Array, offset = 0): AdtsHeader {
  if (b.length - offset < 7) throw new AirError('BAD_MEDIA', 'ADTS: truncated header');
  const o = offset;
  if (b[o] !== 0xff || (b[o + 1]! & 0xf6) !== 0xf0)
    throw new AirError('BAD_MEDIA', `ADTS: no syncword at ${o}`);
  const protectionAbsent = b[o + 1]! & 1;
  if (!protectionAbsent && b.length - offset < 9) throw new AirError('BAD_MEDIA', 'ADTS: truncated header');
  const sampleRateIndex = (b[o + 2]! >> 2) & 0x0f;
  const h: AdtsHeader = {
    mpegVersion: b[o + 1]! & 0x08 ? 2 : 4,
    objectType: (b[o + 2]! >> 6) + 1,
    sampleRateIndex,
    sampleRate: AAC_SAMPLE_RATES[sampleRateIndex] ?? 0,
    privateBit: (b[o + 2]! >> 1) & 1,
    channelConfig: ((b[o + 2]! & 1) << 2) | (b[o + 3]! >> 6),
    original: (b[o + 3]! >> 5) & 1,
    home: (b[o + 3]! >> 4) & 1,
    copyrightBit: (b[o + 3]! >> 3) & 1,
    copyrightStart: (b[o + 3]! >> 2) & 1,
    frameLength: ((b[o + 3]! & 3) << 11) | (b[o + 4]! << 3) | (b[o + 5]! >> 5),
    bufferFullness: ((b[o + 5]! & 0x1f) << 6) | (b[o + 6]! >> 2),
    rawDataBlocks: (b[o + 6]! & 3) + 1,
  };
  if (!protectionAbsent) h.crc = (b[o + 7]! << 8) | b[o + 8]!;
  if (h.frameLength < adtsHeaderLength(h))
    throw new AirError('BAD_MEDIA', `ADTS: frame length ${h.frameLength}`);
  return h;
}

/** Serialises an ADTS header (7 bytes, or 9 with `crc`). */
export function serializeAdtsHeader(h: AdtsHeader): Uint8Array {
  const out = new Uint8Array(adtsHeaderLength(h));
  if (h.objectType < 1 || h.objectType > 4)
    throw new AirError('BAD_MEDIA', `ADTS: object type ${h.objectType}`);
  if (h.frameLength > ADTS_MAX_FRAME)
    throw new AirError('BAD_MEDIA', `ADTS: frame of ${h.frameLength} bytes`);
  out[0] = 0xff;
  out[1] = 0xf0 | (h.mpegVersion === 2 ? 0x08 : 0) | (h.crc === undefined ? 1 : 0);
  out[2] =
    ((h.objectType - 1) << 6) | (h.sampleRateIndex << 2) | (h.privateBit << 1) | (h.channelConfig >> 2);
  out[3] =
    ((h.channelConfig & 3) << 6) |
    (h.original << 5) |
    (h.home << 4) |
    (h.copyrightBit << 3) |
    (h.copyrightStart << 2) |
    (h.frameLength >> 11);
  out[4] = (h.frameLength >> 3) & 0xff;
  out[5] = ((h.frameLength & 7) << 5) | (h.bufferFullness >> 6);
  out[6] = ((h.bufferFullness & 0x3f) << 2) | (h.rawDataBlocks - 1);
  if (h.crc !== undefined) {
    out[7] = h.crc >> 8;
    out[8] = h.crc & 0xff;
  }
  return out;
}

/**
 * The ADTS header for one raw AAC frame of the given config (no CRC, VBR fullness). Throws
 * BAD_MEDIA for what ADTS cannot carry: object types other than 1–4 (HE-AAC is carried as
 * its LC core, which decoders extend implicitly), explicit frequencies, oversized frames.
 */
export function adtsHeaderFor(
  frameSize: number,
  asc: Pick<AudioSpecificConfig, 'objectType' | 'sampleRateIndex' | 'channels'> & { channelConfig?: number },
): AdtsHeader {
  if (asc.sampleRateIndex > 12) throw new AirError('BAD_MEDIA', 'ADTS: needs a standard sampling frequency');
  return {
    mpegVersion: 4,
    objectType: asc.objectType,
    sampleRateIndex: asc.sampleRateIndex,
    sampleRate: AAC_SAMPLE_RATES[asc.sampleRateIndex]!,
    channelConfig: asc.channelConfig ?? (asc.channels === 0 ? 0 : channelConfigFor(asc.channels)),
    frameLength: frameSize + ADTS_HEADER_SIZE,
    bufferFullness: 0x7ff,
    rawDataBlocks: 1,
    privateBit: 0,
    original: 0,
    home: 0,
    copyrightBit: 0,
    copyrightStart: 0,
  };
}

/** Prefixes one raw AAC frame with its ADTS header. */
export function toAdts(frame: Uint8Array, asc: Parameters<typeof adtsHeaderFor>[1]): Uint8Array {
  const header = serializeAdtsHeader(adtsHeaderFor(frame.length, asc));
  const out = new Uint8Array(header.length + frame.length);
  out.set(header);
  out.set(frame, header.length);
  return out;
}

/** One frame of an ADTS stream. */
export interface AdtsFrame {
  header: AdtsHeader;
  /** The raw frame after the header (and CRC): what RTMP, MP4 and RFC 3640 carry. */
  data: Uint8Array;
}

/**
 * Splits a whole ADTS stream into frames (views into `stream`, not copies). Throws BAD_MEDIA
 * on a lost syncword or a truncated last frame. A frame with several raw data blocks is
 * returned whole (its blocks are not separated).
 */
export function splitAdts(stream: Uint8Array): AdtsFrame[] {
  const frames: AdtsFrame[] = [];
  let o = 0;
  while (o < stream.length) {
    const header = parseAdtsHeader(stream, o);
    if (o + header.frameLength > stream.length) {
      throw new AirError('BAD_MEDIA', `ADTS: frame at ${o} runs past the end (${header.frameLength} bytes)`);
    }
    frames.push({ header, data: stream.subarray(o + adtsHeaderLength(header), o + header.frameLength) });
    o += header.frameLength;
  }
  return frames;
}
