import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { AvcDecoderConfig } from '../h264/avcc.ts';
import { isKeyframe, splitAvcc } from '../h264/nal.ts';
import { parseSps } from '../h264/sps.ts';
import { ChunkParser } from '../rtmp/chunk.ts';
import { chunkStream } from '../rtmp/testdata/captures.ts';
import { AudioTag, ExVideoPacketType, VideoTag } from './tags.ts';

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const msgs = new ChunkParser().process(chunkStream('ffmpeg-publish.bin'));
const video = msgs.filter((m) => m.typeId === 9);
const audio = msgs.filter((m) => m.typeId === 8);

describe('FLV video tags', () => {
  it('round-trips every captured video tag', () => {
    expect(video.length).toBeGreaterThan(15);
    for (const m of video) expect(same(VideoTag.parse(m.payload).serialize(), m.payload)).toBe(true);
  });

  it('reads the AVC sequence header, key and inter frames, and end of sequence', () => {
    const tags = video.map((m) => VideoTag.parse(m.payload));
    const seq = tags[0]!;
    expect([seq.isAvc, seq.kind, seq.frameType, seq.codecId]).toEqual([true, 'sequence', 1, 7]);
    const config = AvcDecoderConfig.parse(seq.data);
    const sps = parseSps(config.sps[0]!);
    expect([sps.width, sps.height, sps.profile]).toEqual([160, 120, 66]);
    const first = tags[1]!;
    expect([first.kind, first.frameType, first.compositionTime]).toEqual(['frames', 1, 0]);
    expect(isKeyframe(splitAvcc(first.data, config.lengthSize))).toBe(true);
    expect(tags[2]!.frameType).toBe(2);
    expect(isKeyframe(splitAvcc(tags[2]!.data, config.lengthSize))).toBe(false);
    expect(tags.at(-1)!.kind).toBe('end');
  });

  it('keeps a negative composition time (B-frames)', () => {
    const t = new VideoTag({
      frameType: 2,
      codecId: 7,
      packetType: 1,
      compositionTime: -40,
      data: Uint8Array.of(1, 2),
    });
    const bytes = t.serialize();
    expect([...bytes.subarray(0, 5)]).toEqual([0x27, 1, 0xff, 0xff, 0xd8]);
    expect(VideoTag.parse(bytes).compositionTime).toBe(-40);
  });

  it('round-trips enhanced RTMP avc1 tags, with and without composition time', () => {
    for (const packetType of [
      ExVideoPacketType.SequenceStart,
      ExVideoPacketType.CodedFrames,
      ExVideoPacketType.CodedFramesX,
    ]) {
      const t = new VideoTag({
        frameType: 1,
        fourCC: 'avc1',
        packetType,
        compositionTime: packetType === 1 ? 66 : 0,
        data: Uint8Array.of(9, 9),
      });
      const bytes = t.serialize();
      expect(bytes[0]! & 0x80).toBe(0x80);
      expect(Buffer.from(bytes.subarray(1, 5)).toString()).toBe('avc1');
      const back = VideoTag.parse(bytes);
      expect(back).toEqual(t);
      expect(back.isAvc).toBe(true);
      expect(back.kind).toBe(packetType === 0 ? 'sequence' : 'frames');
      expect(same(back.serialize(), bytes)).toBe(true);
    }
    const hevc = VideoTag.parse(
      new VideoTag({ frameType: 1, fourCC: 'hvc1', packetType: 3, data: Uint8Array.of(1) }).serialize(),
    );
    expect([hevc.isAvc, hevc.fourCC]).toEqual([false, 'hvc1']);
  });

  it('passes other codecs and command frames through', () => {
    const sorenson = VideoTag.parse(Uint8Array.of(0x22, 1, 2, 3));
    expect([sorenson.codecId, sorenson.kind, sorenson.data.length]).toEqual([2, 'other', 3]);
    const command = VideoTag.parse(Uint8Array.of(0x57, 0));
    expect([command.frameType, command.kind]).toEqual([5, 'other']);
    expect(same(command.serialize(), Uint8Array.of(0x57, 0))).toBe(true);
  });

  it('rejects truncated tags with BAD_MEDIA', () => {
    for (const b of [
      Uint8Array.of(),
      Uint8Array.of(0x17, 1, 0),
      Uint8Array.of(0x91, 0x61),
      Uint8Array.of(0x91, 0x61, 0x76, 0x63, 0x31, 0),
    ]) {
      try {
        VideoTag.parse(b);
        throw new Error(`accepted ${[...b]}`);
      } catch (e) {
        expect(isAirError(e, 'BAD_MEDIA')).toBe(true);
      }
    }
  });
});

describe('FLV audio tags', () => {
  it('round-trips every captured audio tag', () => {
    expect(audio.length).toBeGreaterThan(50);
    for (const m of audio) expect(same(AudioTag.parse(m.payload).serialize(), m.payload)).toBe(true);
  });

  it('reads the AAC sequence header and raw frames', () => {
    const seq = AudioTag.parse(audio[0]!.payload);
    expect([seq.isAac, seq.kind, seq.soundFormat]).toEqual([true, 'sequence', 10]);
    // AudioSpecificConfig: AAC LC (2), 48 kHz (index 3), mono.
    const asc = (seq.data[0]! << 8) | seq.data[1]!;
    expect([asc >> 11, (asc >> 7) & 0xf, (asc >> 3) & 0xf]).toEqual([2, 3, 1]);
    const raw = AudioTag.parse(audio[1]!.payload);
    expect([raw.kind, raw.data.length]).toEqual(['frames', audio[1]!.payload.length - 2]);
  });

  it('round-trips enhanced and legacy non-AAC audio', () => {
    const ex = new AudioTag({ soundFormat: 9, fourCC: 'Opus', packetType: 1, data: Uint8Array.of(1, 2) });
    const back = AudioTag.parse(ex.serialize());
    expect(back).toEqual(ex);
    expect(back.isAac).toBe(false);
    const mp3 = AudioTag.parse(Uint8Array.of(0x2f, 1, 2));
    expect([mp3.soundFormat, mp3.packetType, mp3.kind]).toEqual([2, undefined, 'other']);
    expect(same(mp3.serialize(), Uint8Array.of(0x2f, 1, 2))).toBe(true);
    expect(() => AudioTag.parse(Uint8Array.of(0xaf))).toThrow(/truncated/);
  });
});
