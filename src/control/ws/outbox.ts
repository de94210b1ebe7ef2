import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** Unsent bytes past which the reader is too slow (the socket is then given up). */
  maxBufferedBytes: number;
  /** How long a held frame may wait for company (ms). */
  batchMs: number;
  /** Called once when the reader is too slow; the outbox sends nothing after it. */
  onSlow(): void;
}

/**
 * One socket's outgoing frames. Frames written in one turn of the event loop are corked into
 * one TCP write; frames of low urgency (presence, of which a burst of joins makes N² across a
 * class) are held up to `batchMs` and go out together, before any urgent frame, so the order
 * is kept. A reader whose unsent data passes `maxBufferedBytes` is reported as slow once.
 */
export class Outbox {
  private readonly socket: WebSocket;
  private readonly wire: Socket | undefined;
  private readonly opts: OutboxOptions;
  private held: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private corked = false;
  private done = false;

  /** `wire` is the TCP socket under the WebSocket (for corking); without it frames go one by one. */
  constructor(socket: WebSocket, wire: Socket | undefined, opts: OutboxOptions) {
    this.socket = socket;
    this.wire = wire;
    this.opts = opts;
  }

  /** Sends a frame now (after any held ones). */
  send(frame: string): void {
    this.flush();
    this.write(frame);
  }

  /** Sends a frame within `batchMs`, together with the others held meanwhile. */
  hold(frame: string): void {
    if (this.done) return;
    this.held.push(frame);
    this.timer ??= setTimeout(this.flush, this.opts.batchMs);
  }

  /** Drops held frames and stops sending. Idempotent. */
  close(): void {
    this.done = true;
    this.held = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const f of held) this.write(f);
  };

  private write(frame: string): void {
    if (this.done || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.opts.maxBufferedBytes) {
      this.close();
      this.opts.onSlow();
      return;
    }
    if (this.wire && !this.corked && !this.wire.destroyed) {
      this.corked = true;
      this.wire.cork();
      setImmediate(this.uncork);
    }
    this.socket.send(frame);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.wire?.uncork();
  };
}
