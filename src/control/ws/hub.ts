import type { Logger } from '../../shared/logger.ts';
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import type { ClassRepo } from '../store/types.ts';
import {
  applyEvent,
  changesState,
  loadClassState,
  type ClassState,
  type LiveStateSource,
} from './class-state.ts';
import type { EventHistory } from './history.ts';
import type { ClassEvent } from './messages.ts';

/** A class event before it has its sequence number. */
export type UnsequencedEvent = ClassEvent extends infer E
  ? E extends ClassEvent
    ? Omit<E, 'seq'>
    : never
  : never;

/** One local socket of a class, as the hub sees it. */
export interface HubMember {
  readonly classId: string;
  /** Delivers a class event; `frame` is its JSON text (serialised once for every member). */
  deliver(event: ClassEvent, frame: string): void;
  /** Called every heartbeat interval (ping, and drop a socket that missed the last pong). */
  heartbeat(): void;
  /** Closes the socket as the server goes away; resolves once its departure is recorded. */
  shutdown(): Promise<void>;
}

/** Options of {@link ClassHub}. */
export interface ClassHubOptions {
  bus: Bus;
  history: EventHistory;
  classes: Pick<ClassRepo, 'nextSeq' | 'byId'>;
  logger: Logger;
  /** WebSocket ping interval (ms, default 25 000; 0 = none). */
  heartbeatMs?: number;
  /** Raised hands and the open quiz from the database, when a class's state is loaded. */
  live?: LiveStateSource;
}

interface LocalClass {
  members: Set<HubMember>;
  unsubscribe: Unsubscribe;
  /** Resolves once `state` is loaded (rejects if the class cannot be loaded). */
  loaded: Promise<void>;
  state?: ClassState;
  /** State-changing events that arrived while the state was loading. */
  early: ClassEvent[];
}

/** The bus channel of a class. */
export function classChannel(classId: string): string {
  return `class:${classId}`;
}

/**
 * Events kept in the recent history for `since=` (chat is in the database; presence is not
 * replayed; reactions and live quiz results are momentary).
 */
export function isRetained(type: ClassEvent['type']): boolean {
  return (
    type !== 'chat.message' &&
    !type.startsWith('presence.') &&
    type !== 'reaction' &&
    type !== 'quiz.results' &&
    type !== 'stream.stats'
  );
}

/**
 * The fan-out of class events. Publishing gives an event the class's next sequence number
 * (shared by every replica through the database), keeps it in the recent history when it is
 * of a retained kind, and publishes it on the bus channel `class:<id>`; every replica (this
 * one included) delivers what arrives on that channel to its own sockets of the class. The hub
 * subscribes to a class's channel while it has at least one local socket of that class, and
 * keeps that class's {@link ClassState} current from its events meanwhile.
 */
export class ClassHub {
  private readonly bus: Bus;
  private readonly history: EventHistory;
  private readonly classes: Pick<ClassRepo, 'nextSeq' | 'byId'>;
  private readonly log: Logger;
  private readonly live: LiveStateSource | undefined;
  private readonly local = new Map<string, LocalClass>();
  private readonly timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: ClassHubOptions) {
    this.bus = opts.bus;
    this.history = opts.history;
    this.classes = opts.classes;
    this.log = opts.logger;
    this.live = opts.live;
    const every = opts.heartbeatMs ?? 25_000;
    if (every > 0) {
      this.timer = setInterval(() => this.each((m) => m.heartbeat()), every);
      this.timer.unref();
    }
  }

  /**
   * Adds a local socket; resolves once the class's channel delivers to it and its state is
   * known. Rejects (CLASS_NOT_FOUND for no such class) with the socket detached.
   */
  async attach(member: HubMember): Promise<void> {
    if (this.closing) throw new Error('hub closed');
    const { classId } = member;
    let c = this.local.get(classId);
    if (!c) {
      const unsubscribe = this.bus.subscribe(classChannel(classId), (msg) => this.onBusMessage(classId, msg));
      const entry: LocalClass = { members: new Set(), unsubscribe, loaded: Promise.resolve(), early: [] };
      entry.loaded = (async () => {
        await unsubscribe.ready;
        const state = await loadClassState(classId, this.classes, this.history, this.live);
        for (const e of entry.early) applyEvent(state, e);
        entry.early = [];
        entry.state = state;
      })();
      entry.loaded.catch(() => {
        if (this.local.get(classId) !== entry) return;
        this.local.delete(classId);
        unsubscribe();
      });
      this.local.set(classId, (c = entry));
    }
    c.members.add(member);
    try {
      await c.loaded;
    } catch (e) {
      c.members.delete(member);
      throw e;
    }
  }

  /** The current state of a class this hub has sockets of (undefined otherwise). */
  state(classId: string): ClassState | undefined {
    const s = this.local.get(classId)?.state;
    return s && { ...s };
  }

  /** Removes a local socket (idempotent); the last one of a class ends the subscription. */
  detach(member: HubMember): void {
    const c = this.local.get(member.classId);
    if (!c?.members.delete(member) || c.members.size > 0) return;
    this.local.delete(member.classId);
    c.unsubscribe();
  }

  /** Sequences, retains and publishes a class event; resolves with it as published. */
  async publish(classId: string, event: UnsequencedEvent): Promise<ClassEvent> {
    const seq = await this.classes.nextSeq(classId);
    const full = { ...event, seq } as ClassEvent;
    await this.broadcast(classId, full);
    return full;
  }

  /** Retains (when of a retained kind) and publishes an event that already has its seq. */
  async broadcast(classId: string, event: ClassEvent): Promise<void> {
    if (isRetained(event.type)) await this.history.append(classId, event);
    await this.bus.publish(classChannel(classId), event);
  }

  /** Local sockets of a class (all classes without an argument). */
  memberCount(classId?: string): number {
    if (classId !== undefined) return this.local.get(classId)?.members.size ?? 0;
    let n = 0;
    for (const c of this.local.values()) n += c.members.size;
    return n;
  }

  private each(fn: (m: HubMember) => void): void {
    for (const c of [...this.local.values()]) {
      for (const m of [...c.members]) {
        try {
          fn(m);
        } catch (e) {
          this.log.warn({ err: e }, 'hub member callback failed');
        }
      }
    }
  }

  private onBusMessage(classId: string, msg: unknown): void {
    const e = msg as Partial<ClassEvent> | null;
    if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || !Number.isInteger(e.seq)) {
      this.log.warn({ classId }, 'dropped a malformed class event from the bus');
      return;
    }
    const c = this.local.get(classId);
    if (!c) return;
    if (changesState(e as ClassEvent)) {
      if (c.state) applyEvent(c.state, e as ClassEvent);
      else c.early.push(e as ClassEvent);
    }
    const frame = JSON.stringify(e);
    for (const m of [...c.members]) {
      try {
        m.deliver(e as ClassEvent, frame);
      } catch (err) {
        this.log.warn({ err, classId }, 'delivery to a socket failed');
      }
    }
  }

  /** Closes every local socket (1001, going away) and waits for their departures. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      if (this.timer) clearInterval(this.timer);
      const all: Promise<void>[] = [];
      this.each((m) => all.push(m.shutdown()));
      await Promise.allSettled(all);
      for (const c of this.local.values()) c.unsubscribe();
      this.local.clear();
    })());
  }
}
