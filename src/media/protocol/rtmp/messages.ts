/**
 * RTMP messages carried by the chunk stream (RTMP spec 1.0, §5.4 and §6, §7).
 *
 * ```
 * Set Chunk Size (1), Abort (2), Acknowledgement (3), Window Ack Size (5):
 *  +-+-------------------------------+
 *  |0|  chunk size / csid / sequence number / window size (31–32 bits)
 *  +-+-------------------------------+
 * Set Peer Bandwidth (6):  window size (32) | limit type (8: 0 hard, 1 soft, 2 dynamic)
 * User Control (4):        event type (16)  | event data (u32 fields: stream id, buffer ms, ping time)
 * Command AMF0 (20):       name (string) | transaction id (number) | command object | args…
 * Command AMF3 (17):       0x00 format selector, then as AMF0
 * Data AMF0 (18):          AMF0 values, e.g. "@setDataFrame" "onMetaData" {…}
 * Aggregate (22):          FLV tags: type (8) | size (24) | ts (24) | ts ext (8) | stream id (24)
 *                          | data | previous tag size (32)
 * ```
 */
import { AirError } from '../../../shared/errors.ts';
import { decodeAmf0, encodeAmf0, type Amf0Limits, type Amf0Value } from '../amf/amf0.ts';
import type { RtmpMessage } from './chunk.ts';

/** Message type ids. */
export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Ack: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  CommandAmf3: 17,
  DataAmf0: 18,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

/** User control event types. */
export const UserControlEvent = {
  StreamBegin: 0,
  StreamEof: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
} as const;

/** Chunk stream ids this server sends on (as nginx-rtmp). */
export const Csid = { control: 2, command: 3, stream: 5 } as const;

function bad(msg: string): AirError {
  return new AirError('RTMP_PROTOCOL', msg);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Set Chunk Size, Abort, Acknowledgement or Window Acknowledgement Size: one 32-bit value. */
export class ControlMessage {
  readonly typeId: 1 | 2 | 3 | 5;
  readonly value: number;

  constructor(typeId: 1 | 2 | 3 | 5, value: number) {
    this.typeId = typeId;
    this.value = value >>> 0;
  }

  static parse(msg: RtmpMessage): ControlMessage {
    const t = msg.typeId;
    if (t !== 1 && t !== 2 && t !== 3 && t !== 5) throw bad(`type ${t} is not a 32-bit control message`);
    if (msg.payload.length < 4) throw bad(`short control message of type ${t}`);
    return new ControlMessage(t, view(msg.payload).getUint32(0));
  }

  serialize(): RtmpMessage {
    const payload = new Uint8Array(4);
    view(payload).setUint32(0, this.value);
    return { csid: Csid.control, timestamp: 0, typeId: this.typeId, streamId: 0, payload };
  }
}

/** Set Peer Bandwidth. */
export class SetPeerBandwidth {
  readonly size: number;
  /** 0 hard, 1 soft, 2 dynamic. */
  readonly limitType: number;

  constructor(size: number, limitType: number) {
    this.size = size >>> 0;
    this.limitType = limitType;
  }

  static parse(msg: RtmpMessage): SetPeerBandwidth {
    if (msg.payload.length < 5) throw bad('short Set Peer Bandwidth');
    return new SetPeerBandwidth(view(msg.payload).getUint32(0), msg.payload[4]!);
  }

  serialize(): RtmpMessage {
    const payload = new Uint8Array(5);
    view(payload).setUint32(0, this.size);
    payload[4] = this.limitType;
    return { csid: Csid.control, timestamp: 0, typeId: MessageType.SetPeerBandwidth, streamId: 0, payload };
  }
}

/** User Control message: an event type and its u32 fields (stream id, buffer length, ping time). */
export class UserControl {
  readonly event: number;
  readonly values: readonly number[];

  constructor(event: number, values: readonly number[]) {
    this.event = event;
    this.values = values.map((v) => v >>> 0);
  }

  static parse(msg: RtmpMessage): UserControl {
    const b = msg.payload;
    if (b.length < 2 || (b.length - 2) % 4 !== 0) throw bad('malformed User Control message');
    const v = view(b);
    const values: number[] = [];
    for (let p = 2; p < b.length; p += 4) values.push(v.getUint32(p));
    return new UserControl(v.getUint16(0), values);
  }

  serialize(): RtmpMessage {
    const payload = new Uint8Array(2 + 4 * this.values.length);
    const v = view(payload);
    v.setUint16(0, this.event);
    this.values.forEach((x, i) => v.setUint32(2 + 4 * i, x));
    return { csid: Csid.control, timestamp: 0, typeId: MessageType.UserControl, streamId: 0, payload };
  }
}

/** A command (invoke): connect, createStream, publish, _result, onStatus, … */
export class CommandMessage {
  readonly name: string;
  readonly transactionId: number;
  /** Command object (connect properties) or null. */
  readonly object: Amf0Value;
  readonly args: readonly Amf0Value[];
  /** The body held the name alone (ffmpeg's `onFCPublish`); serialised the same way. */
  readonly nameOnly: boolean;

  constructor(
    name: string,
    transactionId: number,
    object: Amf0Value,
    args: readonly Amf0Value[] = [],
    nameOnly = false,
  ) {
    this.name = name;
    this.transactionId = transactionId;
    this.object = object;
    this.args = args;
    this.nameOnly = nameOnly;
  }

  /** Parses a type 20 (AMF0) or type 17 (AMF3 envelope with AMF0 values) command body. */
  static parse(msg: RtmpMessage, limits?: Amf0Limits): CommandMessage {
    let body = msg.payload;
    if (msg.typeId === MessageType.CommandAmf3 && body[0] === 0) body = body.subarray(1);
    const v = decodeAmf0(body, limits);
    const [name, tid, object, ...args] = v;
    if (typeof name !== 'string') throw bad('command without a name');
    return new CommandMessage(name, typeof tid === 'number' ? tid : 0, object ?? null, args, v.length === 1);
  }

  /** Serialises as a type 20 message. */
  serialize(csid: number, streamId: number): RtmpMessage {
    const payload = encodeAmf0(
      this.nameOnly ? [this.name] : [this.name, this.transactionId, this.object, ...this.args],
    );
    return { csid, timestamp: 0, typeId: MessageType.CommandAmf0, streamId, payload };
  }
}

/** A data message (notify): `@setDataFrame`, `onMetaData`, … */
export class DataMessage {
  readonly values: readonly Amf0Value[];

  constructor(values: readonly Amf0Value[]) {
    this.values = values;
  }

  /** Parses a type 18 (AMF0) or type 15 (AMF3 envelope) data body. */
  static parse(msg: RtmpMessage, limits?: Amf0Limits): DataMessage {
    let body = msg.payload;
    if (msg.typeId === MessageType.DataAmf3 && body[0] === 0) body = body.subarray(1);
    return new DataMessage(decodeAmf0(body, limits));
  }

  serialize(csid: number, streamId: number, timestamp = 0): RtmpMessage {
    return { csid, timestamp, typeId: MessageType.DataAmf0, streamId, payload: encodeAmf0(this.values) };
  }
}

/**
 * Splits an Aggregate message into its audio/video/data sub-messages. Their timestamps keep
 * their offsets from the first sub-message, rebased onto the aggregate's own timestamp.
 */
export function splitAggregate(msg: RtmpMessage): RtmpMessage[] {
  const b = msg.payload;
  const out: RtmpMessage[] = [];
  let first: number | undefined;
  let p = 0;
  while (p < b.length) {
    if (p + 11 > b.length) throw bad('truncated aggregate message');
    const typeId = b[p]!;
    const size = (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    const ts = ((b[p + 7]! << 24) | (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!) >>> 0;
    if (p + 11 + size + 4 > b.length) throw bad('truncated aggregate sub-message');
    first ??= ts;
    out.push({
      csid: msg.csid,
      timestamp: (msg.timestamp + ts - first) >>> 0,
      typeId,
      streamId: msg.streamId,
      payload: b.subarray(p + 11, p + 11 + size),
    });
    p += 11 + size + 4;
  }
  return out;
}
