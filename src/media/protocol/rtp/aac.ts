/**
 * AAC over RTP, RFC 3640 `mpeg4-generic` in mode AAC-hbr (sizelength 13, indexlength 3,
 * indexdeltalength 3, no CTS/DTS): the payload is an AU header section, then the access units.
 *
 * ```
 * +---------+-----------+-----------+---------------+
 * | AU-headers-length   | AU-header | AU-header |..| AU(1) | AU(2) | ...
 * | (16 bits, in bits)  | (16)      | (16)      |  |       |       |
 * +---------+-----------+-----------+---------------+
 * AU-header: | AU-size (13 bits) | AU-Index / AU-Index-delta (3 bits) |
 * ```
 *
 * An AU larger than a packet is fragmented (§3.2.3): each fragment carries one AU-header with
 * the size of the whole AU, and only the last has the marker bit.
 */
import { AirError } from '../../../shared/errors.ts';
import type { RtpPayload } from './packet.ts';

/** The largest AU-size 13 bits can express. */
export const AAC_MAX_AU_SIZE = 0x1fff;

function bad(what: string): never {
  throw new AirError('BAD_MEDIA', `AAC/RTP: ${what}`);
}

function headerSection(sizes: readonly number[], dataLength: number): Uint8Array {
  const out = new Uint8Array(2 + 2 * sizes.length + dataLength);
  const bits = 16 * sizes.length;
  out[0] = bits >> 8;
  out[1] = bits & 0xff;
  sizes.forEach((s, i) => {
    out[2 + 2 * i] = s >> 5;
    out[3 + 2 * i] = (s & 0x1f) << 3; // AU-Index(-delta) 0: consecutive AUs
  });
  return out;
}

/**
 * Packetizes consecutive raw AAC frames (no ADTS header). Frames are aggregated while they
 * fit in `mtu` bytes of payload; each aggregate has the marker set. A frame that does not fit
 * alone is fragmented with the marker on its last fragment only. Throws BAD_MEDIA on an empty
 * frame, one larger than 8191 bytes, or an mtu below 16.
 */
export function packetizeAac(frames: readonly Uint8Array[], mtu = 1200): RtpPayload[] {
  if (!Number.isInteger(mtu) || mtu < 16) bad(`mtu ${mtu}`);
  const out: RtpPayload[] = [];
  let group: Uint8Array[] = [];
  let size = 2;
  const flush = (): void => {
    if (group.length === 0) return;
    const payload = headerSection(
      group.map((f) => f.length),
      size - 2 - 2 * group.length,
    );
    let p = 2 + 2 * group.length;
    for (const f of group) {
      payload.set(f, p);
      p += f.length;
    }
    out.push({ payload, marker: true });
    group = [];
    size = 2;
  };
  for (const f of frames) {
    if (f.length === 0) bad('empty frame');
    if (f.length > AAC_MAX_AU_SIZE) bad(`frame of ${f.length} bytes (at most ${AAC_MAX_AU_SIZE})`);
    if (4 + f.length > mtu) {
      flush();
      const chunk = mtu - 4;
      for (let p = 0; p < f.length; p += chunk) {
        const end = Math.min(p + chunk, f.length);
        const payload = headerSection([f.length], end - p);
        payload.set(f.subarray(p, end), 4);
        out.push({ payload, marker: end === f.length });
      }
      continue;
    }
    if (size + 2 + f.length > mtu) flush();
    group.push(f);
    size += 2 + f.length;
  }
  flush();
  return out;
}

/** What AacDepacketizer.process takes: an RtpPacket fits. */
export interface AacRtpInput {
  payload: Uint8Array;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
}

/** One AAC frame; `timestamp` is in the RTP clock (the sampling rate). */
export interface AacFrame {
  timestamp: number;
  frame: Uint8Array;
}

/** Depacketizer options. */
export interface AacDepacketizerOptions {
  /** Samples per AAC frame, the timestamp step between AUs of one packet (default 1024). */
  samplesPerFrame?: number;
}

/**
 * Reads RFC 3640 AAC-hbr packets back into frames. The AUs of one packet get the timestamps
 * ts, ts + samplesPerFrame … (by AU index); fragments are reassembled. A sequence gap drops the
 * fragmented AU in progress (and the rest of a fragmented AU whose start was lost); duplicates
 * and late packets are ignored. Malformed payloads throw BAD_MEDIA after a reset. Returned
 * frames own their bytes.
 */
export class AacDepacketizer {
  /** AUs dropped because of loss or malformed input. */
  droppedFrames = 0;
  readonly #spf: number;
  #lastSeq: number | undefined;
  /** The fragmented AU in progress. */
  #frag: { timestamp: number; data: Uint8Array; received: number } | undefined;
  /** Timestamp of a fragmented AU being skipped after loss. */
  #skipTs: number | undefined;

  constructor(options: AacDepacketizerOptions = {}) {
    this.#spf = options.samplesPerFrame ?? 1024;
  }

  /** Feeds one RTP packet; returns the frames it completes. */
  process(pkt: AacRtpInput): AacFrame[] {
    let gap = false;
    if (this.#lastSeq !== undefined) {
      const d = (pkt.sequenceNumber - this.#lastSeq) & 0xffff;
      if (d === 0 || d >= 0x8000) return [];
      gap = d !== 1;
    }
    this.#lastSeq = pkt.sequenceNumber;
    if (gap && this.#frag) {
      this.#skipTs = this.#frag.timestamp;
      this.#frag = undefined;
      this.droppedFrames++;
    }
    if (this.#skipTs !== undefined) {
      if (pkt.timestamp === this.#skipTs) return [];
      this.#skipTs = undefined;
    }
    try {
      return this.#payload(pkt, gap);
    } catch (e) {
      if (this.#frag) this.droppedFrames++;
      this.#frag = undefined;
      throw e;
    }
  }

  #payload(pkt: AacRtpInput, gap: boolean): AacFrame[] {
    const p = pkt.payload;
    if (p.length < 4) bad(`payload of ${p.length} bytes`);
    const bits = (p[0]! << 8) | p[1]!;
    if (bits === 0 || bits % 16 !== 0) bad(`AU-headers-length of ${bits} bits (AAC-hbr: 16 per AU)`);
    const n = bits / 16;
    let data = 2 + 2 * n;
    if (data > p.length) bad('AU headers overrun the packet');
    const sizes: number[] = [];
    const serials: number[] = [];
    let serial = 0;
    for (let i = 0; i < n; i++) {
      const h = (p[2 + 2 * i]! << 8) | p[3 + 2 * i]!;
      const size = h >> 3;
      if (size === 0) bad('AU of 0 bytes');
      serial = i === 0 ? h & 7 : serial + (h & 7) + 1;
      sizes.push(size);
      serials.push(serial);
    }
    const avail = p.length - data;
    if (n === 1 && (sizes[0]! > avail || this.#frag))
      return this.#fragment(pkt, sizes[0]!, p.subarray(data), gap);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total > avail) bad(`AUs of ${total} bytes in ${avail} bytes of payload`);
    const out: AacFrame[] = [];
    for (let i = 0; i < n; i++) {
      const ts = (pkt.timestamp + serials[i]! * this.#spf) >>> 0;
      out.push({ timestamp: ts, frame: p.slice(data, data + sizes[i]!) });
      data += sizes[i]!;
    }
    return out;
  }

  #fragment(pkt: AacRtpInput, size: number, chunk: Uint8Array, gap: boolean): AacFrame[] {
    let f = this.#frag;
    if (f && (f.timestamp !== pkt.timestamp || f.data.length !== size)) {
      bad('fragment of another AU inside a fragmented AU');
    }
    if (!f) {
      if (gap) {
        // The start of this AU may be what was lost: skip the rest of it.
        this.droppedFrames++;
        if (!pkt.marker) this.#skipTs = pkt.timestamp;
        return [];
      }
      f = { timestamp: pkt.timestamp, data: new Uint8Array(size), received: 0 };
      this.#frag = f;
    }
    if (f.received + chunk.length > size) bad(`fragments exceed the AU size of ${size} bytes`);
    f.data.set(chunk, f.received);
    f.received += chunk.length;
    if (f.received === size) {
      this.#frag = undefined;
      return [{ timestamp: f.timestamp, frame: f.data }];
    }
    if (pkt.marker) bad(`last fragment leaves the AU ${size - f.received} bytes short`);
    return [];
  }
}
