import { describe, expect, it } from 'vitest';
import { ChunkParser } from './chunk.ts';
import { chunkStream } from './testdata/captures.ts';
import { MonotonicClock, TimestampUnwrapper } from './timestamp.ts';

describe('TimestampUnwrapper', () => {
  it('counts on across the 32-bit wrap', () => {
    const u = new TimestampUnwrapper();
    const raw = [0xffffff00, 0xffffffd0, 0x10, 0x60, 0x20];
    expect(raw.map((r) => u.unwrap(r))).toEqual([
      0xffffff00,
      0xffffffd0,
      2 ** 32 + 0x10,
      2 ** 32 + 0x60,
      2 ** 32 + 0x20,
    ]);
  });

  it('keeps the timeline of the extended-timestamp capture', () => {
    const u = new TimestampUnwrapper();
    const media = new ChunkParser()
      .process(chunkStream('ffmpeg-publish-extts.bin'))
      .filter((m) => (m.typeId === 8 || m.typeId === 9) && m.timestamp > 0);
    const abs = media.map((m) => u.unwrap(m.timestamp));
    expect(abs).toEqual(media.map((m) => m.timestamp));
  });
});

describe('MonotonicClock', () => {
  it('never goes back and counts corrections', () => {
    const c = new MonotonicClock();
    expect([10, 20, 15, 30].map((t) => c.next(t))).toEqual([10, 20, 20, 30]);
    expect(c.corrected).toBe(1);
  });
});
