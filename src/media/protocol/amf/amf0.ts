/**
 * AMF0 (Action Message Format 0), as used by RTMP commands and FLV/RTMP data messages.
 *
 * Every value starts with a one-byte type marker:
 *
 * ```
 * marker  type           body
 * 0x00    number         8 bytes IEEE-754 double, big-endian
 * 0x01    boolean        1 byte (0 = false)
 * 0x02    string         u16 length + UTF-8
 * 0x03    object         { u16 key length + UTF-8 key + value }*  then 0x00 0x00 0x09
 * 0x05    null
 * 0x06    undefined
 * 0x08    ECMA array     u32 count (a hint) + properties as in an object + 0x00 0x00 0x09
 * 0x09    object end     (only after an empty key, closing an object or ECMA array)
 * 0x0A    strict array   u32 count + count values
 * 0x0B    date           8 bytes double (ms since epoch) + s16 time zone (reserved, 0)
 * 0x0C    long string    u32 length + UTF-8
 * ```
 *
 * Decoding is bounded (input size, nesting depth, number of values) and throws
 * `AirError('RTMP_PROTOCOL')` on anything malformed or unsupported (references, typed objects,
 * AMF3 switch, XML).
 */
import { AirError } from '../../../shared/errors.ts';

/** Marks an object that is (or was decoded from) an ECMA array; the value is its declared count. */
export const ECMA_ARRAY: unique symbol = Symbol('amf0.ecmaArray');

/** An AMF0 object (anonymous object or, when `[ECMA_ARRAY]` is set, an ECMA array). */
export interface Amf0Object {
  [key: string]: Amf0Value;
  [ECMA_ARRAY]?: number;
}

/** Any AMF0 value. Strings of 65 536 bytes and more are encoded as long strings. */
export type Amf0Value = number | boolean | string | null | undefined | Date | Amf0Object | Amf0Value[];

/** Decoder bounds. */
export interface Amf0Limits {
  /** Largest input accepted, bytes (default 1 MiB). */
  maxBytes?: number;
  /** Deepest nesting of objects/arrays (default 32). */
  maxDepth?: number;
  /** Most values in one decode, all levels together (default 65 536). */
  maxValues?: number;
}

const MARK = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  null: 0x05,
  undefined: 0x06,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
} as const;

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

/** Builds an object that encodes as an ECMA array (`count` defaults to its number of keys). */
export function ecmaArray(props: Record<string, Amf0Value>, count?: number): Amf0Object {
  const o: Amf0Object = { ...props };
  o[ECMA_ARRAY] = count ?? Object.keys(props).length;
  return o;
}

function bad(msg: string): AirError {
  return new AirError('RTMP_PROTOCOL', `AMF0: ${msg}`);
}

/** Sets a property without letting a key such as `__proto__` touch the prototype. */
function setProp(o: Amf0Object, key: string, v: Amf0Value): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  } else o[key] = v;
}

class Amf0Reader {
  private pos = 0;
  private values = 0;
  private readonly view: DataView;
  private readonly buf: Uint8Array;
  private readonly maxDepth: number;
  private readonly maxValues: number;

  constructor(buf: Uint8Array, limits: Amf0Limits) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = limits.maxDepth ?? 32;
    this.maxValues = limits.maxValues ?? 65_536;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw bad('truncated value');
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  private f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  private str(len: number): string {
    this.need(len);
    const s = utf8.decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  /** Reads properties up to the 0x00 0x00 0x09 end marker (tolerated missing at end of input). */
  private props(o: Amf0Object, depth: number): void {
    for (;;) {
      if (this.done) return; // some encoders omit the end marker of the last ECMA array
      const key = this.str(this.u16());
      if (key === '') {
        const m = this.u8();
        if (m !== MARK.objectEnd) throw bad(`expected object end, got marker 0x${m.toString(16)}`);
        return;
      }
      setProp(o, key, this.value(depth + 1));
    }
  }

  value(depth = 0): Amf0Value {
    if (depth > this.maxDepth) throw bad('nesting too deep');
    if (++this.values > this.maxValues) throw bad('too many values');
    const marker = this.u8();
    switch (marker) {
      case MARK.number:
        return this.f64();
      case MARK.boolean:
        return this.u8() !== 0;
      case MARK.string:
        return this.str(this.u16());
      case MARK.longString:
        return this.str(this.u32());
      case MARK.null:
        return null;
      case MARK.undefined:
        return undefined;
      case MARK.object: {
        const o: Amf0Object = {};
        this.props(o, depth);
        return o;
      }
      case MARK.ecmaArray: {
        const o: Amf0Object = {};
        o[ECMA_ARRAY] = this.u32();
        this.props(o, depth);
        return o;
      }
      case MARK.strictArray: {
        const n = this.u32();
        if (n > this.buf.length - this.pos) throw bad('strict array count exceeds input');
        const a: Amf0Value[] = [];
        for (let i = 0; i < n; i++) a.push(this.value(depth + 1));
        return a;
      }
      case MARK.date: {
        const ms = this.f64();
        this.u16(); // time zone: reserved, should be 0
        return new Date(ms);
      }
      default:
        throw bad(`unsupported type marker 0x${marker.toString(16)}`);
    }
  }
}

/** Decodes every AMF0 value in `buf` (a command or data message body). */
export function decodeAmf0(buf: Uint8Array, limits: Amf0Limits = {}): Amf0Value[] {
  if (buf.length > (limits.maxBytes ?? 1 << 20)) throw bad(`input of ${buf.length} bytes is too large`);
  const r = new Amf0Reader(buf, limits);
  const out: Amf0Value[] = [];
  while (!r.done) out.push(r.value());
  return out;
}

/** A growable byte sink for the encoder. */
class Amf0Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private grow(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.grow(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.grow(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  f64(v: number): void {
    this.grow(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  key(k: string): void {
    const b = utf8enc.encode(k);
    if (b.length > 0xffff) throw bad('object key longer than 65535 bytes');
    this.u16(b.length);
    this.bytes(b);
  }

  props(o: Amf0Object): void {
    for (const [k, v] of Object.entries(o)) {
      this.key(k);
      this.value(v);
    }
    this.u16(0);
    this.u8(MARK.objectEnd);
  }

  value(v: Amf0Value): void {
    if (v === null) this.u8(MARK.null);
    else if (v === undefined) this.u8(MARK.undefined);
    else if (typeof v === 'number') {
      this.u8(MARK.number);
      this.f64(v);
    } else if (typeof v === 'boolean') {
      this.u8(MARK.boolean);
      this.u8(v ? 1 : 0);
    } else if (typeof v === 'string') {
      const b = utf8enc.encode(v);
      if (b.length > 0xffff) {
        this.u8(MARK.longString);
        this.u32(b.length);
      } else {
        this.u8(MARK.string);
        this.u16(b.length);
      }
      this.bytes(b);
    } else if (v instanceof Date) {
      this.u8(MARK.date);
      this.f64(v.getTime());
      this.u16(0);
    } else if (Array.isArray(v)) {
      this.u8(MARK.strictArray);
      this.u32(v.length);
      for (const x of v) this.value(x);
    } else if (v[ECMA_ARRAY] !== undefined) {
      this.u8(MARK.ecmaArray);
      this.u32(v[ECMA_ARRAY]);
      this.props(v);
    } else {
      this.u8(MARK.object);
      this.props(v);
    }
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Encodes values one after another, as in a command or data message body. */
export function encodeAmf0(values: readonly Amf0Value[]): Uint8Array {
  const w = new Amf0Writer();
  for (const v of values) w.value(v);
  return w.result();
}
