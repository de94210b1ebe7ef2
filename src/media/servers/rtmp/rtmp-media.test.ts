import { afterEach, describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/logger.ts';
import { ChunkParser } from '../../protocol/rtmp/chunk.ts';
import { DataMessage } from '../../protocol/rtmp/messages.ts';
import { chunkStream } from '../../protocol/rtmp/testdata/captures.ts';
import { StreamRegistry } from '../../stream/registry.ts';
import type { AccessUnit } from '../../stream/types.ts';
import { RtmpMedia } from './rtmp-media.ts';

const log = createLogger({ level: 'silent' });
let registry: StreamRegistry;

afterEach(() => registry?.close());

/** Replays a capture's media messages into a fresh publisher; returns what a reader got. */
function replay(name: string) {
  registry = new StreamRegistry({ reconnectGraceMs: 1000 });
  const publisher = registry.publish('live/cap', { id: 't', protocol: 'rtmp', remote: 'test' });
  const units: AccessUnit[] = [];
  publisher.stream.addReader(
    { codecs: new Set(['h264', 'aac']), maxQueue: 10_000 },
    (au) => void units.push(au),
  );
  const media = new RtmpMedia(publisher, log);
  for (const m of new ChunkParser().process(chunkStream(name))) {
    if (m.typeId === 9) media.video(m.timestamp, m.payload);
    else if (m.typeId === 8) media.audio(m.timestamp, m.payload);
    else if (m.typeId === 18) media.data(DataMessage.parse(m).values);
  }
  return { stream: publisher.stream, media, units, publisher };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('RtmpMedia on captured ffmpeg publishes', () => {
  it('describes the tracks and writes every frame with its keyframes', async () => {
    const { stream, media, units } = replay('ffmpeg-publish.bin');
    await settle();
    expect(stream.video).toMatchObject({ codec: 'h264', width: 160, height: 120, profile: 66, level: 12 });
    expect(stream.audio).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 1, clockRate: 48000 });
    expect(media.metadata).toMatchObject({ width: 160, height: 120 });
    const video = units.filter((u) => u.codec === 'h264');
    const audio = units.filter((u) => u.codec === 'aac');
    expect(video).toHaveLength(20); // 2 s at 10 fps
    expect(video.map((v) => v.key)).toEqual(video.map((_, i) => i % 10 === 0));
    expect(audio.length).toBe(media.stats.audioFrames);
    expect(audio.length).toBeGreaterThan(90); // 2 s of 1024-sample frames at 48 kHz
    for (const list of [video, audio]) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.dts).toBeGreaterThan(list[i - 1]!.dts);
    }
    expect(video[1]!.dts - video[0]!.dts).toBe(100);
    expect(media.stats.dropped).toBe(0);
  });

  it('keeps the timeline across extended timestamps', async () => {
    const { units } = replay('ffmpeg-publish-extts.bin');
    await settle();
    const video = units.filter((u) => u.codec === 'h264');
    expect(video.length).toBe(10);
    expect(video.at(-1)!.dts - video[0]!.dts).toBe(900);
  });
});

describe('RtmpMedia on bad or unsupported input', () => {
  it('throws BAD_MEDIA on a truncated tag or a broken sequence header', () => {
    registry = new StreamRegistry({ reconnectGraceMs: 1000 });
    const media = new RtmpMedia(
      registry.publish('live/x', { id: 't', protocol: 'rtmp', remote: 'test' }),
      log,
    );
    for (const payload of [Uint8Array.of(0x17, 0), Uint8Array.of(0x17, 0, 0, 0, 0, 1, 0x42)]) {
      try {
        media.video(0, payload);
        throw new Error('accepted');
      } catch (e) {
        expect(isAirError(e, 'BAD_MEDIA')).toBe(true);
      }
    }
  });

  it('drops other codecs and frames before their sequence header, counting them', () => {
    registry = new StreamRegistry({ reconnectGraceMs: 1000 });
    const publisher = registry.publish('live/y', { id: 't', protocol: 'rtmp', remote: 'test' });
    const media = new RtmpMedia(publisher, log);
    media.video(0, Uint8Array.of(0x22, 1, 2)); // Sorenson H.263
    media.video(0, Uint8Array.of(0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41)); // AVC frame, no header yet
    media.audio(0, Uint8Array.of(0x2f, 1)); // MP3
    media.audio(0, Uint8Array.of(0xaf, 1, 1)); // AAC frame, no ASC yet
    expect(media.stats.dropped).toBe(4);
    expect(publisher.stream.stats.videoFrames + publisher.stream.stats.audioFrames).toBe(0);
  });
});
