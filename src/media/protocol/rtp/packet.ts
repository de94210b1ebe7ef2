/**
 * RTP fixed header and packet (RFC 3550 §5.1, header extension §5.3.1).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |  if X: length in
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  32-bit words
 * |                        header extension                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            payload  ...                       |
 * |                               +-------------------------------+
 * |                               | padding ...   | padding count |  if P
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
import { AirError } from '../../../shared/errors.ts';

/** One RTP payload with its marker bit, before sequence numbers and timestamps are assigned. */
export interface RtpPayload {
  payload: Uint8Array;
  marker: boolean;
}

/** RFC 3550 header extension: a 16-bit profile word and data whose length is a multiple of 4. */
export interface RtpExtension {
  profile: number;
  data: Uint8Array;
}

/** Constructor fields of an RtpHeader. */
export interface RtpHeaderInit {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrc?: number[];
  extension?: RtpExtension;
}

function bad(what: string): never {
  throw new AirError('BAD_MEDIA', `RTP: ${what}`);
}

function read32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

function write32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

/** The RTP header (version 2). The P bit belongs to the packet: see RtpPacket.paddingSize. */
export class RtpHeader {
  marker: boolean;
  /** 0–127. */
  payloadType: number;
  /** 0–65535. */
  sequenceNumber: number;
  /** 0–2³²−1, in the clock rate of the payload format. */
  timestamp: number;
  ssrc: number;
  csrc: number[];
  extension: RtpExtension | undefined;

  constructor(init: RtpHeaderInit) {
    this.marker = init.marker ?? false;
    this.payloadType = init.payloadType;
    this.sequenceNumber = init.sequenceNumber;
    this.timestamp = init.timestamp;
    this.ssrc = init.ssrc;
    this.csrc = init.csrc ?? [];
    this.extension = init.extension;
  }

  /** Serialised size in bytes. */
  get size(): number {
    return 12 + 4 * this.csrc.length + (this.extension ? 4 + this.extension.data.length : 0);
  }

  /**
   * Parses the header at the start of `b` (the extension data is a subarray of `b`).
   * Throws BAD_MEDIA when it is truncated or not version 2.
   */
  static parse(b: Uint8Array): RtpHeader {
    if (b.length < 12) bad(`${b.length} bytes is shorter than a header`);
    const v = b[0]! >> 6;
    if (v !== 2) bad(`version ${v}`);
    const cc = b[0]! & 0x0f;
    let p = 12;
    if (b.length < p + 4 * cc) bad('truncated CSRC list');
    const csrc: number[] = [];
    for (let i = 0; i < cc; i++, p += 4) csrc.push(read32(b, p));
    let extension: RtpExtension | undefined;
    if (b[0]! & 0x10) {
      if (b.length < p + 4) bad('truncated header extension');
      const len = 4 * ((b[p + 2]! << 8) | b[p + 3]!);
      if (b.length < p + 4 + len) bad('header extension overruns the packet');
      extension = { profile: (b[p]! << 8) | b[p + 1]!, data: b.subarray(p + 4, p + 4 + len) };
    }
    return new RtpHeader({
      marker: (b[1]! & 0x80) !== 0,
      payloadType: b[1]! & 0x7f,
      sequenceNumber: (b[2]! << 8) | b[3]!,
      timestamp: read32(b, 4),
      ssrc: read32(b, 8),
      csrc,
      extension,
    });
  }

  /** Writes the header into `out` at `offset` with the given P bit; returns the bytes written. */
  writeTo(out: Uint8Array, offset = 0, padding = false): number {
    if (this.csrc.length > 15) bad(`${this.csrc.length} CSRCs (at most 15)`);
    const ext = this.extension;
    if (ext && (ext.data.length % 4 !== 0 || ext.data.length > 0x3fffc)) {
      bad(`header extension of ${ext.data.length} bytes`);
    }
    if (out.length < offset + this.size) bad('output buffer too small');
    out[offset] = 0x80 | (padding ? 0x20 : 0) | (ext ? 0x10 : 0) | this.csrc.length;
    out[offset + 1] = (this.marker ? 0x80 : 0) | (this.payloadType & 0x7f);
    out[offset + 2] = this.sequenceNumber >> 8;
    out[offset + 3] = this.sequenceNumber;
    write32(out, offset + 4, this.timestamp);
    write32(out, offset + 8, this.ssrc);
    let p = offset + 12;
    for (const c of this.csrc) {
      write32(out, p, c);
      p += 4;
    }
    if (ext) {
      out[p] = ext.profile >> 8;
      out[p + 1] = ext.profile;
      out[p + 2] = ext.data.length >> 10;
      out[p + 3] = ext.data.length >> 2;
      out.set(ext.data, p + 4);
      p += 4 + ext.data.length;
    }
    return p - offset;
  }

  /** Serialises the header (P bit clear). */
  serialize(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.writeTo(out);
    return out;
  }
}

/**
 * An RTP packet: header, payload and padding. The getters mirror the header fields so that a
 * packet can be handed straight to a depacketizer.
 */
export class RtpPacket {
  header: RtpHeader;
  payload: Uint8Array;
  /** Padding bytes after the payload, the count byte included (0 = no padding, P clear). */
  paddingSize: number;

  constructor(header: RtpHeader, payload: Uint8Array, paddingSize = 0) {
    this.header = header;
    this.payload = payload;
    this.paddingSize = paddingSize;
  }

  get marker(): boolean {
    return this.header.marker;
  }
  get sequenceNumber(): number {
    return this.header.sequenceNumber;
  }
  get timestamp(): number {
    return this.header.timestamp;
  }
  get ssrc(): number {
    return this.header.ssrc;
  }
  get payloadType(): number {
    return this.header.payloadType;
  }

  /** Serialised size in bytes. */
  get size(): number {
    return this.header.size + this.payload.length + this.paddingSize;
  }

  /** Parses a packet; the payload is a subarray of `b`. Throws BAD_MEDIA on malformed input. */
  static parse(b: Uint8Array): RtpPacket {
    const header = RtpHeader.parse(b);
    const start = header.size;
    let end = b.length;
    let paddingSize = 0;
    if (b[0]! & 0x20) {
      paddingSize = b[end - 1]!;
      if (paddingSize === 0 || paddingSize > end - start) bad(`padding count ${paddingSize}`);
      end -= paddingSize;
    }
    return new RtpPacket(header, b.subarray(start, end), paddingSize);
  }

  /** Serialises the packet; padding bytes are zero except the final count. */
  serialize(): Uint8Array {
    if (this.paddingSize < 0 || this.paddingSize > 255) bad(`padding of ${this.paddingSize} bytes`);
    const out = new Uint8Array(this.size);
    const p = this.header.writeTo(out, 0, this.paddingSize > 0);
    out.set(this.payload, p);
    if (this.paddingSize > 0) out[out.length - 1] = this.paddingSize;
    return out;
  }
}
