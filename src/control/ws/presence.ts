/**
 * Who is connected to a class right now: one roster entry per open WebSocket (the database's
 * participants table keeps attendance; this keeps presence). In memory for one process; in
 * Redis (redis-presence.ts) when replicas share a bus, so every replica sees the whole roster.
 */
import type { RosterEntry } from './messages.ts';

/** The roster of every class. */
export interface PresenceStore {
  add(classId: string, entry: RosterEntry): Promise<void>;
  /** True if the entry was there. */
  remove(classId: string, id: string): Promise<boolean>;
  has(classId: string, id: string): Promise<boolean>;
  /** Everyone connected, oldest first. */
  list(classId: string): Promise<RosterEntry[]>;
  /**
   * Claims an attendance record for a socket: true the first time `participantId` is claimed
   * in the class (so a student's first socket continues the record its join made), false after.
   */
  claim(classId: string, participantId: string): Promise<boolean>;
  /** Stops background work (heartbeats). Idempotent. */
  close(): Promise<void>;
}

/** Sorts roster entries by join time, then id (a stable order for clients). */
export function byJoinTime(a: RosterEntry, b: RosterEntry): number {
  return a.joinedAt < b.joinedAt ? -1 : a.joinedAt > b.joinedAt ? 1 : a.id < b.id ? -1 : 1;
}

/** {@link PresenceStore} in this process's memory (the single-process default). */
export class MemoryPresence implements PresenceStore {
  private readonly classes = new Map<string, Map<string, RosterEntry>>();
  private readonly claims = new Map<string, Set<string>>();
  private readonly maxClasses: number;

  /** `maxClasses`: classes whose claims are remembered; the oldest are forgotten (default 1000). */
  constructor(opts: { maxClasses?: number } = {}) {
    this.maxClasses = opts.maxClasses ?? 1000;
  }

  async add(classId: string, entry: RosterEntry): Promise<void> {
    let m = this.classes.get(classId);
    if (!m) this.classes.set(classId, (m = new Map()));
    m.set(entry.id, { ...entry });
  }

  async remove(classId: string, id: string): Promise<boolean> {
    const m = this.classes.get(classId);
    const had = m?.delete(id) ?? false;
    if (m?.size === 0) this.classes.delete(classId);
    return had;
  }

  async has(classId: string, id: string): Promise<boolean> {
    return this.classes.get(classId)?.has(id) ?? false;
  }

  async list(classId: string): Promise<RosterEntry[]> {
    return [...(this.classes.get(classId)?.values() ?? [])].map((e) => ({ ...e })).sort(byJoinTime);
  }

  async claim(classId: string, participantId: string): Promise<boolean> {
    let set = this.claims.get(classId);
    if (!set) {
      this.claims.set(classId, (set = new Set()));
      for (const old of this.claims.keys()) {
        if (this.claims.size <= this.maxClasses) break;
        this.claims.delete(old);
      }
    }
    if (set.has(participantId)) return false;
    set.add(participantId);
    return true;
  }

  async close(): Promise<void> {
    this.classes.clear();
    this.claims.clear();
  }
}
