import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { ChunkParser, type RtmpMessage } from './chunk.ts';
import {
  CommandMessage,
  ControlMessage,
  DataMessage,
  MessageType,
  SetPeerBandwidth,
  splitAggregate,
  UserControl,
  UserControlEvent,
} from './messages.ts';
import { chunkStream } from './testdata/captures.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const publish = new ChunkParser().process(chunkStream('ffmpeg-publish.bin'));
const reply = new ChunkParser().process(chunkStream('ffmpeg-listen-reply.bin'));

describe('RTMP messages', () => {
  it('round-trips the protocol control messages ffmpeg sent and answered', () => {
    const control = [...publish, ...reply].filter((m) => m.typeId >= 1 && m.typeId <= 6);
    expect(control.map((m) => m.typeId).sort()).toEqual([1, 1, 4, 4, 5, 6]);
    for (const m of control) {
      const back =
        m.typeId === MessageType.UserControl
          ? UserControl.parse(m).serialize()
          : m.typeId === MessageType.SetPeerBandwidth
            ? SetPeerBandwidth.parse(m).serialize()
            : ControlMessage.parse(m).serialize();
      expect(same(back.payload, m.payload)).toBe(true);
      expect(back.csid).toBe(2);
    }
    const win = ControlMessage.parse(reply.find((m) => m.typeId === 5)!);
    expect(win.value).toBe(2_500_000);
    const bw = SetPeerBandwidth.parse(reply.find((m) => m.typeId === 6)!);
    expect([bw.size, bw.limitType]).toEqual([2_500_000, 2]);
    const begins = reply.filter((m) => m.typeId === 4).map((m) => UserControl.parse(m));
    expect(begins.map((u) => [u.event, ...u.values])).toEqual([
      [UserControlEvent.StreamBegin, 0],
      [UserControlEvent.StreamBegin, 1],
    ]);
  });

  it('round-trips every command of the capture', () => {
    const cmds = [...publish, ...reply].filter((m) => m.typeId === MessageType.CommandAmf0);
    const names = cmds.map((m) => CommandMessage.parse(m).name);
    expect(names).toEqual(
      expect.arrayContaining([
        'connect',
        'releaseStream',
        'FCPublish',
        'createStream',
        'publish',
        'FCUnpublish',
      ]),
    );
    expect(names).toEqual(expect.arrayContaining(['deleteStream', '_result', 'onStatus', 'onFCPublish']));
    for (const m of cmds) {
      const c = CommandMessage.parse(m);
      const back = c.serialize(m.csid, m.streamId);
      expect(same(back.payload, m.payload)).toBe(true);
    }
    const pub = CommandMessage.parse(
      publish.find((m) => m.typeId === 20 && CommandMessage.parse(m).name === 'publish')!,
    );
    expect([pub.transactionId, pub.object, ...pub.args]).toEqual([6, null, 'test?token=good', 'live']);
  });

  it('reads an AMF3-enveloped command (type 17)', () => {
    const body = new CommandMessage('connect', 1, { app: 'live' }).serialize(3, 0).payload;
    const m: RtmpMessage = {
      csid: 3,
      timestamp: 0,
      typeId: 17,
      streamId: 0,
      payload: Uint8Array.of(0, ...body),
    };
    expect(CommandMessage.parse(m)).toMatchObject({
      name: 'connect',
      transactionId: 1,
      object: { app: 'live' },
    });
  });

  it('round-trips the @setDataFrame data message', () => {
    const m = publish.find((x) => x.typeId === MessageType.DataAmf0)!;
    const d = DataMessage.parse(m);
    expect(d.values.slice(0, 2)).toEqual(['@setDataFrame', 'onMetaData']);
    expect(same(d.serialize(m.csid, m.streamId).payload, m.payload)).toBe(true);
  });

  it('refuses a command without a name and malformed control messages', () => {
    const bad: RtmpMessage = {
      csid: 3,
      timestamp: 0,
      typeId: 20,
      streamId: 0,
      payload: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0),
    };
    expect(() => CommandMessage.parse(bad)).toThrow(/without a name/);
    const short: RtmpMessage = { ...bad, typeId: 5, payload: Uint8Array.of(1) };
    try {
      ControlMessage.parse(short);
      throw new Error('accepted');
    } catch (e) {
      expect(isAirError(e, 'RTMP_PROTOCOL')).toBe(true);
    }
    expect(() => UserControl.parse({ ...bad, typeId: 4, payload: Uint8Array.of(0, 0, 1) })).toThrow();
  });

  it('splits an aggregate message into FLV-tag sub-messages', () => {
    const tag = (type: number, ts: number, data: number[]): number[] => [
      type,
      0,
      0,
      data.length,
      (ts >> 16) & 0xff,
      (ts >> 8) & 0xff,
      ts & 0xff,
      0,
      0,
      0,
      0,
      ...data,
      0,
      0,
      0,
      11 + data.length,
    ];
    const payload = Uint8Array.from([...tag(9, 1000, [0x17, 1]), ...tag(8, 1020, [0xaf, 1, 5])]);
    const agg: RtmpMessage = { csid: 4, timestamp: 50, typeId: 22, streamId: 1, payload };
    const subs = splitAggregate(agg);
    expect(subs.map((s) => [s.typeId, s.timestamp, [...s.payload]])).toEqual([
      [9, 50, [0x17, 1]],
      [8, 70, [0xaf, 1, 5]],
    ]);
    expect(() => splitAggregate({ ...agg, payload: payload.subarray(0, 20) })).toThrow();
  });
});
