/**
 * A single-producer, single-consumer ring of records in a SharedArrayBuffer: the ingest thread
 * writes each stream's RTP packets (and stream events) once, the egress thread reads them.
 * The producer never blocks: when the ring is full a record is dropped and counted, and the
 * consumer is told (a `lost` count) so it can resynchronise its viewers at the next keyframe.
 *
 * Layout: Int32 control words [head, tail, written, dropped] then `size` bytes of data
 * (a power of two). A record is [u32 length][u8 kind][u8 flags][u16 stream][u16 seq][u16 -]
 * [u32 body length][u32 timestamp][u32 -][f64 pts][f64 arrival] + body, padded to 8 bytes; a record that would cross the
 * end is preceded by a pad record (kind 0) filling the rest of the ring.
 */

const HEAD = 0;
const TAIL = 1;
const WRITTEN = 2;
const DROPPED = 3;
const CONTROL_BYTES = 64;
export const RECORD_HEADER = 40;

/** Kinds of records. */
export const KIND_PAD = 0;
export const KIND_RTP = 1;
export const KIND_EVENT = 2;

/** Flags of an RTP record. */
export const FLAG_MARKER = 1;
export const FLAG_VIDEO = 2;
/** First packet of a keyframe access unit. */
export const FLAG_KEY_START = 4;

/** One record as read (the body is a copy, safe to keep). */
export interface RingRecord {
  kind: number;
  flags: number;
  stream: number;
  seq: number;
  timestamp: number;
  pts: number;
  arrival: number;
  body: Buffer;
}

/** Shared state of a ring; pass it to the other thread with postMessage. */
export interface RingBuffers {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
}

/** Makes the buffers of a ring of `size` bytes (rounded up to a power of two, ≥ 64 KiB). */
export function createRing(size = 8 << 20): RingBuffers {
  let n = 1 << 16;
  while (n < size) n <<= 1;
  return { control: new SharedArrayBuffer(CONTROL_BYTES), data: new SharedArrayBuffer(n) };
}

const align8 = (n: number): number => (n + 7) & ~7;

/** The writing end. */
export class RingWriter {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly size: number;
  private head: number;

  constructor(buffers: RingBuffers) {
    this.ctl = new Int32Array(buffers.control);
    this.bytes = new Uint8Array(buffers.data);
    this.view = new DataView(buffers.data);
    this.size = buffers.data.byteLength;
    this.head = Atomics.load(this.ctl, HEAD) >>> 0;
  }

  /** Records dropped so far because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.ctl, DROPPED);
  }

  /**
   * Appends a record; false (and counted) when the reader is too far behind. Call
   * {@link flush} after a batch to wake the reader.
   */
  write(
    kind: number,
    flags: number,
    stream: number,
    seq: number,
    timestamp: number,
    pts: number,
    arrival: number,
    body: Uint8Array,
  ): boolean {
    const len = align8(RECORD_HEADER + body.length);
    if (len > this.size / 4) throw new RangeError(`record of ${len} bytes is too large for the ring`);
    const tail = Atomics.load(this.ctl, TAIL) >>> 0;
    let at = this.head % this.size;
    const pad = at + len > this.size ? this.size - at : 0;
    const used = (this.head - tail) >>> 0;
    if (used + pad + len > this.size) {
      Atomics.add(this.ctl, DROPPED, 1);
      return false;
    }
    if (pad) {
      this.view.setUint32(at, pad, true);
      this.view.setUint8(at + 4, KIND_PAD);
      this.head = (this.head + pad) >>> 0;
      at = 0;
    }
    const v = this.view;
    v.setUint32(at, len, true);
    v.setUint8(at + 4, kind);
    v.setUint8(at + 5, flags);
    v.setUint16(at + 6, stream, true);
    v.setUint16(at + 8, seq, true);
    v.setUint32(at + 12, body.length, true);
    v.setUint32(at + 16, timestamp >>> 0, true);
    v.setFloat64(at + 24, pts, true);
    v.setFloat64(at + 32, arrival, true);
    this.bytes.set(body, at + RECORD_HEADER);
    this.head = (this.head + len) >>> 0;
    return true;
  }

  /** Publishes the records written since the last flush and wakes the reader. */
  flush(): void {
    Atomics.store(this.ctl, HEAD, this.head | 0);
    Atomics.add(this.ctl, WRITTEN, 1);
    Atomics.notify(this.ctl, WRITTEN);
  }
}

/** The reading end. */
export class RingReader {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly size: number;
  private tail: number;
  private seenDropped = 0;

  constructor(buffers: RingBuffers) {
    this.ctl = new Int32Array(buffers.control);
    this.bytes = new Uint8Array(buffers.data);
    this.view = new DataView(buffers.data);
    this.size = buffers.data.byteLength;
    this.tail = Atomics.load(this.ctl, TAIL) >>> 0;
  }

  /** Records the writer dropped since the last call (the reader must resynchronise). */
  takeLost(): number {
    const d = Atomics.load(this.ctl, DROPPED);
    const lost = d - this.seenDropped;
    this.seenDropped = d;
    return lost;
  }

  /** Reads every published record, in order, into `fn`. Returns how many. */
  drain(fn: (r: RingRecord) => void): number {
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    let n = 0;
    while (this.tail !== head) {
      const at = this.tail % this.size;
      const v = this.view;
      const len = v.getUint32(at, true);
      const kind = v.getUint8(at + 4);
      if (kind !== KIND_PAD) {
        const bodyLen = v.getUint32(at + 12, true);
        const start = at + RECORD_HEADER;
        const rec: RingRecord = {
          kind,
          flags: v.getUint8(at + 5),
          stream: v.getUint16(at + 6, true),
          seq: v.getUint16(at + 8, true),
          timestamp: v.getUint32(at + 16, true),
          pts: v.getFloat64(at + 24, true),
          arrival: v.getFloat64(at + 32, true),
          body: Buffer.from(this.bytes.slice(start, start + bodyLen).buffer),
        };
        this.tail = (this.tail + len) >>> 0;
        Atomics.store(this.ctl, TAIL, this.tail | 0);
        fn(rec);
        n++;
      } else {
        this.tail = (this.tail + len) >>> 0;
        Atomics.store(this.ctl, TAIL, this.tail | 0);
      }
    }
    return n;
  }

  /** Resolves when the writer flushes again after `since` (the value of {@link written}). */
  async wait(since: number, timeoutMs: number): Promise<void> {
    const r = Atomics.waitAsync(this.ctl, WRITTEN, since, timeoutMs);
    if (r.async) await r.value;
  }

  /** The writer's flush counter. */
  get written(): number {
    return Atomics.load(this.ctl, WRITTEN);
  }
}
