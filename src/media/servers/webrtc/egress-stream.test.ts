import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AudioPacer,
  EgressStream,
  MAX_AUDIO_HOLD_MS,
  RetransmitBuffer,
  StreamClock,
  WindowedExtreme,
  type StreamPacket,
} from './egress-stream.ts';

/**
 * What the egress keeps per stream: the retransmission buffers NACKs are answered from, the
 * sliding extremes, the one clock both tracks' sender reports use, the audio pacer (on a
 * fake clock: setTimeout and `now` move together) and the GOP cache a new viewer starts from.
 */

const BASE = 1_764_000_000_000;

function pkt(o: Partial<StreamPacket> & { seq: number }): StreamPacket {
  return {
    timestamp: 0,
    marker: false,
    video: false,
    keyStart: false,
    payload: Buffer.from([o.seq & 0xff]),
    pts: 0,
    arrival: BASE,
    ...o,
  };
}

/** A deterministic pseudo-random generator (LCG), 0 ≤ x < 1. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
}

describe('RetransmitBuffer', () => {
  it('gives back a packet by sequence number, nothing for one never put', () => {
    const b = new RetransmitBuffer(2048);
    const p = pkt({ seq: 100, video: true });
    b.put(p);
    expect(b.get(100)).toBe(p);
    expect(b.get(101)).toBeUndefined();
    expect(b.get(100 + 2048)).toBeUndefined();
  });

  it('holds the last `size` packets: an older one is overwritten by the one `size` later', () => {
    const b = new RetransmitBuffer(1000); // rounded up to 1024
    for (let s = 0; s < 1500; s++) b.put(pkt({ seq: s }));
    expect(b.get(475)).toBeUndefined();
    expect(b.get(476)?.seq).toBe(476);
    expect(b.get(1499)?.seq).toBe(1499);
    // A packet sent again under the same number replaces the old one.
    const again = pkt({ seq: 1499, payload: Buffer.from('new') });
    b.put(again);
    expect(b.get(1499)).toBe(again);
  });

  it('works across the 16-bit sequence wrap', () => {
    const b = new RetransmitBuffer(512);
    const seqs = Array.from({ length: 300 }, (_, i) => (65400 + i) & 0xffff);
    for (const s of seqs) b.put(pkt({ seq: s }));
    for (const s of seqs) expect(b.get(s)?.seq).toBe(s);
    expect(b.get(65399)).toBeUndefined();
  });
});

describe('WindowedExtreme', () => {
  it('is undefined before the first value', () => {
    expect(new WindowedExtreme('min', 1000).value).toBeUndefined();
  });

  it('gives the minimum, or the maximum, of the values in the window', () => {
    const lo = new WindowedExtreme('min', 1000);
    const hi = new WindowedExtreme('max', 1000);
    const vals = [5, 3, 8, 9, 1, 4, 7];
    vals.forEach((v, i) => {
      lo.observe(v, i * 50);
      hi.observe(v, i * 50);
    });
    expect(lo.value).toBe(1);
    expect(hi.value).toBe(9);
  });

  it('forgets a value once it is older than the window, and follows a rising floor', () => {
    const lo = new WindowedExtreme('min', 10_000);
    lo.observe(100, 0);
    for (let t = 100; t <= 10_000; t += 100) {
      lo.observe(150, t);
      expect(lo.value).toBe(100);
    }
    lo.observe(150, 10_100);
    // The bucket holding 100 started at 0, more than the window ago.
    expect(lo.value).toBe(150);
  });

  it('matches a brute-force sliding extreme within one bucket of the window', () => {
    const windowMs = 2000;
    const buckets = 8;
    const slack = windowMs / buckets;
    for (const kind of ['min', 'max'] as const) {
      const w = new WindowedExtreme(kind, windowMs, buckets);
      const rand = rng(kind === 'min' ? 1 : 2);
      const seen: { t: number; v: number }[] = [];
      let t = 0;
      for (let i = 0; i < 3000; i++) {
        t += rand() * 40;
        const v = Math.round(rand() * 1000);
        w.observe(v, t);
        seen.push({ t, v });
        const pick = kind === 'min' ? Math.min : Math.max;
        // The value lies between the extreme of the last (window − bucket) and of the last (window + bucket).
        const inner = pick(...seen.filter((s) => t - s.t <= windowMs - slack).map((s) => s.v));
        const outer = pick(...seen.filter((s) => t - s.t <= windowMs + slack).map((s) => s.v));
        const got = w.value!;
        if (kind === 'min') {
          expect(got).toBeLessThanOrEqual(inner);
          expect(got).toBeGreaterThanOrEqual(outer);
        } else {
          expect(got).toBeGreaterThanOrEqual(inner);
          expect(got).toBeLessThanOrEqual(outer);
        }
      }
    }
  });
});

describe('StreamClock', () => {
  it('knows nothing before a packet, and nothing of a track it has not seen', () => {
    const c = new StreamClock();
    expect(c.offset).toBeUndefined();
    expect(c.rtpAt(true, BASE)).toBeUndefined();
    c.observe(pkt({ seq: 1, video: true, pts: 0, arrival: BASE }));
    expect(c.rtpAt(true, BASE)).toBeDefined();
    expect(c.rtpAt(false, BASE)).toBeUndefined();
  });

  it('takes the offset as the smallest (arrival − pts): the path delay without its jitter', () => {
    const c = new StreamClock();
    const rand = rng(9);
    let least = Infinity;
    for (let i = 0; i < 300; i++) {
      const pts = 5000 + i * 20;
      const jitter = 3 + rand() * 30;
      least = Math.min(least, jitter);
      c.observe(pkt({ seq: i, pts, arrival: BASE + pts + jitter, video: i % 3 === 0 }));
    }
    expect(c.offset).toBe(BASE + least);
  });

  it('follows a path whose delay grows (the old minimum leaves the 10 s window)', () => {
    const c = new StreamClock();
    for (let i = 0; i <= 500; i++) c.observe(pkt({ seq: i, pts: i * 20, arrival: BASE + i * 20 + 10 }));
    expect(c.offset).toBe(BASE + 10);
    // 80 ms more delay from now on: after 10 s (and a bucket) the clock has moved to it.
    for (let i = 501; i <= 1200; i++) c.observe(pkt({ seq: i, pts: i * 20, arrival: BASE + i * 20 + 90 }));
    expect(c.offset).toBe(BASE + 90);
  });

  it('maps wall-clock time to RTP time at 90 kHz for video and 48 kHz for audio', () => {
    const c = new StreamClock();
    c.observe(pkt({ seq: 1, video: true, timestamp: 1000, pts: 10_000, arrival: BASE + 10_500 }));
    c.observe(pkt({ seq: 2, video: false, timestamp: 0xffff_ff00, pts: 10_000, arrival: BASE + 10_500 }));
    expect(c.offset).toBe(BASE + 500);
    // One second after the packets' media time: 90 000 and 48 000 ticks on.
    expect(c.rtpAt(true, BASE + 11_500)).toBe(91_000);
    expect(c.rtpAt(false, BASE + 11_500)).toBe((0xffff_ff00 + 48_000) >>> 0);
    // 20 ms of audio after the packet (wraps past 2^32).
    expect(c.rtpAt(false, BASE + 10_520)).toBe((0xffff_ff00 + 960) >>> 0);
    expect(c.rtpAt(false, BASE + 10_520)).toBe(0x2c0);
    // Before the packet's time: back from it.
    expect(c.rtpAt(true, BASE + 10_400)).toBe((1000 - 9000) >>> 0);
    // Rounded to whole ticks.
    expect(c.rtpAt(true, BASE + 10_500 + 1 / 3)).toBe(1030);
  });

  it('puts both tracks on one clock: equal media times give the same wall time in both', () => {
    const c = new StreamClock();
    // Video at 30 fps and audio at 20 ms, the audio arriving later than the video.
    for (let i = 0; i < 90; i++) {
      const vpts = i * (1000 / 30);
      c.observe(
        pkt({
          seq: i,
          video: true,
          timestamp: (7777 + Math.round(vpts * 90)) >>> 0,
          pts: vpts,
          arrival: BASE + vpts + 40,
        }),
      );
    }
    for (let i = 0; i < 150; i++) {
      const apts = i * 20;
      c.observe(
        pkt({
          seq: i,
          video: false,
          timestamp: (123 + apts * 48) >>> 0,
          pts: apts,
          arrival: BASE + apts + 65,
        }),
      );
    }
    const now = BASE + 4000;
    const v = c.rtpAt(true, now)!;
    const a = c.rtpAt(false, now)!;
    // Both name the same media time (now − offset), as a receiver's lip sync reads them.
    expect((v - 7777) / 90).toBeCloseTo((a - 123) / 48, 1);
    expect((v - 7777) / 90).toBeCloseTo(now - c.offset!, 1);
  });
});

describe('AudioPacer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A pacer on fake timers; packets are kept by the clock, then pushed, as the worker does. */
  function setup() {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(BASE);
    const clock = new StreamClock();
    /** Each packet sent, when, and when it was due by the pacer's rule at that moment. */
    const sent: { p: StreamPacket; at: number; due: number }[] = [];
    const pacer: AudioPacer = new AudioPacer(
      clock,
      (p) => sent.push({ p, at: Date.now(), due: p.pts + clock.offset! + pacer.holdMs }),
      () => Date.now(),
    );
    const push = (p: StreamPacket): void => {
      clock.observe(p);
      pacer.push(p);
    };
    return { clock, pacer, sent, push };
  }

  /** Moves the fake clock to `t` (Unix ms), running due timers. */
  async function to(t: number): Promise<void> {
    const d = t - Date.now();
    if (d > 0) await vi.advanceTimersByTimeAsync(d);
  }

  it('spreads Opus packets that came out of the transcoder in pairs to one every 20 ms', async () => {
    const { sent, push, pacer } = setup();
    // Packets 2k (pts 40k) and 2k+1 (pts 40k + 20) arrive together at 40k + 20 + 7.
    for (let k = 0; k < 100; k++) {
      const at = BASE + 40 * k + 27;
      await to(at);
      for (const j of [0, 1]) push(pkt({ seq: 2 * k + j, pts: 40 * k + 20 * j, arrival: at }));
    }
    await to(Date.now() + 200);
    expect(sent.map((s) => s.p.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // Once the pacer has seen a pair: every packet leaves at its pts + offset + 20 ms.
    const steady = sent.slice(4);
    for (let i = 1; i < steady.length; i++) expect(steady[i]!.at - steady[i - 1]!.at).toBeCloseTo(20, 0);
    expect(pacer.holdMs).toBe(20);
    pacer.close();
  });

  it('releases each packet at pts + offset + hold: never before, and when held, not after', async () => {
    const { sent, push, pacer } = setup();
    const rand = rng(11);
    let arrival = BASE;
    let held = 0;
    for (let i = 0; i < 400; i++) {
      const pts = i * 20;
      arrival = Math.max(arrival, BASE + pts + 5 + Math.round(rand() * 25));
      await to(arrival);
      push(pkt({ seq: i, pts, arrival }));
    }
    await to(Date.now() + 500);
    expect(sent).toHaveLength(400);
    for (const s of sent) {
      expect(s.at).toBeGreaterThanOrEqual(s.p.arrival);
      expect(s.at).toBeGreaterThanOrEqual(s.due - 0.5);
      if (s.at > s.p.arrival) {
        held++;
        expect(s.at - s.due).toBeLessThanOrEqual(1);
      }
    }
    // With 25 ms of jitter most packets wait for their time.
    expect(held).toBeGreaterThan(200);
    pacer.close();
  });

  it(`holds a packet at most ${MAX_AUDIO_HOLD_MS} ms, whatever the jitter, and never reorders`, async () => {
    const { sent, push, pacer } = setup();
    const rand = rng(12);
    let arrival = BASE;
    const pushed: number[] = [];
    for (let i = 0; i < 1000; i++) {
      // 20 ms packets; one in 20 arrives up to 250 ms late (a stalled transcoder), the others within 40 ms.
      const pts = i * 20;
      const late = Math.round(rand() < 0.05 ? rand() * 250 : rand() * 40);
      arrival = Math.max(arrival, BASE + pts + late);
      await to(arrival);
      // Now and then a packet out of media order (pts 30 ms back): sent in the order it came.
      const p = pkt({ seq: i, pts: rand() < 0.02 ? pts - 30 : pts, arrival });
      push(p);
      pushed.push(i);
    }
    await to(Date.now() + 1000);
    expect(sent.map((s) => s.p.seq)).toEqual(pushed);
    const held = sent.map((s) => s.at - s.p.arrival);
    expect(Math.min(...held)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...held)).toBeLessThanOrEqual(MAX_AUDIO_HOLD_MS + 1);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at).toBeGreaterThanOrEqual(sent[i - 1]!.at);
    expect(pacer.holdMs).toBeLessThanOrEqual(MAX_AUDIO_HOLD_MS);
    pacer.close();
  });

  it('sends on time packets at once when nothing was late', async () => {
    const { sent, push, pacer } = setup();
    for (let i = 0; i < 50; i++) {
      const at = BASE + i * 20 + 15;
      await to(at);
      push(pkt({ seq: i, pts: i * 20, arrival: at }));
      expect(sent.at(-1)?.p.seq).toBe(i);
    }
    expect(pacer.holdMs).toBe(0);
    pacer.close();
  });

  it('sends nothing more after close()', async () => {
    const { sent, push, pacer } = setup();
    // Two pairs: the second one's later packet is held 20 ms.
    for (let k = 0; k < 2; k++) {
      const at = BASE + 40 * k + 27;
      await to(at);
      for (const j of [0, 1]) push(pkt({ seq: 2 * k + j, pts: 40 * k + 20 * j, arrival: at }));
    }
    expect(sent.map((s) => s.p.seq)).toEqual([0, 1, 2]);
    pacer.close();
    await to(Date.now() + 1000);
    expect(sent.map((s) => s.p.seq)).toEqual([0, 1, 2]);
  });
});

describe('EgressStream', () => {
  /** The packets of one video frame. */
  function frame(first: number, n: number, key: boolean, pts: number): StreamPacket[] {
    return Array.from({ length: n }, (_, i) =>
      pkt({
        seq: (first + i) & 0xffff,
        video: true,
        keyStart: key && i === 0,
        marker: i === n - 1,
        timestamp: pts * 90,
        pts,
        arrival: BASE + pts + 5,
      }),
    );
  }

  it('caches the GOP from its keyframe and starts again at the next keyframe', () => {
    const s = new EgressStream('live/a');
    let seq = 0;
    const gop1 = [
      ...frame(seq, 5, true, 0),
      ...frame((seq += 5), 2, false, 33),
      ...frame((seq += 2), 2, false, 66),
    ];
    seq += 2;
    for (const p of gop1) s.keep(p);
    expect(s.gop).toEqual(gop1);
    expect(s.whole).toBe(true);
    const key2 = frame(seq, 4, true, 100);
    seq += 4;
    for (const p of key2) s.keep(p);
    expect(s.gop).toEqual(key2);
    const p2 = frame(seq, 1, false, 133);
    for (const p of p2) s.keep(p);
    expect(s.gop).toEqual([...key2, ...p2]);
    // Every video packet is kept for NACKs, the first GOP's too, and the last arrival noted.
    for (const p of [...gop1, ...key2, ...p2]) expect(s.video.get(p.seq)).toBe(p);
    expect(s.lastVideoArrival).toBe(p2[0]!.arrival);
  });

  it('keeps audio out of the GOP, in its own buffer, and on the same clock', () => {
    const s = new EgressStream('live/a');
    for (const p of frame(0, 3, true, 0)) s.keep(p);
    const a = pkt({ seq: 0, video: false, timestamp: 960, pts: 20, arrival: BASE + 22 });
    s.keep(a);
    expect(s.gop.every((p) => p.video)).toBe(true);
    expect(s.gop).toHaveLength(3);
    expect(s.audio.get(0)).toBe(a);
    expect(s.video.get(0)?.video).toBe(true);
    expect(s.clock.offset).toBe(BASE + 2);
    expect(s.clock.rtpAt(false, BASE + 42)).toBe(1920);
  });

  it('after a loss (whole = false) caches nothing until the next keyframe, then is whole again', () => {
    const s = new EgressStream('live/a');
    for (const p of frame(0, 3, true, 0)) s.keep(p);
    // The ring dropped packets: the worker marks the stream.
    s.whole = false;
    const broken = frame(3, 2, false, 33);
    for (const p of broken) s.keep(p);
    expect(s.gop.some((g) => broken.includes(g))).toBe(false);
    expect(s.video.get(3)).toBe(broken[0]);
    const key = frame(5, 3, true, 66);
    for (const p of key) s.keep(p);
    expect(s.whole).toBe(true);
    expect(s.gop).toEqual(key);
  });

  it('caches no GOP before the first keyframe (a stream joined mid-GOP)', () => {
    const s = new EgressStream('live/a');
    const before = [...frame(0, 2, false, 0), ...frame(2, 2, false, 33)];
    for (const p of before) s.keep(p);
    // A viewer joining now must wait for a keyframe, not get P-frames it cannot decode.
    expect(s.whole && s.gop.length > 0).toBe(false);
    expect(s.gop.every((p) => !before.includes(p))).toBe(true);
    const key = frame(4, 3, true, 66);
    for (const p of key) s.keep(p);
    expect(s.whole).toBe(true);
    expect(s.gop).toEqual(key);
  });

  it('drops a GOP that outgrows the cache and waits for the next keyframe', () => {
    const s = new EgressStream('live/a');
    const key = frame(0, 1, true, 0);
    for (const p of key) s.keep(p);
    let seq = 1;
    for (let f = 0; s.gop.length > 0 && f < 10_000; f++) {
      for (const p of frame(seq, 4, false, 33 * (f + 1))) s.keep(p);
      seq += 4;
    }
    expect(s.gop).toHaveLength(0);
    // What comes after the overflow is no GOP (it does not start at a keyframe).
    for (const p of frame(seq, 4, false, 999_999)) s.keep(p);
    seq += 4;
    expect(s.whole && s.gop.length > 0).toBe(false);
    const next = frame(seq, 2, true, 1_000_000);
    for (const p of next) s.keep(p);
    expect(s.whole).toBe(true);
    expect(s.gop).toEqual(next);
  });
});
