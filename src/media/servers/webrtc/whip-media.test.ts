import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logger.ts';
import { splitAnnexB } from '../../protocol/h264/nal.ts';
import { loadEs, splitAccessUnits } from '../../protocol/h264/testdata/fixtures.ts';
import { packetizeH264 } from '../../protocol/rtp/h264-packetizer.ts';
import type { Publisher } from '../../stream/registry.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from '../../stream/types.ts';
import { WhipMedia, type WhipRtp } from './whip-media.ts';

/**
 * RTP of a WHIP publisher → the stream model: the captured x264 baseline stream (320×240,
 * testdata/) packetised as a browser sends it (FU-A, marker on the last packet) goes back to
 * the same access units with the track taken from the in-band SPS/PPS; Opus packets go
 * through as they are; both tracks land on one timeline anchored at their first arrival.
 */
function sink() {
  const out = { video: [] as VideoTrack[], audio: [] as AudioTrack[], aus: [] as AccessUnit[] };
  const pub = {
    setVideo: (t: VideoTrack) => out.video.push(t),
    setAudio: (t: AudioTrack) => out.audio.push(t),
    write: (au: AccessUnit) => out.aus.push(au),
    close: () => undefined,
  } as unknown as Publisher;
  return { out, pub };
}

const log = createLogger({ level: 'silent' });

function rtpOf(aus: Uint8Array[][], startTs: number, seq0 = 1000): WhipRtp[][] {
  let seq = seq0;
  return aus.map((nalus, i) =>
    packetizeH264(nalus, 1100).map((p) => ({
      payload: p.payload,
      marker: p.marker,
      sequenceNumber: seq++ & 0xffff,
      timestamp: (startTs + i * 3000) >>> 0,
    })),
  );
}

describe('WhipMedia', () => {
  const aus = splitAccessUnits(splitAnnexB(loadEs('baseline'))).slice(0, 10);

  it('reassembles H.264 access units, sets the track from the SPS/PPS and flags the keyframe', () => {
    const { out, pub } = sink();
    const m = new WhipMedia(pub, log, 1_000_000);
    expect(m.needKeyframe).toBe(true);
    const packets = rtpOf(aus, 0xfffff000); // the RTP clock wraps inside the run
    packets.forEach((frame, i) => frame.forEach((p) => m.video(p, 1_000_000 + 50 + i * 33)));
    expect(out.video).toHaveLength(1);
    expect(out.video[0]).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 66 });
    expect(out.aus.map((a) => a.key)).toEqual([true, ...Array<boolean>(aus.length - 1).fill(false)]);
    expect(out.aus.map((a) => a.data.length)).toEqual(aus.map((a) => a.length));
    expect(Buffer.concat(out.aus[3]!.data)).toEqual(Buffer.concat(aus[3]!));
    // 3000 ticks of 90 kHz per frame = 33.3 ms, from the first arrival (50 ms after the origin).
    expect(out.aus.map((a) => Math.round(a.pts))).toEqual(aus.map((_, i) => Math.round(50 + (i * 100) / 3)));
    expect(m.needKeyframe).toBe(false);
  });

  it("stamps the picture by its first packet's arrival: a keyframe paced out over 40 ms is not 40 ms late", () => {
    const { out, pub } = sink();
    const m = new WhipMedia(pub, log, 0);
    const packets = rtpOf(aus, 9000);
    expect(packets[0]!.length).toBeGreaterThan(1); // the keyframe takes several packets
    // The keyframe's packets arrive from 100 ms to 140 ms; the next frames at once each.
    packets[0]!.forEach((p, i, all) => m.video(p, 100 + (40 * i) / (all.length - 1)));
    packets.slice(1).forEach((f, i) => f.forEach((p) => m.video(p, 140 + (i + 1) * 33)));
    m.audio(
      { payload: Uint8Array.of(0xfc, 0xff, 0xfe), marker: false, sequenceNumber: 1, timestamp: 5 },
      100,
    );
    expect(Math.round(out.aus.find((a) => a.codec === 'h264')!.pts)).toBe(100);
    expect(out.aus.find((a) => a.codec === 'opus')!.pts).toBe(100);
  });

  it('drops frames until a keyframe after a lost packet, asking for one meanwhile', () => {
    const { out, pub } = sink();
    const m = new WhipMedia(pub, log);
    const packets = rtpOf(aus, 0);
    packets.slice(0, 3).forEach((f) => f.forEach((p) => m.video(p)));
    const fourth = packets[3]!;
    fourth.slice(1).forEach((p) => m.video(p)); // its first packet never came
    expect(m.needKeyframe).toBe(true);
    packets.slice(4).forEach((f) => f.forEach((p) => m.video(p)));
    expect(out.aus).toHaveLength(3);
  });

  it('passes Opus packets through as the audio track, on the same timeline, ignoring late ones', () => {
    const { out, pub } = sink();
    const m = new WhipMedia(pub, log, 0);
    const opus = (seq: number, ts: number): WhipRtp => ({
      payload: Uint8Array.of(0xfc, 0xff, 0xfe), // CELT 20 ms, code 0
      marker: false,
      sequenceNumber: seq,
      timestamp: ts,
    });
    m.audio(opus(7, 123_456), 200);
    m.audio(opus(8, 123_456 + 960), 221);
    m.audio(opus(7, 123_456), 230); // a duplicate
    expect(out.audio).toEqual([
      { kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, clockRate: 48000 },
    ]);
    expect(out.aus.map((a) => [a.codec, a.pts, a.key])).toEqual([
      ['opus', 200, true],
      ['opus', 220, true],
    ]);
    expect(Array.from(out.aus[0]!.data[0]!)).toEqual([0xfc, 0xff, 0xfe]);
    m.audio({ ...opus(9, 0), payload: new Uint8Array(0) }, 240);
    expect(m.stats.badPackets).toBe(1);
  });
});
