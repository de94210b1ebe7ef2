/**
 * H.264 over RTP, RFC 6184 packetization-mode 1 (non-interleaved): single NAL unit packets,
 * STAP-A aggregation and FU-A fragmentation.
 *
 * ```
 * STAP-A (§5.7.1)                           FU-A (§5.8)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   +---------------+---------------+
 * |F|NRI|  24     | NALU 1 size (16)    |   |F|NRI|  28     |S|E|R| Type    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   +---------------+---------------+
 * | NALU 1 (header byte first) ...      |   | FU payload: NAL unit bytes    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   | after its header byte ...     |
 * | NALU 2 size (16) | NALU 2 ...       |   +-------------------------------+
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
import { AirError } from '../../../shared/errors.ts';
import { isKeyframe, nalType, NalType } from '../h264/nal.ts';
import type { RtpPayload } from './packet.ts';

export type { RtpPayload };

/** Packetizer options. */
export interface PacketizeOptions {
  /**
   * Aggregate consecutive NAL units that fit (SPS + PPS + SEI + small slices) into STAP-A
   * packets, greedily, as ffmpeg does. Off by default: single NAL units and FU-A only.
   */
  stapA?: boolean;
}

function bad(what: string): never {
  throw new AirError('BAD_MEDIA', `H.264/RTP: ${what}`);
}

/**
 * Packetizes one access unit (NAL units without start codes). `mtu` is the largest RTP payload
 * in bytes (RTP header not included; ffmpeg's `-pkt_size 1200` is mtu 1188). NAL units larger
 * than `mtu` become FU-A fragments; AUD NAL units are dropped; the marker is set on the last
 * packet. Single-NAL payloads share memory with the input.
 */
export function packetizeH264(
  nalus: readonly Uint8Array[],
  mtu = 1200,
  options: PacketizeOptions = {},
): RtpPayload[] {
  if (!Number.isInteger(mtu) || mtu < 16) bad(`mtu ${mtu}`);
  const out: RtpPayload[] = [];
  let agg: Uint8Array[] = [];
  let aggSize = 1;
  const flush = (): void => {
    if (agg.length === 1) out.push({ payload: agg[0]!, marker: false });
    if (agg.length > 1) out.push({ payload: stapA(agg, aggSize), marker: false });
    agg = [];
    aggSize = 1;
  };
  for (const nal of nalus) {
    if (nalType(nal) === NalType.AUD) continue;
    if (nal.length > mtu) {
      flush();
      fragment(nal, mtu, out);
    } else if (options.stapA && 3 + nal.length <= mtu && nal.length <= 0xffff) {
      if (aggSize + 2 + nal.length > mtu) flush();
      agg.push(nal);
      aggSize += 2 + nal.length;
    } else {
      flush();
      out.push({ payload: nal, marker: false });
    }
  }
  flush();
  const last = out[out.length - 1];
  if (last) last.marker = true;
  return out;
}

function stapA(nalus: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let f = 0;
  let nri = 0;
  let p = 1;
  for (const nal of nalus) {
    f |= nal[0]! & 0x80;
    nri = Math.max(nri, nal[0]! & 0x60);
    out[p] = nal.length >> 8;
    out[p + 1] = nal.length & 0xff;
    out.set(nal, p + 2);
    p += 2 + nal.length;
  }
  out[0] = f | nri | NalType.STAP_A;
  return out;
}

function fragment(nal: Uint8Array, mtu: number, out: RtpPayload[]): void {
  const indicator = (nal[0]! & 0xe0) | NalType.FU_A;
  const type = nal[0]! & 0x1f;
  const chunk = mtu - 2;
  for (let p = 1; p < nal.length; p += chunk) {
    const end = Math.min(p + chunk, nal.length);
    const payload = new Uint8Array(2 + end - p);
    payload[0] = indicator;
    payload[1] = (p === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    payload.set(nal.subarray(p, end), 2);
    out.push({ payload, marker: false });
  }
}

/** What H264Depacketizer.process takes: an RtpPacket fits. */
export interface H264RtpInput {
  payload: Uint8Array;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
}

/** One reassembled access unit; `timestamp` is the RTP timestamp (90 kHz). */
export interface H264AccessUnit {
  nalus: Uint8Array[];
  timestamp: number;
  key: boolean;
}

/** Depacketizer options. */
export interface H264DepacketizerOptions {
  /** Emit nothing until the first keyframe (default true). */
  waitForKeyframe?: boolean;
  /** Largest access unit accepted, bytes (default 8 MiB). */
  maxAccessUnitSize?: number;
}

/**
 * Reassembles RFC 6184 packets (single NAL, STAP-A, FU-A) into access units, at the marker
 * bit or at a timestamp change. A sequence gap drops the broken access unit (every packet
 * with its timestamp) and then everything up to the next keyframe; duplicates and late
 * packets are ignored. Malformed payloads throw BAD_MEDIA after the same reset, so a caller
 * that logs and continues stays consistent. Returned NAL units own their bytes.
 */
export class H264Depacketizer {
  /** Access units dropped because of loss, malformed input or while waiting for a keyframe. */
  droppedAccessUnits = 0;
  readonly #maxSize: number;
  #waitKey: boolean;
  #lastSeq: number | undefined;
  #timestamp = 0;
  #nalus: Uint8Array[] = [];
  #size = 0;
  #brokenTs: number | undefined;
  #fu = new Uint8Array(0);
  #fuLen = -1; // -1: no fragmented NAL unit in progress

  constructor(options: H264DepacketizerOptions = {}) {
    this.#waitKey = options.waitForKeyframe ?? true;
    this.#maxSize = options.maxAccessUnitSize ?? 8 * 1024 * 1024;
  }

  /** True while output is held back until a keyframe (the caller may send a PLI). */
  get needKeyframe(): boolean {
    return this.#waitKey;
  }

  /** Feeds one RTP packet; returns the access units it completes (zero, one or two). */
  process(pkt: H264RtpInput): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    if (this.#lastSeq !== undefined) {
      const d = (pkt.sequenceNumber - this.#lastSeq) & 0xffff;
      if (d === 0 || d >= 0x8000) return out; // duplicate or late
      if (d !== 1) this.#broken(pkt.timestamp);
    }
    this.#lastSeq = pkt.sequenceNumber;
    if (pkt.timestamp !== this.#timestamp && (this.#nalus.length > 0 || this.#fuLen >= 0)) {
      if (this.#fuLen >= 0) this.#broken(undefined);
      else this.#emit(out);
    }
    if (this.#brokenTs !== undefined) {
      if (pkt.timestamp === this.#brokenTs) return out;
      this.#brokenTs = undefined;
    }
    this.#timestamp = pkt.timestamp;
    try {
      this.#payload(pkt.payload);
      if (this.#size > this.#maxSize) bad(`access unit larger than ${this.#maxSize} bytes`);
    } catch (e) {
      this.#broken(pkt.timestamp);
      throw e;
    }
    if (pkt.marker) {
      if (this.#fuLen >= 0) this.#broken(undefined);
      else this.#emit(out);
    }
    return out;
  }

  #payload(p: Uint8Array): void {
    if (p.length === 0) bad('empty payload');
    const type = p[0]! & 0x1f;
    if (type >= 1 && type <= 23) {
      if (this.#fuLen >= 0) bad('NAL unit inside a fragmented NAL unit');
      this.#push(p.slice());
    } else if (type === NalType.STAP_A) {
      if (this.#fuLen >= 0) bad('STAP-A inside a fragmented NAL unit');
      for (let i = 1; i < p.length;) {
        if (i + 2 > p.length) bad('truncated STAP-A size');
        const len = (p[i]! << 8) | p[i + 1]!;
        i += 2;
        if (len === 0 || i + len > p.length) bad(`STAP-A NAL unit of ${len} bytes overruns the packet`);
        this.#push(p.slice(i, i + len));
        i += len;
      }
    } else if (type === NalType.FU_A) {
      if (p.length < 3) bad('truncated FU-A');
      const start = (p[1]! & 0x80) !== 0;
      if (start) {
        if (this.#fuLen >= 0) bad('FU-A start inside a fragmented NAL unit');
        this.#fuLen = 0;
        this.#append(Uint8Array.of((p[0]! & 0xe0) | (p[1]! & 0x1f)));
      } else if (this.#fuLen < 0) {
        bad('FU-A continuation without a start');
      }
      this.#append(p.subarray(2));
      if (p[1]! & 0x40) {
        const nal = this.#fu.slice(0, this.#fuLen);
        this.#fuLen = -1;
        this.#push(nal);
      }
    } else {
      bad(`payload type ${type} is not allowed in packetization-mode 1`);
    }
  }

  #append(b: Uint8Array): void {
    const need = this.#fuLen + b.length;
    if (this.#size + need > this.#maxSize) bad(`access unit larger than ${this.#maxSize} bytes`);
    if (need > this.#fu.length) {
      const grown = new Uint8Array(Math.max(need, this.#fu.length * 2, 4096));
      grown.set(this.#fu.subarray(0, this.#fuLen));
      this.#fu = grown;
    }
    this.#fu.set(b, this.#fuLen);
    this.#fuLen = need;
  }

  #push(nal: Uint8Array): void {
    this.#nalus.push(nal);
    this.#size += nal.length;
  }

  #emit(out: H264AccessUnit[]): void {
    const nalus = this.#nalus;
    this.#nalus = [];
    this.#size = 0;
    if (nalus.length === 0) return;
    const key = isKeyframe(nalus);
    if (this.#waitKey && !key) {
      this.droppedAccessUnits++;
      return;
    }
    this.#waitKey = false;
    out.push({ nalus, timestamp: this.#timestamp, key });
  }

  /**
   * Drops the access unit in progress and, when `timestamp` is given, every packet with that
   * timestamp; then waits for a keyframe. Each dropped access unit is counted once.
   */
  #broken(timestamp: number | undefined): void {
    const partial = this.#nalus.length > 0 || this.#fuLen >= 0;
    if (partial && timestamp !== this.#timestamp) this.droppedAccessUnits++;
    this.#nalus = [];
    this.#size = 0;
    this.#fuLen = -1;
    this.#waitKey = true;
    if (timestamp !== undefined && timestamp !== this.#brokenTs) {
      this.droppedAccessUnits++;
      this.#brokenTs = timestamp;
    }
  }
}
