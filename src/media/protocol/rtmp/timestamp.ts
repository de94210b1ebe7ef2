/**
 * RTMP timestamps are 32-bit milliseconds that wrap after ~49.7 days and may start anywhere.
 * These helpers turn them into one absolute, monotonic millisecond timeline per session.
 */

/**
 * Unwraps 32-bit timestamps: each value is placed at the nearest point (±2^31 ms) to the
 * previous one, so wrap-arounds keep counting up and small reorderings (audio and video
 * interleaved a few ms apart) stay small steps back.
 */
export class TimestampUnwrapper {
  private lastRaw: number | undefined;
  private lastAbs = 0;

  /** The absolute time of a 32-bit timestamp. */
  unwrap(raw: number): number {
    const r = raw >>> 0;
    if (this.lastRaw === undefined) {
      this.lastRaw = r;
      this.lastAbs = r;
      return r;
    }
    const delta = (r - this.lastRaw) | 0; // signed 32-bit difference
    this.lastRaw = r;
    this.lastAbs += delta;
    return this.lastAbs;
  }
}

/** Keeps one track's decode times from going backwards (a publisher's glitch must not reach readers). */
export class MonotonicClock {
  private last = -Infinity;
  /** Times a value had to be pulled forward. */
  corrected = 0;

  /** `t`, or the previous value when `t` would go back. */
  next(t: number): number {
    if (t < this.last) {
      this.corrected++;
      return this.last;
    }
    this.last = t;
    return t;
  }
}
