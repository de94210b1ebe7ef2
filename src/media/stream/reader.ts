import type { AccessUnit, Codec } from './types.ts';

/** What a reader does with an access unit; a returned promise is awaited before the next one. */
export type AccessUnitSink = (au: AccessUnit) => void | Promise<void>;

/** Reader options. */
export interface ReaderOptions {
  /** Codecs this reader wants; others are never queued. */
  codecs: ReadonlySet<Codec>;
  /** Queue bound in access units; past it the reader drops up to the next keyframe. */
  maxQueue?: number;
  /** A label for logs and stats (e.g. "whep:ab12"). */
  label?: string;
}

/**
 * A reader of one stream with a bounded queue. The stream pushes synchronously and never
 * waits; the reader drains on its own schedule. When the queue is full the reader discards
 * what it holds and everything up to the next video keyframe, and counts what it dropped.
 */
export class Reader {
  readonly codecs: ReadonlySet<Codec>;
  readonly label: string;
  readonly maxQueue: number;
  /** Access units discarded because this reader fell behind. */
  dropped = 0;
  /** Times the reader fell behind and skipped to a keyframe. */
  overflows = 0;
  delivered = 0;
  private readonly queue: AccessUnit[] = [];
  private draining = false;
  private waitKey = false;
  private closed = false;
  private readonly sink: AccessUnitSink;
  private readonly onClose: (r: Reader) => void;

  constructor(opts: ReaderOptions, sink: AccessUnitSink, onClose: (r: Reader) => void) {
    this.codecs = opts.codecs;
    this.maxQueue = opts.maxQueue ?? 512;
    this.label = opts.label ?? 'reader';
    this.sink = sink;
    this.onClose = onClose;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Makes the reader discard everything until the next video keyframe. */
  skipToKeyframe(): void {
    this.waitKey = true;
  }

  /** Called by the stream for every access unit; never blocks. */
  push(au: AccessUnit): void {
    if (this.closed || !this.codecs.has(au.codec)) return;
    if (this.waitKey) {
      if (au.codec === 'h264' && au.key) this.waitKey = false;
      else {
        this.dropped++;
        return;
      }
    }
    if (this.queue.length >= this.maxQueue) {
      this.dropped += this.queue.length + 1;
      this.overflows++;
      this.queue.length = 0;
      // Video readers resume at the next keyframe; audio-only readers resume at once.
      if (this.codecs.has('h264') && !(au.codec === 'h264' && au.key)) {
        this.waitKey = true;
        return;
      }
    }
    this.queue.push(au);
    if (!this.draining) {
      this.draining = true;
      queueMicrotask(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.queue.length > 0) {
      const au = this.queue.shift()!;
      try {
        const r = this.sink(au);
        if (r) await r;
        this.delivered++;
      } catch {
        // A sink that throws loses this unit only; the stream goes on.
        this.dropped++;
      }
    }
    this.draining = false;
  }

  /** Detaches from the stream. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.onClose(this);
  }
}
