/**
 * The RTMP chunk header (RTMP spec 1.0, §5.3.1).
 *
 * ```
 * Basic header, 1–3 bytes:
 *  0 1 2 3 4 5 6 7
 * +-+-+-+-+-+-+-+-+
 * |fmt|   cs id   |                                   cs id 2..63
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |fmt|     0     |  cs id - 64   |                   cs id 64..319
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |fmt|     1     |  cs id - 64 (16 bits, LE)     |   cs id 64..65599
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Message header, by fmt:
 *  fmt 0 (11 bytes): timestamp (24) | message length (24) | type id (8) | message stream id (32, LE)
 *  fmt 1 (7 bytes):  timestamp delta (24) | message length (24) | type id (8)
 *  fmt 2 (3 bytes):  timestamp delta (24)
 *  fmt 3 (0 bytes)
 *
 * Extended timestamp (32, BE): present when the 24-bit field is 0xFFFFFF, and on fmt 3 chunks
 * whose chunk stream's last fmt 0/1/2 header had it.
 * ```
 */
import { AirError } from '../../../shared/errors.ts';

/** Size of the message header by fmt. */
const MSG_HEADER_SIZE = [11, 7, 3, 0] as const;

/** Largest chunk stream id the 3-byte basic header can carry. */
export const MAX_CSID = 65_599;

/** One chunk header as it appears on the wire. */
export class ChunkHeader {
  /** 0 = full header, 1 = same stream, 2 = same stream/length/type, 3 = nothing new. */
  fmt: 0 | 1 | 2 | 3;
  csid: number;
  /** The 24-bit timestamp (fmt 0) or timestamp delta (fmt 1, 2); 0xFFFFFF means extended. */
  timestampField: number;
  /** Message length (fmt 0, 1). */
  length: number;
  /** Message type id (fmt 0, 1). */
  typeId: number;
  /** Message stream id (fmt 0). */
  streamId: number;
  /** The 32-bit extended timestamp, when present. */
  extended: number | undefined;

  constructor(init: {
    fmt: 0 | 1 | 2 | 3;
    csid: number;
    timestampField?: number;
    length?: number;
    typeId?: number;
    streamId?: number;
    extended?: number;
  }) {
    this.fmt = init.fmt;
    this.csid = init.csid;
    this.timestampField = init.timestampField ?? 0;
    this.length = init.length ?? 0;
    this.typeId = init.typeId ?? 0;
    this.streamId = init.streamId ?? 0;
    this.extended = init.extended;
  }

  /** Bytes this header takes on the wire. */
  get size(): number {
    const basic = this.csid < 64 ? 1 : this.csid < 320 ? 2 : 3;
    return basic + MSG_HEADER_SIZE[this.fmt] + (this.extended === undefined ? 0 : 4);
  }

  /**
   * Parses a header at `off`; `undefined` when `buf` does not hold all of it yet.
   * `extendedOnFmt3(csid)` says whether a fmt 3 header on that chunk stream carries an extended
   * timestamp (it depends on the stream's previous header).
   */
  static parse(
    buf: Uint8Array,
    off: number,
    extendedOnFmt3: (csid: number) => boolean,
  ): ChunkHeader | undefined {
    if (off >= buf.length) return undefined;
    const b0 = buf[off]!;
    const fmt = (b0 >> 6) as 0 | 1 | 2 | 3;
    let csid = b0 & 0x3f;
    let p = off + 1;
    if (csid === 0) {
      if (buf.length < p + 1) return undefined;
      csid = 64 + buf[p]!;
      p += 1;
    } else if (csid === 1) {
      if (buf.length < p + 2) return undefined;
      csid = 64 + buf[p]! + buf[p + 1]! * 256;
      p += 2;
    }
    const n = MSG_HEADER_SIZE[fmt];
    if (buf.length < p + n) return undefined;
    const h = new ChunkHeader({ fmt, csid });
    if (fmt <= 2) h.timestampField = u24(buf, p);
    if (fmt <= 1) {
      h.length = u24(buf, p + 3);
      h.typeId = buf[p + 6]!;
    }
    if (fmt === 0) {
      h.streamId = (buf[p + 7]! | (buf[p + 8]! << 8) | (buf[p + 9]! << 16) | (buf[p + 10]! << 24)) >>> 0;
    }
    p += n;
    const ext = fmt === 3 ? extendedOnFmt3(csid) : h.timestampField === 0xffffff;
    if (ext) {
      if (buf.length < p + 4) return undefined;
      h.extended = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
    }
    return h;
  }

  /** Serialises the header. */
  serialize(): Uint8Array {
    if (this.csid < 2 || this.csid > MAX_CSID) {
      throw new AirError('RTMP_PROTOCOL', `chunk stream id ${this.csid} out of range`);
    }
    const out = new Uint8Array(this.size);
    let p = 0;
    if (this.csid < 64) out[p++] = (this.fmt << 6) | this.csid;
    else if (this.csid < 320) {
      out[p++] = this.fmt << 6;
      out[p++] = this.csid - 64;
    } else {
      out[p++] = (this.fmt << 6) | 1;
      out[p++] = (this.csid - 64) & 0xff;
      out[p++] = (this.csid - 64) >> 8;
    }
    if (this.fmt <= 2) {
      putU24(out, p, this.timestampField);
      p += 3;
    }
    if (this.fmt <= 1) {
      putU24(out, p, this.length);
      out[p + 3] = this.typeId;
      p += 4;
    }
    if (this.fmt === 0) {
      const s = this.streamId;
      out[p] = s & 0xff;
      out[p + 1] = (s >>> 8) & 0xff;
      out[p + 2] = (s >>> 16) & 0xff;
      out[p + 3] = (s >>> 24) & 0xff;
      p += 4;
    }
    if (this.extended !== undefined) {
      new DataView(out.buffer).setUint32(p, this.extended >>> 0);
    }
    return out;
  }
}

function u24(b: Uint8Array, p: number): number {
  return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
}

function putU24(b: Uint8Array, p: number, v: number): void {
  b[p] = (v >> 16) & 0xff;
  b[p + 1] = (v >> 8) & 0xff;
  b[p + 2] = v & 0xff;
}
