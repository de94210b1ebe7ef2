/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1): the H.264 decoder configuration
 * carried by MP4 `avcC` boxes and by FLV/RTMP "AVC sequence header" tags.
 */
import { AirError } from '../../../shared/errors.ts';
import { parseSps } from './sps.ts';

/** Fields of the high-profile trailer (every profile_idc but 66, 77 and 88). */
export interface AvcHighProfileExt {
  /** chroma_format_idc, 0–3. */
  chromaFormat: number;
  /** bit_depth_luma_minus8, 0–7. */
  bitDepthLumaMinus8: number;
  /** bit_depth_chroma_minus8, 0–7. */
  bitDepthChromaMinus8: number;
  /** SPS extension NAL units. */
  spsExt: Uint8Array[];
}

/** Constructor fields of an AvcDecoderConfig. */
export interface AvcDecoderConfigInit {
  profile: number;
  compat: number;
  level: number;
  lengthSize?: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  ext?: AvcHighProfileExt;
}

/** Profiles without the trailer: baseline, main, extended (ISO/IEC 14496-15:2014 and ffmpeg). */
const hasExt = (profile: number): boolean => profile !== 66 && profile !== 77 && profile !== 88;

function bad(what: string): never {
  throw new AirError('BAD_MEDIA', `avcC: ${what}`);
}

/**
 * ```
 *  configurationVersion = 1        (8)
 *  AVCProfileIndication            (8)
 *  profile_compatibility           (8)
 *  AVCLevelIndication              (8)
 *  '111111'b (6) | lengthSizeMinusOne (2)
 *  '111'b (3)    | numOfSequenceParameterSets (5)
 *  { sequenceParameterSetLength (16), sequenceParameterSetNALUnit } × n
 *  numOfPictureParameterSets       (8)
 *  { pictureParameterSetLength (16), pictureParameterSetNALUnit } × n
 *  if profile_idc not in (66, 77, 88) and bytes remain (the 2004 edition said 100/110/122/144):
 *    '111111'b (6) | chroma_format (2)
 *    '11111'b (5)  | bit_depth_luma_minus8 (3)
 *    '11111'b (5)  | bit_depth_chroma_minus8 (3)
 *    numOfSequenceParameterSetExt  (8)
 *    { sequenceParameterSetExtLength (16), sequenceParameterSetExtNALUnit } × n
 * ```
 * Parameter sets are NAL units without start codes. Unknown bytes after the record are ignored.
 */
export class AvcDecoderConfig {
  /** AVCProfileIndication (profile_idc). */
  profile: number;
  /** profile_compatibility (the SPS constraint byte). */
  compat: number;
  /** AVCLevelIndication (level_idc). */
  level: number;
  /** Size of the NAL length prefixes in samples: 1, 2 or 4. */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  /** The high-profile trailer, when the record has one. */
  ext: AvcHighProfileExt | undefined;

  constructor(init: AvcDecoderConfigInit) {
    this.profile = init.profile;
    this.compat = init.compat;
    this.level = init.level;
    this.lengthSize = init.lengthSize ?? 4;
    this.sps = init.sps;
    this.pps = init.pps;
    this.ext = init.ext;
  }

  /**
   * Builds a record from an SPS and PPS, taking profile/compat/level from the SPS and adding the
   * high-profile trailer (as ffmpeg does) when the profile calls for it.
   */
  static fromParameterSets(sps: Uint8Array, pps: Uint8Array, lengthSize = 4): AvcDecoderConfig {
    const info = parseSps(sps);
    return new AvcDecoderConfig({
      profile: info.profile,
      compat: info.constraints,
      level: info.level,
      lengthSize,
      sps: [sps],
      pps: [pps],
      ext: hasExt(info.profile)
        ? {
            chromaFormat: info.chromaFormatIdc,
            bitDepthLumaMinus8: info.bitDepthLuma - 8,
            bitDepthChromaMinus8: info.bitDepthChroma - 8,
            spsExt: [],
          }
        : undefined,
    });
  }

  /** Parses a record. Throws BAD_MEDIA when it is truncated or not version 1. */
  static parse(b: Uint8Array): AvcDecoderConfig {
    if (b.length < 7) bad(`${b.length} bytes is too short`);
    if (b[0] !== 1) bad(`configurationVersion ${b[0]}`);
    let p = 5;
    const readSets = (count: number, what: string): Uint8Array[] => {
      const sets: Uint8Array[] = [];
      for (let i = 0; i < count; i++) {
        if (p + 2 > b.length) bad(`truncated ${what} length`);
        const len = (b[p]! << 8) | b[p + 1]!;
        p += 2;
        if (len === 0 || p + len > b.length) bad(`${what} of ${len} bytes overruns the record`);
        sets.push(b.slice(p, p + len));
        p += len;
      }
      return sets;
    };
    const sps = readSets(b[p++]! & 0x1f, 'SPS');
    if (p >= b.length) bad('missing PPS count');
    const pps = readSets(b[p++]!, 'PPS');
    const profile = b[1]!;
    let ext: AvcHighProfileExt | undefined;
    if (hasExt(profile) && p + 4 <= b.length) {
      const chromaFormat = b[p]! & 0x03;
      const bitDepthLumaMinus8 = b[p + 1]! & 0x07;
      const bitDepthChromaMinus8 = b[p + 2]! & 0x07;
      const count = b[p + 3]!;
      p += 4;
      ext = {
        chromaFormat,
        bitDepthLumaMinus8,
        bitDepthChromaMinus8,
        spsExt: readSets(count, 'SPS extension'),
      };
    }
    const lengthSize = (b[4]! & 0x03) + 1;
    if (lengthSize === 3) bad('lengthSizeMinusOne 2');
    return new AvcDecoderConfig({
      profile,
      compat: b[2]!,
      level: b[3]!,
      lengthSize,
      sps,
      pps,
      ext,
    });
  }

  /** Serialises the record (reserved bits set to 1, as the standard says). */
  serialize(): Uint8Array {
    if (this.lengthSize !== 1 && this.lengthSize !== 2 && this.lengthSize !== 4) {
      bad(`lengthSize ${this.lengthSize}`);
    }
    if (this.sps.length > 31 || this.pps.length > 255) bad('too many parameter sets');
    const ext = this.ext;
    if (ext && ext.spsExt.length > 255) bad('too many SPS extensions');
    const sets = [...this.sps, ...this.pps, ...(ext?.spsExt ?? [])];
    let size = 7 + (ext ? 4 : 0);
    for (const s of sets) {
      if (s.length === 0 || s.length > 0xffff) bad(`parameter set of ${s.length} bytes`);
      size += 2 + s.length;
    }
    const out = new Uint8Array(size);
    out.set([1, this.profile, this.compat, this.level, 0xfc | (this.lengthSize - 1)]);
    let p = 5;
    const writeSets = (list: Uint8Array[]): void => {
      for (const s of list) {
        out[p] = s.length >> 8;
        out[p + 1] = s.length & 0xff;
        out.set(s, p + 2);
        p += 2 + s.length;
      }
    };
    out[p++] = 0xe0 | this.sps.length;
    writeSets(this.sps);
    out[p++] = this.pps.length;
    writeSets(this.pps);
    if (ext) {
      out[p++] = 0xfc | (ext.chromaFormat & 0x03);
      out[p++] = 0xf8 | (ext.bitDepthLumaMinus8 & 0x07);
      out[p++] = 0xf8 | (ext.bitDepthChromaMinus8 & 0x07);
      out[p++] = ext.spsExt.length;
      writeSets(ext.spsExt);
    }
    return out;
  }
}
