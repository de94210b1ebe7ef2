/**
 * Two kinds of timer of the quiz service. {@link RunTimers} closes each open run at its
 * `closes_at`: on start it loads every open run from the database and schedules it (a run
 * already overdue is closed at once), so a restart loses no close; closing itself is
 * idempotent in the database, so every replica may schedule the same run. {@link Throttle}
 * pushes live results of a run at most every `everyMs` (a trailing push carries the latest).
 */

/** Closes runs at their time. */
export class RunTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fire: (runId: string) => Promise<void>;
  private readonly onError: (e: unknown, runId: string) => void;
  private closed = false;

  constructor(fire: (runId: string) => Promise<void>, onError: (e: unknown, runId: string) => void) {
    this.fire = fire;
    this.onError = onError;
  }

  /** Schedules `runId` to close at `closesAt` (now if past); replaces an earlier schedule. */
  schedule(runId: string, closesAt: Date): void {
    if (this.closed) return;
    this.cancel(runId);
    const delay = Math.max(0, closesAt.getTime() - Date.now());
    const t = setTimeout(() => {
      this.timers.delete(runId);
      this.fire(runId).catch((e: unknown) => this.onError(e, runId));
    }, delay);
    t.unref();
    this.timers.set(runId, t);
  }

  cancel(runId: string): void {
    const t = this.timers.get(runId);
    if (t) clearTimeout(t);
    this.timers.delete(runId);
  }

  /** Runs scheduled now. */
  get size(): number {
    return this.timers.size;
  }

  /** Drops every timer (the runs stay open in the database for the next start). Idempotent. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** At most one call of `fn(key)` per `everyMs` per key; a call inside the interval is deferred. */
export class Throttle {
  private readonly last = new Map<string, number>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly everyMs: number;
  private readonly fn: (key: string) => Promise<void>;
  private readonly onError: (e: unknown) => void;

  constructor(everyMs: number, fn: (key: string) => Promise<void>, onError: (e: unknown) => void) {
    this.everyMs = everyMs;
    this.fn = fn;
    this.onError = onError;
  }

  /** Asks for a call for `key` (now, or when the interval since the last one is over). */
  poke(key: string): void {
    if (this.pending.has(key)) return;
    const wait = (this.last.get(key) ?? -Infinity) + this.everyMs - Date.now();
    if (wait <= 0) {
      this.run(key);
      return;
    }
    const t = setTimeout(() => {
      this.pending.delete(key);
      this.run(key);
    }, wait);
    t.unref();
    this.pending.set(key, t);
  }

  /** Calls at once (e.g. on close), cancelling a deferred call, and forgets the key. */
  flush(key: string): Promise<void> {
    const t = this.pending.get(key);
    if (t) clearTimeout(t);
    this.pending.delete(key);
    this.last.delete(key);
    return this.fn(key).catch((e: unknown) => this.onError(e));
  }

  private run(key: string): void {
    this.last.set(key, Date.now());
    this.fn(key).catch((e: unknown) => this.onError(e));
  }

  close(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    this.last.clear();
  }
}
