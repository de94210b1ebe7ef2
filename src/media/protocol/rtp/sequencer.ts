/**
 * Turns the payloads of one track into RTP packets: sequence numbers (16-bit, wrapping) and
 * timestamps (stream milliseconds × clock rate / 1000, 32-bit, wrapping). One instance per
 * stream track; it also counts what it sent, for RTCP sender reports.
 */
import { randomInt } from 'node:crypto';
import { RtpHeader, RtpPacket, type RtpPayload } from './packet.ts';

/** Optional starting values of an RtpSequencer. */
export interface RtpSequencerOptions {
  /** Payload type written in the headers (default 96; egress may rewrite it per viewer). */
  payloadType?: number;
  /** First sequence number (default random, as RFC 3550 §5.1 recommends). */
  sequenceNumber?: number;
  /** Added to every timestamp, in clock units (default 0). */
  timestampOffset?: number;
}

const TWO_32 = 0x1_0000_0000;

/** Assigns RTP sequence numbers and timestamps to the payloads of one track. */
export class RtpSequencer {
  readonly clockRate: number;
  readonly ssrc: number;
  payloadType: number;
  /** Packets and payload octets produced so far (RTCP SR sender's packet/octet count). */
  packetCount = 0;
  octetCount = 0;
  #seq: number;
  readonly #offset: number;

  constructor(clockRate: number, ssrc?: number, options: RtpSequencerOptions = {}) {
    if (!Number.isInteger(clockRate) || clockRate <= 0) throw new RangeError(`clock rate ${clockRate}`);
    if (ssrc !== undefined && (!Number.isInteger(ssrc) || ssrc < 0 || ssrc >= TWO_32)) {
      throw new RangeError(`SSRC ${ssrc}`);
    }
    this.clockRate = clockRate;
    this.ssrc = ssrc ?? randomInt(0, TWO_32);
    this.payloadType = options.payloadType ?? 96;
    this.#seq = (options.sequenceNumber ?? randomInt(0, 0x10000)) & 0xffff;
    this.#offset = options.timestampOffset ?? 0;
  }

  /** The sequence number the next packet will get. */
  get sequenceNumber(): number {
    return this.#seq;
  }

  /** The RTP timestamp of a time on the stream timeline (ms), wrapped to 32 bits. */
  timestamp(ms: number): number {
    const t = Math.round((ms * this.clockRate) / 1000) + this.#offset;
    return ((t % TWO_32) + TWO_32) % TWO_32;
  }

  /** Makes packets of one access unit's payloads; they all share the timestamp of `timestampMs`. */
  next(payloads: readonly RtpPayload[], timestampMs: number): RtpPacket[] {
    const timestamp = this.timestamp(timestampMs);
    const out: RtpPacket[] = [];
    for (const { payload, marker } of payloads) {
      const header = new RtpHeader({
        payloadType: this.payloadType,
        sequenceNumber: this.#seq,
        timestamp,
        ssrc: this.ssrc,
        marker,
      });
      out.push(new RtpPacket(header, payload));
      this.#seq = (this.#seq + 1) & 0xffff;
      this.packetCount++;
      this.octetCount += payload.length;
    }
    return out;
  }
}
