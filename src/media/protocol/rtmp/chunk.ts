/**
 * The RTMP chunk stream (RTMP spec 1.0, §5.3): messages are cut into chunks of at most the
 * sender's chunk size, each with a (compressed) chunk header, and chunks of different chunk
 * streams may interleave.
 *
 * ```
 * +--------------+----------------+--------------------+--------------+
 * | Basic Header | Message Header | Extended Timestamp |  Chunk Data  |
 * +--------------+----------------+--------------------+--------------+
 * |<------------------- Chunk Header ----------------->|
 * ```
 *
 * Timestamp rules (as the spec and ffmpeg): fmt 0 carries the absolute timestamp; fmt 1 and 2
 * carry a delta added to the chunk stream's previous message timestamp; a fmt 3 chunk that starts
 * a new message reuses the previous header's field as the delta (for a previous fmt 0 that is
 * its absolute timestamp). All timestamps are kept modulo 2^32.
 */
import { AirError } from '../../../shared/errors.ts';
import { ChunkHeader } from './chunk-header.ts';

/** One RTMP message, reassembled from its chunks. */
export interface RtmpMessage {
  /** Chunk stream id it travelled (or is to travel) on. */
  readonly csid: number;
  /** Timestamp in ms, modulo 2^32 (deltas already applied). */
  readonly timestamp: number;
  /** Message type id (see `MessageType` in messages.ts). */
  readonly typeId: number;
  /** Message stream id (0 for the connection, else the id from createStream). */
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** Limits of the chunk parser. */
export interface ChunkParserLimits {
  /** Largest message accepted, bytes (default 8 MiB). */
  maxMessageSize?: number;
  /** Largest chunk size a peer may set (default 16 MiB). */
  maxChunkSize?: number;
  /** Most chunk streams a peer may use at once (default 64). */
  maxChunkStreams?: number;
  /** Most bytes held in incomplete messages over all chunk streams (default 2 × maxMessageSize). */
  maxBufferedBytes?: number;
}

/** The RTMP default chunk size before any Set Chunk Size. */
export const DEFAULT_CHUNK_SIZE = 128;

interface StreamState {
  readonly csid: number;
  timestamp: number;
  /** The last fmt 0/1/2 timestamp field (absolute for fmt 0, delta otherwise). */
  field: number;
  /** Whether the last fmt 0/1/2 header had an extended timestamp. */
  extended: boolean;
  /** The extended timestamp of the message in progress (expected again on its continuations). */
  extValue: number | undefined;
  length: number;
  typeId: number;
  streamId: number;
  parts: Uint8Array[];
  received: number;
}

/**
 * Pure chunk-stream parser: feed bytes as they arrive, get whole messages back. Applies Set
 * Chunk Size (type 1) and Abort (type 2) itself, and still returns them. Throws AirError
 * (RTMP_PROTOCOL or RTMP_TOO_LARGE) on bad input; after that the parser is unusable.
 */
export class ChunkParser {
  /** Current incoming chunk size. */
  chunkSize = DEFAULT_CHUNK_SIZE;
  /** Bytes consumed so far (for acknowledgements). */
  bytesIn = 0;
  private maxMessageSize: number;
  private readonly maxChunkSize: number;
  private readonly maxChunkStreams: number;
  private maxBuffered: number;
  private readonly streams = new Map<number, StreamState>();
  private rest: Uint8Array = new Uint8Array(0);
  /** The chunk stream whose chunk data is being read, and how many data bytes are left. */
  private cur: StreamState | undefined;
  private left = 0;
  private buffered = 0;
  private failed: AirError | undefined;

  constructor(limits: ChunkParserLimits = {}) {
    this.maxMessageSize = limits.maxMessageSize ?? 8 << 20;
    this.maxChunkSize = limits.maxChunkSize ?? 16 << 20;
    this.maxChunkStreams = limits.maxChunkStreams ?? 64;
    this.maxBuffered = limits.maxBufferedBytes ?? 2 * this.maxMessageSize;
  }

  /**
   * Changes the message size limit (and the buffered-bytes limit with it): a session starts with
   * a small one before its publish is authorised and raises it after.
   */
  setMaxMessageSize(bytes: number): void {
    this.maxMessageSize = bytes;
    this.maxBuffered = 2 * bytes;
  }

  /** Consumes `input`; returns the messages it completes, in order. */
  process(input: Uint8Array): RtmpMessage[] {
    if (this.failed) throw this.failed;
    try {
      return this.run(input);
    } catch (e) {
      this.failed = e instanceof AirError ? e : new AirError('RTMP_PROTOCOL', String(e));
      throw this.failed;
    }
  }

  private run(input: Uint8Array): RtmpMessage[] {
    this.bytesIn += input.length;
    const out: RtmpMessage[] = [];
    let data = input;
    if (this.rest.length > 0) {
      data = new Uint8Array(this.rest.length + input.length);
      data.set(this.rest);
      data.set(input, this.rest.length);
      this.rest = new Uint8Array(0);
    }
    let off = 0;
    while (off < data.length) {
      if (!this.cur) {
        const h = ChunkHeader.parse(data, off, (id) => this.streams.get(id)?.extended ?? false);
        if (!h) {
          this.rest = new Uint8Array(data.subarray(off));
          break;
        }
        const known = this.streams.get(h.csid);
        if (h.fmt === 3 && known && known.received > 0 && h.extended !== known.extValue) {
          // Some senders leave the extended timestamp off continuation chunks (the spec is
          // ambiguous); when the 4 bytes are not the value we expect, they are chunk data.
          h.extended = undefined;
        }
        off += h.size;
        this.begin(h);
        if (this.left === 0) this.finishChunk(out);
        continue;
      }
      const take = Math.min(this.left, data.length - off);
      const st = this.cur;
      st.parts.push(new Uint8Array(data.subarray(off, off + take)));
      st.received += take;
      this.buffered += take;
      if (this.buffered > this.maxBuffered) {
        throw new AirError('RTMP_TOO_LARGE', `more than ${this.maxBuffered} bytes in incomplete messages`);
      }
      off += take;
      this.left -= take;
      if (this.left === 0) this.finishChunk(out);
    }
    return out;
  }

  /** Applies a chunk header to its chunk stream's state. */
  private begin(h: ChunkHeader): void {
    let st = this.streams.get(h.csid);
    if (!st) {
      if (h.fmt !== 0) {
        throw new AirError('RTMP_PROTOCOL', `fmt ${h.fmt} chunk on new chunk stream ${h.csid}`);
      }
      if (this.streams.size >= this.maxChunkStreams) {
        throw new AirError('RTMP_PROTOCOL', `more than ${this.maxChunkStreams} chunk streams`);
      }
      st = {
        csid: h.csid,
        timestamp: 0,
        field: 0,
        extended: false,
        extValue: undefined,
        length: 0,
        typeId: 0,
        streamId: 0,
        parts: [],
        received: 0,
      };
      this.streams.set(h.csid, st);
    }
    const continuing = st.received > 0;
    if (continuing && h.fmt !== 3) {
      throw new AirError('RTMP_PROTOCOL', `fmt ${h.fmt} chunk inside an incomplete message on ${h.csid}`);
    }
    if (!continuing) {
      if (h.fmt <= 1) {
        if (h.length > this.maxMessageSize) {
          throw new AirError('RTMP_TOO_LARGE', `message of ${h.length} bytes exceeds ${this.maxMessageSize}`);
        }
        st.length = h.length;
        st.typeId = h.typeId;
      }
      if (h.fmt === 0) st.streamId = h.streamId;
      if (h.fmt <= 2) {
        st.field = h.timestampField;
        st.extended = h.extended !== undefined;
      }
      st.extValue = h.extended;
      const value = h.extended ?? st.field;
      st.timestamp = h.fmt === 0 ? value : (st.timestamp + value) >>> 0;
    }
    this.cur = st;
    this.left = Math.min(this.chunkSize, st.length - st.received);
  }

  /** Ends the current chunk; completes its message when all its bytes are in. */
  private finishChunk(out: RtmpMessage[]): void {
    const st = this.cur!;
    this.cur = undefined;
    if (st.received < st.length) return;
    const payload = st.parts.length === 1 ? st.parts[0]! : concat(st.parts, st.length);
    this.buffered -= st.received;
    st.parts = [];
    st.received = 0;
    const msg: RtmpMessage = {
      csid: st.csid,
      timestamp: st.timestamp,
      typeId: st.typeId,
      streamId: st.streamId,
      payload,
    };
    this.control(msg);
    out.push(msg);
  }

  /** Set Chunk Size and Abort change how the following bytes are read. */
  private control(msg: RtmpMessage): void {
    if (msg.typeId !== 1 && msg.typeId !== 2) return;
    if (msg.payload.length < 4) throw new AirError('RTMP_PROTOCOL', 'short protocol control message');
    const v = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0);
    if (msg.typeId === 1) {
      if (v === 0 || v > 0x7fffffff) throw new AirError('RTMP_PROTOCOL', `invalid chunk size ${v}`);
      if (v > this.maxChunkSize)
        throw new AirError('RTMP_TOO_LARGE', `chunk size ${v} exceeds ${this.maxChunkSize}`);
      this.chunkSize = v;
    } else {
      const st = this.streams.get(v);
      if (st && st.received > 0) {
        this.buffered -= st.received;
        st.parts = [];
        st.received = 0;
      }
    }
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

interface WriterState {
  timestamp: number;
  field: number;
  length: number;
  typeId: number;
  streamId: number;
}

/**
 * Serialises messages into chunks, compressing headers the way ffmpeg does (fmt 1/2/3 when the
 * chunk stream's previous message allows it). Writing a Set Chunk Size message switches the
 * chunk size for every later message.
 */
export class ChunkWriter {
  /** Current outgoing chunk size. */
  chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly prev = new Map<number, WriterState>();

  /**
   * Serialises one message (header, data, continuation chunks). `fullHeader` forces fmt 0 (ffmpeg
   * does so for metadata and for media at timestamp 0, e.g. when a stream restarts).
   */
  write(msg: RtmpMessage, fullHeader = false): Uint8Array {
    const prev = fullHeader ? undefined : this.prev.get(msg.csid);
    const ts = msg.timestamp >>> 0;
    const useDelta = prev !== undefined && prev.streamId === msg.streamId && ts >= prev.timestamp;
    const value = useDelta ? ts - prev.timestamp : ts;
    const field = value >= 0xffffff ? 0xffffff : value;
    let fmt: 0 | 1 | 2 | 3 = 0;
    if (useDelta) {
      if (prev.typeId === msg.typeId && prev.length === msg.payload.length) {
        fmt = field === prev.field ? 3 : 2;
      } else fmt = 1;
    }
    const extended = field === 0xffffff ? value : undefined;
    const header = new ChunkHeader({
      fmt,
      csid: msg.csid,
      timestampField: field,
      length: msg.payload.length,
      typeId: msg.typeId,
      streamId: msg.streamId,
      extended,
    }).serialize();
    this.prev.set(msg.csid, {
      timestamp: ts,
      field,
      length: msg.payload.length,
      typeId: msg.typeId,
      streamId: msg.streamId,
    });
    const cont = new ChunkHeader({ fmt: 3, csid: msg.csid, extended }).serialize();
    const n = msg.payload.length;
    const chunks = Math.max(1, Math.ceil(n / this.chunkSize));
    const out = new Uint8Array(header.length + n + (chunks - 1) * cont.length);
    out.set(header);
    let p = header.length;
    for (let off = 0; off < n; off += this.chunkSize) {
      if (off > 0) {
        out.set(cont, p);
        p += cont.length;
      }
      const piece = msg.payload.subarray(off, Math.min(n, off + this.chunkSize));
      out.set(piece, p);
      p += piece.length;
    }
    if (msg.typeId === 1 && n >= 4) {
      this.chunkSize = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0) & 0x7fffffff;
    }
    return out;
  }
}
