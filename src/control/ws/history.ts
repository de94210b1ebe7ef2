/**
 * The bounded recent history of a class's pushed events (everything but chat, which the
 * database keeps, and presence, which the roster snapshot supersedes), so that a client that
 * reconnects with `since=<seq>` gets what it missed; and a few current flags of a class that
 * only live in the control plane (is the stream live). In memory for one process; in Redis
 * (redis-history.ts) when replicas share a bus, so that any replica can serve a reconnect.
 */

/** A pushed event: a JSON object with a `type` and its per-class sequence number. */
export interface SeqEvent {
  seq: number;
  type: string;
}

/** What {@link EventHistory.since} returns. */
export interface HistorySlice {
  /** Retained events with seq > since, oldest first. */
  events: SeqEvent[];
  /** True when an event with seq > since may have been dropped by the bound. */
  truncated: boolean;
}

/** Recent events and flags per class. */
export interface EventHistory {
  append(classId: string, event: SeqEvent): Promise<void>;
  since(classId: string, seq: number): Promise<HistorySlice>;
  /** Sets a flag of a class (e.g. stream = live). */
  setFlag(classId: string, name: string, value: string): Promise<void>;
  /** The flags of a class ({} when none). */
  flags(classId: string): Promise<Record<string, string>>;
}

interface ClassLog {
  events: SeqEvent[];
  /** Highest seq dropped by the bound (0 = none). */
  trimmed: number;
  flags: Record<string, string>;
}

/** Options of {@link MemoryHistory}. */
export interface MemoryHistoryOptions {
  /** Events kept per class (default 200). */
  perClass?: number;
  /** Classes kept; the least recently written is forgotten first (default 1000). */
  maxClasses?: number;
}

/** {@link EventHistory} in this process's memory. */
export class MemoryHistory implements EventHistory {
  private readonly logs = new Map<string, ClassLog>();
  private readonly perClass: number;
  private readonly maxClasses: number;

  constructor(opts: MemoryHistoryOptions = {}) {
    this.perClass = opts.perClass ?? 200;
    this.maxClasses = opts.maxClasses ?? 1000;
  }

  private log(classId: string, write: boolean): ClassLog | undefined {
    let log = this.logs.get(classId);
    if (!write) return log;
    if (log) this.logs.delete(classId);
    else log = { events: [], trimmed: 0, flags: {} };
    this.logs.set(classId, log); // most recently written last
    while (this.logs.size > this.maxClasses) {
      const oldest = this.logs.keys().next().value as string;
      this.logs.delete(oldest);
    }
    return log;
  }

  async append(classId: string, event: SeqEvent): Promise<void> {
    const log = this.log(classId, true)!;
    const copy = structuredClone(event);
    let i = log.events.length;
    while (i > 0 && log.events[i - 1]!.seq > copy.seq) i--;
    log.events.splice(i, 0, copy);
    while (log.events.length > this.perClass) {
      log.trimmed = Math.max(log.trimmed, log.events.shift()!.seq);
    }
  }

  async since(classId: string, seq: number): Promise<HistorySlice> {
    const log = this.log(classId, false);
    if (!log) return { events: [], truncated: false };
    return {
      events: log.events.filter((e) => e.seq > seq).map((e) => structuredClone(e)),
      truncated: seq < log.trimmed,
    };
  }

  async setFlag(classId: string, name: string, value: string): Promise<void> {
    this.log(classId, true)!.flags[name] = value;
  }

  async flags(classId: string): Promise<Record<string, string>> {
    return { ...this.log(classId, false)?.flags };
  }
}
