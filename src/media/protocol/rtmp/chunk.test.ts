import { describe, expect, it } from 'vitest';
import { isAirError, type ErrorCode } from '../../../shared/errors.ts';
import { ChunkHeader } from './chunk-header.ts';
import { ChunkParser, ChunkWriter, type RtmpMessage } from './chunk.ts';
import { ControlMessage } from './messages.ts';
import { chunkStream } from './testdata/captures.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** ffmpeg forces a full header for metadata and for media at timestamp 0. */
const ffmpegFull = (m: RtmpMessage): boolean =>
  ((m.typeId === 8 || m.typeId === 9) && m.timestamp === 0) || m.typeId === 18;

function expectError(code: ErrorCode, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isAirError(e, code), String(e)).toBe(true);
    return;
  }
  throw new Error(`expected ${code}`);
}

function msg(over: Partial<RtmpMessage> & { payload: Uint8Array }): RtmpMessage {
  return { csid: 3, timestamp: 0, typeId: 20, streamId: 0, ...over };
}

describe('ChunkHeader', () => {
  it('round-trips every fmt and basic-header size', () => {
    const cases = [
      new ChunkHeader({ fmt: 0, csid: 3, timestampField: 1000, length: 300, typeId: 9, streamId: 1 }),
      new ChunkHeader({ fmt: 1, csid: 64, timestampField: 33, length: 5, typeId: 8 }),
      new ChunkHeader({ fmt: 2, csid: 319, timestampField: 0xffffff, extended: 0x12345678 }),
      new ChunkHeader({ fmt: 3, csid: 320 }),
      new ChunkHeader({ fmt: 3, csid: 65_599, extended: 7 }),
    ];
    for (const h of cases) {
      const bytes = h.serialize();
      expect(bytes.length).toBe(h.size);
      const back = ChunkHeader.parse(bytes, 0, () => h.extended !== undefined)!;
      expect(back).toEqual(h);
      expect(same(back.serialize(), bytes)).toBe(true);
      expect(
        ChunkHeader.parse(bytes.subarray(0, bytes.length - 1), 0, () => h.extended !== undefined),
      ).toBeUndefined();
    }
  });
});

describe('ChunkParser / ChunkWriter on captured ffmpeg streams', () => {
  for (const name of ['ffmpeg-publish.bin', 'ffmpeg-publish-extts.bin', 'ffmpeg-listen-reply.bin']) {
    it(`${name}: parse → serialize gives the same bytes`, () => {
      const bytes = chunkStream(name);
      const msgs = new ChunkParser().process(bytes);
      const w = new ChunkWriter();
      const out = Buffer.concat(msgs.map((m) => w.write(m, ffmpegFull(m))));
      expect(out.length).toBe(bytes.length);
      expect(same(out, bytes)).toBe(true);
    });
  }

  it('reads the publish sequence with monotonic media timestamps', () => {
    const msgs = new ChunkParser().process(chunkStream('ffmpeg-publish.bin'));
    const commands = msgs
      .filter((m) => m.typeId === 20)
      .map((m) => Buffer.from(m.payload.subarray(3, 20)).toString('latin1'));
    expect(commands[0]).toMatch(/^connect/);
    expect(commands.some((c) => c.startsWith('publish'))).toBe(true);
    for (const type of [8, 9]) {
      const ts = msgs.filter((m) => m.typeId === type && m.streamId === 1).map((m) => m.timestamp);
      expect(ts.length).toBeGreaterThan(10);
      for (let i = 1; i < ts.length; i++) expect(ts[i]!).toBeGreaterThanOrEqual(ts[i - 1]!);
    }
    const video = msgs.filter((m) => m.typeId === 9);
    expect(video.at(-1)!.timestamp).toBeGreaterThan(1800);
  });

  it('applies extended timestamps, on continuation chunks too', () => {
    const msgs = new ChunkParser().process(chunkStream('ffmpeg-publish-extts.bin'));
    const video = msgs.filter((m) => m.typeId === 9);
    expect(video[1]!.timestamp).toBe(20_000_000);
    expect(video[1]!.payload.length).toBeGreaterThan(128 * 10);
    expect(video[2]!.timestamp).toBe(20_000_100);
  });

  it('gives the same messages however the bytes are split', () => {
    const bytes = chunkStream('ffmpeg-publish.bin');
    const whole = new ChunkParser().process(bytes);
    for (const step of [1, 7, 128, 1000]) {
      const p = new ChunkParser();
      const got: RtmpMessage[] = [];
      for (let i = 0; i < bytes.length; i += step) got.push(...p.process(bytes.subarray(i, i + step)));
      expect(got.length).toBe(whole.length);
      got.forEach((m, i) => {
        expect({ ...m, payload: undefined }).toEqual({ ...whole[i]!, payload: undefined });
        expect(same(m.payload, whole[i]!.payload)).toBe(true);
      });
    }
  });
});

describe('ChunkParser / ChunkWriter', () => {
  it('round-trips through big chunk stream ids, chunk size changes and 32-bit wrap', () => {
    const w = new ChunkWriter();
    const big = new Uint8Array(10_000).map((_, i) => i & 0xff);
    const input: RtmpMessage[] = [
      msg({ csid: 70, typeId: 9, streamId: 1, timestamp: 0xfffffff0, payload: big }),
      msg({ csid: 70, typeId: 9, streamId: 1, timestamp: 0xfffffffa, payload: big }),
      new ControlMessage(1, 4096).serialize(),
      msg({ csid: 400, typeId: 8, streamId: 1, timestamp: 5, payload: big.subarray(0, 300) }),
      msg({ csid: 70, typeId: 9, streamId: 1, timestamp: 4, payload: big.subarray(0, 5000) }),
      msg({ csid: 3, payload: new Uint8Array(0) }),
    ];
    const bytes = Buffer.concat(input.map((m) => w.write(m)));
    const p = new ChunkParser();
    const out = p.process(bytes);
    expect(p.chunkSize).toBe(4096);
    expect(out.map((m) => [m.csid, m.timestamp, m.typeId, m.payload.length])).toEqual(
      input.map((m) => [m.csid, m.timestamp, m.typeId, m.payload.length]),
    );
    out.forEach((m, i) => expect(same(m.payload, input[i]!.payload)).toBe(true));
  });

  it('accepts continuation chunks without the extended timestamp', () => {
    const payload = new Uint8Array(300).map((_, i) => (i * 31) & 0xff);
    const head = new ChunkHeader({
      fmt: 0,
      csid: 4,
      timestampField: 0xffffff,
      length: 300,
      typeId: 9,
      streamId: 1,
      extended: 0x01000000,
    });
    const bytes = Buffer.concat([
      head.serialize(),
      payload.subarray(0, 128),
      Uint8Array.of(0xc4),
      payload.subarray(128, 256),
      Uint8Array.of(0xc4),
      payload.subarray(256),
    ]);
    const [m] = new ChunkParser().process(bytes);
    expect(m!.timestamp).toBe(0x01000000);
    expect(same(m!.payload, payload)).toBe(true);
  });

  it('drops a partial message on Abort', () => {
    const w = new ChunkWriter();
    const first = w.write(msg({ csid: 5, typeId: 9, payload: new Uint8Array(300) }));
    const abort = w.write(new ControlMessage(2, 5).serialize());
    const next = w.write(
      msg({ csid: 5, typeId: 9, timestamp: 10, payload: new Uint8Array(10).fill(1) }),
      true,
    );
    const p = new ChunkParser();
    const out = p.process(Buffer.concat([first.subarray(0, 140), abort, next]));
    expect(out.map((m) => m.typeId)).toEqual([2, 9]);
    expect(out[1]!.payload).toEqual(new Uint8Array(10).fill(1));
  });

  it('enforces the message size, chunk size and chunk stream limits', () => {
    const w = new ChunkWriter();
    const huge = w.write(msg({ typeId: 9, payload: new Uint8Array(2000) }));
    expectError('RTMP_TOO_LARGE', () =>
      new ChunkParser({ maxMessageSize: 1000 }).process(huge.subarray(0, 20)),
    );
    const setSize = w.write(new ControlMessage(1, 1 << 20).serialize());
    expectError('RTMP_TOO_LARGE', () => new ChunkParser({ maxChunkSize: 65_536 }).process(setSize));
    const zero = new ChunkWriter().write(new ControlMessage(1, 0).serialize());
    expectError('RTMP_PROTOCOL', () => new ChunkParser().process(zero));
    const many = Buffer.concat(
      Array.from({ length: 10 }, (_, i) =>
        new ChunkWriter().write(msg({ csid: 10 + i, payload: new Uint8Array(1) })),
      ),
    );
    expectError('RTMP_PROTOCOL', () => new ChunkParser({ maxChunkStreams: 8 }).process(many));
    const partials = Buffer.concat(
      Array.from({ length: 4 }, (_, i) =>
        new ChunkWriter().write(msg({ csid: 10 + i, payload: new Uint8Array(500) })).subarray(0, 140),
      ),
    );
    expectError('RTMP_TOO_LARGE', () => new ChunkParser({ maxBufferedBytes: 300 }).process(partials));
  });

  it('rejects fmt 1–3 on an unknown chunk stream and a new header inside a message', () => {
    expectError('RTMP_PROTOCOL', () =>
      new ChunkParser().process(Uint8Array.of(0x43, 0, 0, 0, 0, 0, 1, 20, 0)),
    );
    const w = new ChunkWriter();
    const a = w.write(msg({ payload: new Uint8Array(300) }));
    const b = new ChunkWriter().write(msg({ payload: new Uint8Array(3) }));
    const p = new ChunkParser();
    expectError('RTMP_PROTOCOL', () => p.process(Buffer.concat([a.subarray(0, 140), b])));
    // A failed parser stays failed.
    expectError('RTMP_PROTOCOL', () => p.process(b));
  });
});
