/**
 * RTCP (RFC 3550, 4585, REMB draft) as the egress needs it: read what viewers send (receiver
 * reports, NACK, PLI, REMB) and write sender reports. Pure functions over bytes.
 */

/** One report block of an SR or RR. */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0–255 (/256). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24 bits). */
  packetsLost: number;
  highestSeq: number;
  jitter: number;
  /** Middle 32 bits of the NTP time of the last SR received. */
  lsr: number;
  /** Delay since that SR, 1/65536 s. */
  dlsr: number;
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      ntpSec: number;
      ntpFrac: number;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: ReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'nack'; ssrc: number; mediaSsrc: number; lost: number[] }
  | { type: 'pli'; ssrc: number; mediaSsrc: number }
  | { type: 'remb'; ssrc: number; bitrate: number; ssrcs: number[] }
  | { type: 'other'; pt: number; fmt: number };

const PT_SR = 200;
const PT_RR = 201;
const PT_RTPFB = 205;
const PT_PSFB = 206;

/** True when a datagram demultiplexed on an RTP/RTCP-muxed port is RTCP (RFC 5761 §4). */
export function isRtcp(b: Uint8Array): boolean {
  return b.length >= 8 && b[1]! >= 192 && b[1]! <= 223;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function blocks(b: Uint8Array, o: number, n: number, end: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0; i < n && o + 24 <= end; i++, o += 24) {
    const lost = (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
    out.push({
      ssrc: u32(b, o),
      fractionLost: b[o + 4]!,
      packetsLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSeq: u32(b, o + 8),
      jitter: u32(b, o + 12),
      lsr: u32(b, o + 16),
      dlsr: u32(b, o + 20),
    });
  }
  return out;
}

/**
 * The packets of a compound RTCP datagram (decrypted). Stops at the first malformed header;
 * what was read before it is returned (a viewer's bad RTCP never throws).
 */
export function parseRtcp(b: Uint8Array): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let o = 0;
  while (o + 4 <= b.length) {
    const v = b[o]! >> 6;
    const count = b[o]! & 0x1f;
    const pt = b[o + 1]!;
    const len = (u16(b, o + 2) + 1) * 4;
    const end = o + len;
    if (v !== 2 || end > b.length || len < 8) break;
    const ssrc = u32(b, o + 4);
    if (pt === PT_SR && len >= 28) {
      out.push({
        type: 'sr',
        ssrc,
        ntpSec: u32(b, o + 8),
        ntpFrac: u32(b, o + 12),
        rtpTimestamp: u32(b, o + 16),
        packetCount: u32(b, o + 20),
        octetCount: u32(b, o + 24),
        reports: blocks(b, o + 28, count, end),
      });
    } else if (pt === PT_RR) {
      out.push({ type: 'rr', ssrc, reports: blocks(b, o + 8, count, end) });
    } else if (pt === PT_RTPFB && count === 1 && len >= 12) {
      const lost: number[] = [];
      for (let p = o + 12; p + 4 <= end; p += 4) {
        const pid = u16(b, p);
        const blp = u16(b, p + 2);
        lost.push(pid);
        for (let i = 0; i < 16; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
      }
      out.push({ type: 'nack', ssrc, mediaSsrc: u32(b, o + 8), lost });
    } else if (pt === PT_PSFB && count === 1 && len >= 12) {
      out.push({ type: 'pli', ssrc, mediaSsrc: u32(b, o + 8) });
    } else if (pt === PT_PSFB && count === 15 && len >= 20 && u32(b, o + 12) === 0x52454d42) {
      const n = b[o + 16]!;
      const exp = b[o + 17]! >> 2;
      const mantissa = ((b[o + 17]! & 3) << 16) | u16(b, o + 18);
      const ssrcs: number[] = [];
      for (let i = 0, p = o + 20; i < n && p + 4 <= end; i++, p += 4) ssrcs.push(u32(b, p));
      out.push({ type: 'remb', ssrc, bitrate: mantissa * 2 ** exp, ssrcs });
    } else {
      out.push({ type: 'other', pt, fmt: count });
    }
    o = end;
  }
  return out;
}

const NTP_EPOCH_OFFSET = 2_208_988_800;

/** NTP time (seconds and 2^-32 fraction) of a wall-clock time in Unix milliseconds. */
export function ntpOf(unixMs: number): { sec: number; frac: number } {
  const s = Math.floor(unixMs / 1000);
  const frac = Math.floor(((unixMs - s * 1000) / 1000) * 0x1_0000_0000);
  return { sec: (s + NTP_EPOCH_OFFSET) >>> 0, frac: Math.min(frac, 0xffff_ffff) >>> 0 };
}

/** The middle 32 bits of an NTP time, as RR's LSR field carries it. */
export function ntpMiddle(sec: number, frac: number): number {
  return (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;
}

/** Writes a sender report without report blocks (28 bytes) into `out` at 0; returns 28. */
export function writeSenderReport(
  out: Uint8Array,
  sr: { ssrc: number; unixMs: number; rtpTimestamp: number; packetCount: number; octetCount: number },
): number {
  const dv = new DataView(out.buffer, out.byteOffset, 28);
  const ntp = ntpOf(sr.unixMs);
  dv.setUint8(0, 0x80);
  dv.setUint8(1, PT_SR);
  dv.setUint16(2, 6);
  dv.setUint32(4, sr.ssrc >>> 0);
  dv.setUint32(8, ntp.sec);
  dv.setUint32(12, ntp.frac);
  dv.setUint32(16, sr.rtpTimestamp >>> 0);
  dv.setUint32(20, sr.packetCount >>> 0);
  dv.setUint32(24, sr.octetCount >>> 0);
  return 28;
}

/** Serialises feedback a receiver sends (for tests and load generators). */
export function serializeFeedback(
  p: Extract<RtcpPacket, { type: 'rr' | 'nack' | 'pli' | 'remb' }>,
): Uint8Array {
  const words: number[] = [];
  let first: number;
  let pt: number;
  if (p.type === 'rr') {
    first = 0x80 | p.reports.length;
    pt = PT_RR;
    words.push(p.ssrc);
    for (const r of p.reports) {
      words.push(
        r.ssrc,
        ((r.fractionLost & 0xff) << 24) | (r.packetsLost & 0xffffff),
        r.highestSeq,
        r.jitter,
        r.lsr,
        r.dlsr,
      );
    }
  } else if (p.type === 'nack') {
    first = 0x81;
    pt = PT_RTPFB;
    words.push(p.ssrc, p.mediaSsrc);
    const lost = [...new Set(p.lost)];
    while (lost.length) {
      const pid = lost.shift()!;
      let blp = 0;
      for (let i = lost.length - 1; i >= 0; i--) {
        const d = (lost[i]! - pid - 1) & 0xffff;
        if (d < 16) {
          blp |= 1 << d;
          lost.splice(i, 1);
        }
      }
      words.push(((pid & 0xffff) << 16) | blp);
    }
  } else if (p.type === 'pli') {
    first = 0x81;
    pt = PT_PSFB;
    words.push(p.ssrc, p.mediaSsrc);
  } else {
    first = 0x8f;
    pt = PT_PSFB;
    let exp = 0;
    let m = Math.floor(p.bitrate);
    while (m >= 1 << 18) {
      m = Math.floor(m / 2);
      exp++;
    }
    words.push(p.ssrc, 0, 0x52454d42, ((p.ssrcs.length & 0xff) << 24) | (exp << 18) | m, ...p.ssrcs);
  }
  const out = new Uint8Array(4 + words.length * 4);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, first);
  dv.setUint8(1, pt);
  dv.setUint16(2, words.length);
  words.forEach((w, i) => dv.setUint32(4 + i * 4, w >>> 0));
  return out;
}
