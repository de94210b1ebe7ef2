/**
 * What the egress keeps per stream, shared by all its viewers (pure: no WebRTC here): the last
 * GOP of video packets (replayed to a new viewer and on PLI), one retransmission buffer per
 * track (NACKs of every viewer are answered from it), the stream's clock (media time ↔ wall
 * clock, the one clock both tracks' sender reports use) and the audio pacer.
 */

/** One RTP packet of a stream as the ingest packetised it (before the per-viewer header). */
export interface StreamPacket {
  readonly seq: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly video: boolean;
  /** First packet of a keyframe access unit. */
  readonly keyStart: boolean;
  readonly payload: Buffer;
  /** Media time, ms on the stream's timeline. */
  readonly pts: number;
  /** Wall-clock time the access unit reached the ingest, Unix ms. */
  readonly arrival: number;
}

/** The last `size` packets of a track by sequence number. */
export class RetransmitBuffer {
  private readonly slots: (StreamPacket | undefined)[];
  private readonly mask: number;

  constructor(size = 2048) {
    let n = 1;
    while (n < size) n <<= 1;
    this.slots = new Array<StreamPacket | undefined>(n);
    this.mask = n - 1;
  }

  put(p: StreamPacket): void {
    this.slots[p.seq & this.mask] = p;
  }

  /** The packet with sequence number `seq`, if still held. */
  get(seq: number): StreamPacket | undefined {
    const p = this.slots[seq & this.mask];
    return p && p.seq === seq ? p : undefined;
  }
}

/** The extreme of a value over a sliding window, in buckets (min or max). */
export class WindowedExtreme {
  private readonly buckets: { start: number; value: number }[] = [];
  private readonly bucketMs: number;
  private readonly windowMs: number;
  private readonly better: (a: number, b: number) => boolean;

  constructor(kind: 'min' | 'max', windowMs: number, buckets = 10) {
    this.windowMs = windowMs;
    this.bucketMs = windowMs / buckets;
    this.better = kind === 'min' ? (a, b) => a < b : (a, b) => a > b;
  }

  observe(value: number, now: number): void {
    const last = this.buckets[this.buckets.length - 1];
    if (last && now - last.start < this.bucketMs) {
      if (this.better(value, last.value)) last.value = value;
    } else {
      this.buckets.push({ start: now, value });
    }
    while (this.buckets.length && now - this.buckets[0]!.start > this.windowMs) this.buckets.shift();
  }

  /** The extreme over the window; undefined before the first value. */
  get value(): number | undefined {
    let v: number | undefined;
    for (const b of this.buckets) if (v === undefined || this.better(b.value, v)) v = b.value;
    return v;
  }
}

/** Audio is held at most this long to smooth its arrival (ms). */
export const MAX_AUDIO_HOLD_MS = 60;

/**
 * The stream's clock: wall = pts + offset, the offset being the smallest (arrival − pts) seen
 * over the last 10 s (the path's fixed delay; drift of the encoder's clock is followed).
 * Sender reports of both tracks map "now" to RTP time through it, so the browser's lip sync
 * sees both tracks on one clock.
 */
export class StreamClock {
  private readonly min = new WindowedExtreme('min', 10_000);
  private readonly lastTs = new Map<boolean, { ts: number; pts: number; rate: number }>();

  private readonly minVideo = new WindowedExtreme('min', 10_000);
  private readonly minAudio = new WindowedExtreme('min', 10_000);

  observe(p: StreamPacket): void {
    this.min.observe(p.arrival - p.pts, p.arrival);
    (p.video ? this.minVideo : this.minAudio).observe(p.arrival - p.pts, p.arrival);
    this.lastTs.set(p.video, { ts: p.timestamp, pts: p.pts, rate: p.video ? 90 : 48 });
  }

  /**
   * How much later audio reaches the ingest than video of the same media time, ms (the
   * transcoder's delay plus any skew the publisher put between its tracks); undefined until
   * both flow. Positive: the browser's lip sync holds the picture back by about this much.
   */
  get audioLagMs(): number | undefined {
    const a = this.minAudio.value;
    const v = this.minVideo.value;
    return a === undefined || v === undefined ? undefined : a - v;
  }

  /** wall − pts, ms; undefined before any packet. */
  get offset(): number | undefined {
    return this.min.value;
  }

  /** The RTP timestamp of a track at wall-clock time `unixMs`, or undefined if unknown. */
  rtpAt(video: boolean, unixMs: number): number | undefined {
    const off = this.offset;
    const last = this.lastTs.get(video);
    if (off === undefined || !last) return undefined;
    const pts = unixMs - off;
    return (last.ts + Math.round((pts - last.pts) * last.rate)) >>> 0;
  }
}

/**
 * Paces a stream's audio on its media timeline: each packet leaves at pts + offset + hold,
 * the hold being the largest lateness of the last 2 s (capped), so packets that came out of
 * the transcoder in pairs leave 20 ms apart and the browser's jitter buffer stays small.
 */
export class AudioPacer {
  private readonly queue: StreamPacket[] = [];
  private readonly late = new WindowedExtreme('max', 2000, 8);
  private timer?: NodeJS.Timeout;
  private readonly clock: StreamClock;
  private readonly send: (p: StreamPacket) => void;
  private readonly now: () => number;
  held = 0;

  constructor(clock: StreamClock, send: (p: StreamPacket) => void, now: () => number) {
    this.clock = clock;
    this.send = send;
    this.now = now;
  }

  /** Current hold, ms. */
  get holdMs(): number {
    return Math.min(Math.max(this.late.value ?? 0, 0), MAX_AUDIO_HOLD_MS);
  }

  private due(p: StreamPacket): number {
    return p.pts + (this.clock.offset ?? p.arrival - p.pts) + this.holdMs;
  }

  push(p: StreamPacket): void {
    const off = this.clock.offset;
    if (off !== undefined) this.late.observe(p.arrival - p.pts - off, p.arrival);
    this.queue.push(p);
    this.run();
  }

  private run(): void {
    const now = this.now();
    while (this.queue.length && (this.due(this.queue[0]!) <= now + 0.5 || this.queue.length > 16)) {
      this.send(this.queue.shift()!);
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length) {
      this.held++;
      const wait = Math.max(0, this.due(this.queue[0]!) - now);
      this.timer = setTimeout(() => this.run(), wait);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** A stream as the egress holds it. */
export class EgressStream {
  readonly path: string;
  /** Video packets from the last keyframe on. */
  gop: StreamPacket[] = [];
  readonly video = new RetransmitBuffer(4096);
  readonly audio = new RetransmitBuffer(512);
  readonly clock = new StreamClock();
  /**
   * True when the GOP cache starts at a keyframe: false before the first one, and after
   * packets were lost in the ring or the cache overflowed, until the next keyframe.
   */
  whole = false;
  /** When the last video packet reached the ingest, Unix ms. */
  lastVideoArrival = 0;

  constructor(path: string) {
    this.path = path;
  }

  /** Keeps a packet (GOP cache, retransmission buffer, clock). */
  keep(p: StreamPacket): void {
    this.clock.observe(p);
    if (!p.video) {
      this.audio.put(p);
      return;
    }
    this.video.put(p);
    this.lastVideoArrival = p.arrival;
    if (p.keyStart) {
      this.gop = [];
      this.whole = true;
    }
    if (this.whole) this.gop.push(p);
    if (this.gop.length > 8192) {
      this.gop = [];
      this.whole = false;
    }
  }
}
