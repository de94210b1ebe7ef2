import { describe, expect, it } from 'vitest';
import { OpusTimeline, opusPacketSamples } from './opus-timeline.ts';

describe('opusPacketSamples', () => {
  it('reads durations from the TOC byte (RFC 6716 §3.1)', () => {
    expect(opusPacketSamples(Uint8Array.of(0xfc, 1, 2))).toBe(960); // CELT FB 20 ms stereo, one frame
    expect(opusPacketSamples(Uint8Array.of(0xe0))).toBe(120); // CELT 2.5 ms
    expect(opusPacketSamples(Uint8Array.of(0x18))).toBe(2880); // SILK NB 60 ms
    expect(opusPacketSamples(Uint8Array.of(0x71))).toBe(960); // hybrid 10 ms, two frames
    expect(opusPacketSamples(Uint8Array.of(0xfb, 0x03))).toBe(2880); // code 3, three 20 ms frames
    expect(opusPacketSamples(Uint8Array.of(0xfb))).toBe(0); // code 3 without a count
    expect(opusPacketSamples(Uint8Array.of(0xfb, 0x3f))).toBe(0); // over 120 ms
    expect(opusPacketSamples(new Uint8Array(0))).toBe(0);
  });
});

/** Feeds `frames` AAC frames of 1024 samples at `rate` starting at `pts0` (ms rounded, like FLV). */
function feed(t: OpusTimeline, pts0: number, frames: number, rate = 48000, from = 0): void {
  for (let k = from; k < from + frames; k++)
    t.input(Math.round(pts0 + (k * 1024 * 1000) / rate), (1024 * 48000) / rate, k);
}

describe('OpusTimeline', () => {
  it('anchors the first packet to the first frame less pre-skip and steps by 20 ms', () => {
    const t = new OpusTimeline({ preSkip: 120 });
    feed(t, 1000, 300);
    const pts = Array.from({ length: 300 }, () => t.output(960, 0).pts);
    expect(pts[0]).toBe(997.5);
    for (let i = 1; i < pts.length; i++) expect(pts[i]! - pts[i - 1]!).toBe(20);
    expect(t.pending).toBe(19); // frames not yet wholly encoded: (307200 − 287880) / 1024, rounded up
  });

  it('follows 44.1 kHz input without drifting', () => {
    const t = new OpusTimeline({ preSkip: 120 });
    feed(t, 0, 1000, 44100);
    let last = 0;
    for (let i = 0; i < 1000; i++) last = t.output(960, 0).pts;
    expect(last).toBe(-2.5 + 999 * 20);
  });

  it('re-anchors when the input jumps, and only then', () => {
    const t = new OpusTimeline({ preSkip: 120 });
    feed(t, 0, 50);
    feed(t, 5000, 50, 48000, 50); // the publisher came back 5 s later (on the stream timeline)
    const pts = Array.from({ length: 100 }, () => t.output(960, 0).pts);
    const steps = pts.slice(1).map((p, i) => p - pts[i]!);
    const jumps = steps.filter((s) => s !== 20);
    expect(jumps.length).toBe(1);
    expect(jumps[0]).toBeGreaterThan(4000);
  });

  it('measures processing time from the frame that completed a packet', () => {
    const t = new OpusTimeline({ preSkip: 120 });
    t.input(0, 1024, 100);
    t.input(21, 1024, 121);
    expect(t.output(960, 101)).toEqual({ pts: -2.5, processMs: 1, delayMs: 1 });
    expect(t.output(960, 122)).toEqual({ pts: 17.5, processMs: 1, delayMs: 22 });
  });

  it('keeps the timeline monotonic across an encoder restart', () => {
    const t = new OpusTimeline({ preSkip: 120 });
    feed(t, 0, 10);
    for (let i = 0; i < 10; i++) t.output(960, 0);
    t.restart();
    feed(t, 230, 10);
    const first = t.output(960, 0).pts;
    expect(first).toBeGreaterThan(180);
    expect(t.output(960, 0).pts).toBe(first + 20);
  });
});
