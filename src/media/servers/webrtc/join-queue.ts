import { AirError } from '../../../shared/errors.ts';

/** Limits of the join queue. */
export interface JoinLimits {
  /** Handshakes in flight at once (POST answered, ICE + DTLS not yet up). */
  maxInFlight: number;
  /** Joins waiting for a slot; more get 503. */
  maxQueued: number;
  /** Pending (waiting or in flight) joins of one token. */
  perToken: number;
  /** Pending joins from one address (a school's NAT puts a classroom behind one). */
  perAddress: number;
  /** Longest wait for a slot, ms; then 503 with Retry-After. */
  maxWaitMs: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  token: string;
  address: string;
}

/**
 * A fair join queue (FIFO) with a bounded number of handshakes in flight, and caps per token
 * and per address on pending joins, so one student (or one misbehaving script) cannot hold the
 * slots other viewers need. `acquire` resolves with a release function to call once, when the
 * viewer's connection is up or has failed.
 */
export class JoinQueue {
  private readonly limits: JoinLimits;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private readonly byToken = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();
  private closed = false;

  constructor(limits: JoinLimits) {
    this.limits = limits;
  }

  /** Handshakes in flight and joins waiting. */
  get stats(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queue.length };
  }

  private inc(m: Map<string, number>, k: string, d: number): void {
    const n = (m.get(k) ?? 0) + d;
    if (n <= 0) m.delete(k);
    else m.set(k, n);
  }

  /** Waits for a handshake slot; CAPACITY (503, Retry-After) past a cap or after the wait. */
  acquire(token: string, address: string): Promise<() => void> {
    const l = this.limits;
    if (this.closed)
      return Promise.reject(new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' }));
    if ((this.byToken.get(token) ?? 0) >= l.perToken) {
      return Promise.reject(
        new AirError('CAPACITY', 'This token already has connections being set up.', { 'Retry-After': '2' }),
      );
    }
    if ((this.byAddress.get(address) ?? 0) >= l.perAddress) {
      return Promise.reject(
        new AirError('CAPACITY', 'Too many viewers are connecting from this address at once.', {
          'Retry-After': '2',
        }),
      );
    }
    this.inc(this.byToken, token, 1);
    this.inc(this.byAddress, address, 1);
    if (this.inFlight < l.maxInFlight && this.queue.length === 0) {
      this.inFlight++;
      return Promise.resolve(this.releaser(token, address));
    }
    if (this.queue.length >= l.maxQueued) {
      this.inc(this.byToken, token, -1);
      this.inc(this.byAddress, address, -1);
      return Promise.reject(
        new AirError('CAPACITY', 'Too many viewers are connecting at once.', { 'Retry-After': '2' }),
      );
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        token,
        address,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(w);
          if (i >= 0) this.queue.splice(i, 1);
          this.inc(this.byToken, token, -1);
          this.inc(this.byAddress, address, -1);
          reject(
            new AirError('CAPACITY', 'Too many viewers are connecting at once.', { 'Retry-After': '2' }),
          );
        }, l.maxWaitMs),
      };
      this.queue.push(w);
    });
  }

  private releaser(token: string, address: string): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.inc(this.byToken, token, -1);
      this.inc(this.byAddress, address, -1);
      this.next();
    };
  }

  private next(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length) {
      const w = this.queue.shift()!;
      clearTimeout(w.timer);
      this.inFlight++;
      w.resolve(this.releaser(w.token, w.address));
    }
  }

  /** Refuses every waiting join. */
  close(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' }));
    }
  }
}
