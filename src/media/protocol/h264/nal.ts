/**
 * H.264 NAL units (ITU-T H.264 §7.3.1) and their two framings: Annex B byte streams (start
 * codes) and AVCC / ISO 14496-15 (length prefixes). NAL units are passed around without start
 * codes or length prefixes, header byte first:
 *
 *   +---------------+
 *   |0|1|2|3|4|5|6|7|
 *   +-+-+-+-+-+-+-+-+
 *   |F|NRI|  Type   |
 *   +---------------+
 */
import { AirError } from '../../../shared/errors.ts';

/** nal_unit_type values (H.264 Table 7-1) and the RTP aggregation/fragmentation types of RFC 6184. */
export const NalType = {
  SLICE: 1,
  DPA: 2,
  DPB: 3,
  DPC: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  /** RFC 6184 single-time aggregation packet. */
  STAP_A: 24,
  STAP_B: 25,
  MTAP16: 26,
  MTAP24: 27,
  /** RFC 6184 fragmentation unit. */
  FU_A: 28,
  FU_B: 29,
} as const;

/** Non-IDR coded slice. */
export const NAL_SLICE = NalType.SLICE;
/** IDR coded slice: starts a GOP. */
export const NAL_IDR = NalType.IDR;
/** Supplemental enhancement information. */
export const NAL_SEI = NalType.SEI;
/** Sequence parameter set. */
export const NAL_SPS = NalType.SPS;
/** Picture parameter set. */
export const NAL_PPS = NalType.PPS;
/** Access unit delimiter. */
export const NAL_AUD = NalType.AUD;
/** Filler data. */
export const NAL_FILLER = NalType.FILLER;

/** The nal_unit_type (low 5 bits of the header byte). Throws BAD_MEDIA on an empty NAL unit. */
export function nalType(nal: Uint8Array): number {
  if (nal.length === 0) throw new AirError('BAD_MEDIA', 'H.264: empty NAL unit');
  return nal[0]! & 0x1f;
}

/**
 * Splits an Annex B byte stream at its 3- and 4-byte start codes. Returns subarrays of `b`
 * without start codes and without trailing zero bytes; empty NAL units are skipped. Only zero
 * bytes may precede the first start code.
 */
export function splitAnnexB(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = b.length;
  let begin = -1; // start of the current NAL unit's payload
  let i = 2;
  while (i < n) {
    const c = b[i]!;
    if (c > 1) {
      i += 3;
    } else if (c === 0) {
      i += 1;
    } else if (b[i - 1] === 0 && b[i - 2] === 0) {
      if (begin < 0) {
        for (let k = 0; k < i - 2; k++) {
          if (b[k] !== 0) throw new AirError('BAD_MEDIA', 'H.264: data before the first start code');
        }
      } else {
        pushTrimmed(out, b, begin, i - 2);
      }
      begin = i + 1;
      i += 3;
    } else {
      i += 3;
    }
  }
  if (begin < 0) {
    if (b.some((x) => x !== 0)) throw new AirError('BAD_MEDIA', 'H.264: no Annex B start code');
    return out;
  }
  pushTrimmed(out, b, begin, n);
  return out;
}

function pushTrimmed(out: Uint8Array[], b: Uint8Array, begin: number, end: number): void {
  while (end > begin && b[end - 1] === 0) end--;
  if (end > begin) out.push(b.subarray(begin, end));
}

/** Joins NAL units into an Annex B byte stream with 4-byte start codes. */
export function toAnnexB(nalus: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const nal of nalus) size += 4 + nal.length;
  const out = new Uint8Array(size);
  let p = 0;
  for (const nal of nalus) {
    out[p + 3] = 1;
    out.set(nal, p + 4);
    p += 4 + nal.length;
  }
  return out;
}

function checkLengthSize(lengthSize: number): void {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new AirError('BAD_MEDIA', `H.264: NAL length size ${lengthSize} (must be 1, 2 or 4)`);
  }
}

/**
 * Splits AVCC data (each NAL unit preceded by a big-endian length of `lengthSize` bytes, as in
 * MP4 samples and FLV video tags). Returns subarrays of `b`; zero-length entries are skipped.
 * Throws BAD_MEDIA when a length runs past the end.
 */
export function splitAvcc(b: Uint8Array, lengthSize: number): Uint8Array[] {
  checkLengthSize(lengthSize);
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < b.length) {
    if (p + lengthSize > b.length) throw new AirError('BAD_MEDIA', 'H.264: truncated AVCC length');
    let len = 0;
    for (let k = 0; k < lengthSize; k++) len = len * 256 + b[p + k]!;
    p += lengthSize;
    if (len > b.length - p) {
      throw new AirError('BAD_MEDIA', `H.264: AVCC NAL length ${len} exceeds the ${b.length - p} bytes left`);
    }
    if (len > 0) out.push(b.subarray(p, p + len));
    p += len;
  }
  return out;
}

/** Joins NAL units with big-endian length prefixes of `lengthSize` (1, 2 or 4) bytes. */
export function toAvcc(nalus: readonly Uint8Array[], lengthSize = 4): Uint8Array {
  checkLengthSize(lengthSize);
  const max = 2 ** (8 * lengthSize) - 1;
  let size = 0;
  for (const nal of nalus) {
    if (nal.length > max) {
      throw new AirError(
        'BAD_MEDIA',
        `H.264: NAL of ${nal.length} bytes does not fit a ${lengthSize}-byte length`,
      );
    }
    size += lengthSize + nal.length;
  }
  const out = new Uint8Array(size);
  let p = 0;
  for (const nal of nalus) {
    let len = nal.length;
    for (let k = lengthSize - 1; k >= 0; k--) {
      out[p + k] = len & 0xff;
      len = Math.floor(len / 256);
    }
    out.set(nal, p + lengthSize);
    p += lengthSize + nal.length;
  }
  return out;
}

/**
 * True when the access unit starts a GOP: it holds an IDR slice or an SPS in band. (x264
 * zerolatency splits a frame into several slices, so every NAL unit is looked at.)
 */
export function isKeyframe(nalus: readonly Uint8Array[]): boolean {
  for (const nal of nalus) {
    const t = nal.length > 0 ? nal[0]! & 0x1f : 0;
    if (t === NAL_IDR || t === NAL_SPS) return true;
  }
  return false;
}

/**
 * The NAL units of a frame with SPS and PPS put in front of an IDR that lacks them: RTMP (FLV)
 * and SDP carry them out of band, but a WebRTC or RTSP receiver joining at this keyframe needs
 * them in band.
 */
export function withParameterSets(
  nalus: readonly Uint8Array[],
  sps: Uint8Array | undefined,
  pps: Uint8Array | undefined,
): readonly Uint8Array[] {
  if (
    !sps ||
    !pps ||
    !nalus.some((n) => nalType(n) === NAL_IDR) ||
    nalus.some((n) => nalType(n) === NAL_SPS)
  ) {
    return nalus;
  }
  return [sps, pps, ...nalus];
}
