/**
 * Opus packet duration from its TOC byte (RFC 6716 §3.1):
 *
 *    0 1 2 3 4 5 6 7
 *   +-+-+-+-+-+-+-+-+
 *   | config  |s| c |    config 0–11 SILK 10/20/40/60 ms, 12–15 hybrid 10/20 ms,
 *   +-+-+-+-+-+-+-+-+    16–31 CELT 2.5/5/10/20 ms; c: 0 one frame, 1–2 two, 3 count in byte 1
 *
 * Returns the duration in 48 kHz samples, or 0 for a malformed packet.
 */
export function opusPacketSamples(p: Uint8Array): number {
  if (p.length < 1) return 0;
  const config = p[0]! >> 3;
  let frame: number;
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3]!;
  else if (config < 16) frame = config & 1 ? 960 : 480;
  else frame = [120, 240, 480, 960][config & 3]!;
  const code = p[0]! & 3;
  if (code === 0) return frame;
  if (code !== 3) return 2 * frame;
  if (p.length < 2) return 0;
  const total = (p[1]! & 0x3f) * frame;
  return total > 5760 ? 0 : total; // at most 120 ms per packet
}

/** One input frame on the decoder's sample axis. */
interface Segment {
  /** First and past-the-end sample (48 kHz) of the frame in the order it was written. */
  start: number;
  end: number;
  /** Its pts on the stream timeline, ms. */
  pts: number;
  /** When it was written to the encoder (performance.now()), ms. */
  wall: number;
}

/** Where an output packet goes on the stream timeline, and how long it took. */
export interface MappedPacket {
  /** pts/dts on the stream timeline, ms. */
  pts: number;
  /** From the write of the input frame that completed the encoder's input for it to now, ms. */
  processMs?: number;
  /** From the write of the input frame holding the packet's first sample to now, ms. */
  delayMs?: number;
}

/**
 * Maps a transcoder's output packets onto the stream timeline: the first output packet is
 * anchored to the pts of the input frame it came from (less the encoder's pre-skip), and
 * each next packet follows by the previous packet's duration, so timestamps advance in exact
 * 20 ms steps. Where the input itself jumps (a publisher that paused or returned, frames lost)
 * by more than `toleranceMs`, the output re-anchors to it. Pure: no I/O, no clock of its own.
 */
export class OpusTimeline {
  private readonly preSkip: number;
  private readonly toleranceMs: number;
  private segments: Segment[] = [];
  private inPos = 0;
  private outPos = 0;
  private last?: { pts: number; ms: number };

  /** `preSkip`: encoder lookahead in 48 kHz samples (libopus restricted-lowdelay: 120). */
  constructor(opts: { preSkip: number; toleranceMs?: number }) {
    this.preSkip = opts.preSkip;
    this.toleranceMs = opts.toleranceMs ?? 50;
  }

  /** Input frames written but not yet fully turned into output. */
  get pending(): number {
    return this.segments.length;
  }

  /** Records one input frame of `samples48` samples (at 48 kHz) with its pts, written at `wall`. */
  input(pts: number, samples48: number, wall: number): void {
    this.segments.push({ start: this.inPos, end: this.inPos + samples48, pts, wall });
    this.inPos += samples48;
  }

  /** Places the next output packet of `samples48` samples, received at `wall`. */
  output(samples48: number, wall: number): MappedPacket {
    // The packet decodes to input samples [first, first + n) (delayed by the lookahead), but the
    // encoder needed its whole input frame [outPos, outPos + n) to make it.
    const first = this.outPos - this.preSkip;
    const needed = this.outPos + samples48 - 1;
    this.outPos += samples48;
    const head = this.find(Math.max(first, 0));
    const tail = this.find(needed);
    let mapped: number | undefined;
    if (head) mapped = head.pts + (first - head.start) / 48;
    else {
      const end = this.segments.at(-1);
      if (end) mapped = end.pts + (first - end.start) / 48;
    }
    let pts: number;
    if (!this.last) pts = mapped ?? 0;
    else {
      const expected = this.last.pts + this.last.ms;
      pts = mapped !== undefined && Math.abs(mapped - expected) > this.toleranceMs ? mapped : expected;
      // Never go back on the stream timeline.
      pts = Math.max(pts, this.last.pts + 1);
    }
    this.last = { pts, ms: samples48 / 48 };
    while (this.segments.length > 1 && this.segments[0]!.end <= first + samples48) this.segments.shift();
    const out: MappedPacket = { pts };
    if (tail) out.processMs = wall - tail.wall;
    if (head) out.delayMs = wall - head.wall;
    return out;
  }

  /** A new encoder process: sample positions start again; the timeline's last pts is kept. */
  restart(): void {
    this.segments = [];
    this.inPos = 0;
    this.outPos = 0;
  }

  private find(sample: number): Segment | undefined {
    for (const s of this.segments) if (sample >= s.start && sample < s.end) return s;
    return undefined;
  }
}
