import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { AirError, isAirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ChatRepo, ClassRepo, Participant, ParticipantRepo } from '../store/types.ts';
import { canModerate, canSend, chatEvent, participantRole, type Actor, type ChatActions } from './chat.ts';
import type { ClassroomActions, ClassroomSocket } from './classroom-actions.ts';
import type { EventHistory, SeqEvent } from './history.ts';
import type { ClassHub, HubMember } from './hub.ts';
import { InboundGuard, type InboundLimits } from './inbound.ts';
import { Outbox } from './outbox.ts';
import {
  CLOSE,
  type ClassEvent,
  type ClientMessage,
  type RosterEntry,
  type ServerMessage,
  mayReceive,
} from './messages.ts';
import type { PresenceStore } from './presence.ts';

/** Chat messages read per page when replaying, and at most in all. */
const REPLAY_PAGE = 1000;
const REPLAY_MAX = 5000;

/** What a {@link ClientSession} needs (shared by every socket; built by the composition root). */
export interface SessionDeps {
  hub: Pick<ClassHub, 'attach' | 'detach' | 'publish' | 'state'>;
  chat: Pick<ChatActions, 'send' | 'delete' | 'lock' | 'approve' | 'reject'>;
  presence: Pick<PresenceStore, 'add' | 'remove' | 'list' | 'claim'>;
  history: Pick<EventHistory, 'since'>;
  classes: Pick<ClassRepo, 'byId'>;
  participants: Pick<ParticipantRepo, 'join' | 'leave'>;
  chatLog: Pick<ChatRepo, 'since'>;
  logger: Logger;
  limits: InboundLimits;
  /** Close a socket whose unsent data exceeds this (bytes, default 1 MiB): it reads too slowly. */
  maxBufferedBytes?: number;
  /** Engagement, hands and reactions (absent: those messages are refused as unknown). */
  classroom?: ClassroomActions;
  /** Presence events wait up to this long to go out together (ms, default 100). */
  presenceBatchMs?: number;
}

/**
 * One client's WebSocket in a class. On open: joins the class's fan-out, records attendance
 * (a student's first socket reuses the attendance row made by the join), adds itself to the
 * roster and announces it, sends `welcome`, replays what was missed after `since`, then relays
 * live events. Client messages are admitted by an {@link InboundGuard} and handled one at a
 * time, in order; a refused one is answered with an `error` and the socket stays open unless
 * the client is abusive. On close: leaves the roster (announced) and closes the attendance row.
 */
export class ClientSession implements HubMember {
  readonly classId: string;
  private readonly socket: WebSocket;
  private readonly actor: Actor;
  private readonly since: number | undefined;
  private readonly deps: SessionDeps;
  private readonly guard: InboundGuard;
  private readonly log: Logger;
  private state: 'starting' | 'open' | 'closed' = 'starting';
  private pending: ClassEvent[] = [];
  private replayed = new Set<number>();
  private welcomeSeq = 0;
  private participant: RosterEntry | undefined;
  private alive = true;
  private chain: Promise<void>;
  private ended: Promise<void> | undefined;
  private readonly out: Outbox;
  private readonly recheck: (() => Promise<void>) | undefined;
  private classroomHandle: ClassroomSocket | undefined;

  /**
   * `wire` is the TCP socket under the WebSocket (writes are corked; see {@link Outbox}).
   * `recheck` verifies the socket's token again (rejects once it is expired or revoked, the
   * account disabled, the lesson over); it runs on every heartbeat.
   */
  constructor(
    socket: WebSocket,
    actor: Actor,
    since: number | undefined,
    deps: SessionDeps,
    wire?: Socket,
    recheck?: () => Promise<void>,
  ) {
    this.socket = socket;
    this.recheck = recheck;
    this.out = new Outbox(socket, wire, {
      maxBufferedBytes: deps.maxBufferedBytes ?? 1 << 20,
      batchMs: deps.presenceBatchMs ?? 100,
      onSlow: () => this.close(CLOSE.SLOW, 'SLOW'),
    });
    this.actor = actor;
    this.classId = actor.classId;
    this.since = since;
    this.deps = deps;
    this.guard = new InboundGuard(deps.limits);
    this.log = deps.logger.child({ classId: actor.classId, role: actor.role });
    // Handlers first (synchronously), so no frame that arrives during start-up is lost.
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => void this.end());
    socket.on('error', (e) => this.log.debug({ err: e.message }, 'socket error'));
    this.chain = this.start();
  }

  /** Resolves once the socket is set up (or has failed and been closed). */
  ready(): Promise<void> {
    return this.chain;
  }

  private async start(): Promise<void> {
    const { deps, actor } = this;
    try {
      await deps.hub.attach(this);
      const p = await this.attendance();
      const entry: RosterEntry = { id: p.id, name: p.name, role: p.role, joinedAt: p.joinedAt.toISOString() };
      await deps.presence.add(this.classId, entry);
      this.participant = entry;
      const joined = await deps.hub.publish(this.classId, { type: 'presence.join', participant: entry });
      this.welcomeSeq = joined.seq;
      const roster = await deps.presence.list(this.classId);
      const cls = deps.hub.state(this.classId);
      if (!cls) throw new Error('class state missing');
      if (!roster.some((r) => r.id === entry.id)) roster.push(entry);
      this.write({
        type: 'welcome',
        seq: joined.seq,
        you: { ...entry, sub: actor.sub, canSend: canSend(actor.role), canModerate: canModerate(actor.role) },
        class: cls,
        roster,
      });
      if (this.since !== undefined) await this.replay(this.since);
      if (this.state === 'closed') return;
      this.state = 'open';
      this.deps.classroom?.opened(this.handleOf(entry.id));
      const pending = this.pending;
      this.pending = [];
      for (const e of pending) this.deliver(e, JSON.stringify(e));
      // A replayed event may still come live (stored before it was published): skip it then
      // too. Publishing follows storing within moments; forget the replayed seqs after a minute.
      if (this.replayed.size > 0) setTimeout(() => this.replayed.clear(), 60_000).unref();
    } catch (e) {
      if (this.state === 'closed') return;
      this.log.error({ err: e }, 'class channel set-up failed');
      this.close(CLOSE.INTERNAL, 'INTERNAL');
    }
  }

  /**
   * The attendance record of this socket: a student's first socket continues the record its
   * join made (the token's subject); every other socket opens a new one.
   */
  private async attendance(): Promise<Pick<Participant, 'id' | 'name' | 'role' | 'joinedAt'>> {
    const { deps, actor } = this;
    if (actor.role === 'student' && (await deps.presence.claim(this.classId, actor.sub))) {
      return { id: actor.sub, name: actor.name, role: 'student', joinedAt: new Date() };
    }
    return deps.participants.join({
      classId: this.classId,
      name: actor.name,
      role: participantRole(actor.role),
    });
  }

  private async replay(since: number): Promise<void> {
    const { deps } = this;
    const chat = [];
    let after = since;
    let truncated = false;
    for (;;) {
      const page = await deps.chatLog.since(this.classId, after, REPLAY_PAGE);
      chat.push(...page);
      if (page.length < REPLAY_PAGE) break;
      after = page[page.length - 1]!.seq;
      if (chat.length >= REPLAY_MAX) {
        truncated = true;
        break;
      }
    }
    const history = await deps.history.since(this.classId, since);
    const events: SeqEvent[] = [...chat.map((m) => chatEvent(m)), ...history.events];
    events.sort((a, b) => a.seq - b.seq);
    for (const e of events) {
      this.replayed.add(e.seq);
      // Events for staff or teachers only (students' photos, …) are retained too: replay them
      // only to whom they are for.
      if (!mayReceive(this.actor.role, e)) continue;
      this.write(e as unknown as ServerMessage);
    }
    this.write({ type: 'replayed', since, count: events.length, truncated: truncated || history.truncated });
  }

  /** Relays a class event (buffered until `welcome` and the replay are out). */
  deliver(event: ClassEvent, frame: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'starting') {
      this.pending.push(event);
      if (this.pending.length > 10_000) this.close(CLOSE.SLOW, 'SLOW');
      return;
    }
    if (this.replayed.has(event.seq)) return;
    if (!mayReceive(this.actor.role, event)) return;
    if (event.type.startsWith('presence.')) {
      // The roster in `welcome` already reflects presence changes up to its seq.
      if (event.seq > this.welcomeSeq) this.out.hold(frame);
      return;
    }
    this.out.send(frame);
    this.closeAfter(event);
  }

  /**
   * Ending is final: after `class.ended` a student's or monitor's socket closes (4000
   * LESSON_ENDED; their token is refused from now on), and after `participant.removed` the
   * removed one's sockets close (4003 REMOVED). The event goes out first, so the page can say why.
   */
  private closeAfter(event: ClassEvent): void {
    const { role, sub } = this.actor;
    if (event.type === 'class.ended' && (role === 'student' || role === 'monitor')) {
      this.close(CLOSE.LESSON_ENDED, 'LESSON_ENDED');
    } else if (event.type === 'participant.removed' && event.id === sub) {
      this.close(CLOSE.REMOVED, 'REMOVED');
    }
  }

  /** The token subject this socket was opened with. */
  get subject(): string {
    return this.actor.sub;
  }

  /** Closes the socket from outside (e.g. replaced by a newer one of the same token). */
  closeWith(code: number, reason: string): Promise<void> {
    this.close(code, reason);
    return this.end();
  }

  heartbeat(): void {
    if (this.state === 'closed') return;
    if (!this.alive) {
      this.socket.terminate();
      void this.end();
      return;
    }
    this.alive = false;
    this.socket.ping();
    this.recheck?.().catch((e: unknown) => {
      // A token that no longer holds closes its socket; a database hiccup does not.
      if (!isAirError(e) || e.status >= 500 || this.state === 'closed') return;
      this.log.info({ code: e.code }, 'token no longer valid; socket closed');
      this.write({ type: 'error', code: e.code, message: e.message });
      this.close(e.code === 'LESSON_ENDED' ? CLOSE.LESSON_ENDED : CLOSE.POLICY, e.code);
    });
  }

  shutdown(): Promise<void> {
    this.close(CLOSE.GOING_AWAY, 'server shutting down');
    return this.end();
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const r = this.guard.accept(data, isBinary);
    if (!r.ok) {
      if (r.abuse) {
        this.close(CLOSE.POLICY, 'too many refused messages');
        return;
      }
      this.chain = this.chain.then(() =>
        this.write({ type: 'error', code: r.code, message: r.message, ref: r.ref }),
      );
      return;
    }
    this.chain = this.chain.then(() => this.handle(r.msg));
  }

  private async handle(msg: ClientMessage): Promise<void> {
    if (this.state !== 'open') return;
    try {
      if (msg.type === 'ping') this.write({ type: 'pong', id: msg.id, at: new Date().toISOString() });
      else if (msg.type === 'chat.send') {
        const r = await this.deps.chat.send(this.actor, msg.text, msg.clientId);
        // A held message goes to nobody but its sender, who is told it waits for the teacher.
        if (r.type === 'chat.pending') this.write(r);
      } else if (msg.type === 'chat.approve') await this.deps.chat.approve(this.actor, msg.id);
      else if (msg.type === 'chat.reject') await this.deps.chat.reject(this.actor, msg.id);
      else if (msg.type === 'chat.delete') await this.deps.chat.delete(this.actor, msg.id);
      else if (msg.type === 'chat.lock') await this.deps.chat.lock(this.actor, msg.locked);
      else await this.classroomMessage(msg);
    } catch (e) {
      if (isAirError(e) && e.status < 500) {
        this.write({ type: 'error', code: e.code, message: e.message, ref: msg.type });
        if (this.guard.strike()) this.close(CLOSE.POLICY, 'too many refused messages');
      } else {
        this.log.error({ err: e, type: msg.type }, 'class channel message failed');
        const code = isAirError(e) ? e.code : 'INTERNAL';
        this.write({
          type: 'error',
          code,
          message: 'The server could not handle this message.',
          ref: msg.type,
        });
      }
    }
  }

  /** The handle the classroom features get for this socket (one per socket). */
  private handleOf(participantId: string): ClassroomSocket {
    return (this.classroomHandle ??= {
      actor: this.actor,
      participantId,
      push: (m) => {
        if (this.state === 'open') this.write(m);
      },
    });
  }

  private async classroomMessage(msg: ClientMessage): Promise<void> {
    const c = this.deps.classroom;
    const h = this.classroomHandle;
    if (!c || !h) throw new AirError('UNKNOWN_TYPE', `Unknown message type "${msg.type}".`);
    if (msg.type === 'engagement.state') {
      await c.engagementState(h, { playing: msg.playing, visible: msg.visible });
    } else if (msg.type === 'hand.raise') await c.raiseHand(h);
    else if (msg.type === 'hand.lower') await c.lowerHand(h, msg.id);
    else if (msg.type === 'reaction') await c.react(h, msg.kind);
  }

  private write(msg: ServerMessage): void {
    if (this.state !== 'closed') this.out.send(JSON.stringify(msg));
  }

  private close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
    void this.end();
  }

  /** Leaves the class: roster (announced), attendance, fan-out. Idempotent. */
  private end(): Promise<void> {
    if (this.ended) return this.ended;
    this.state = 'closed';
    this.pending = [];
    this.out.close();
    const started = this.chain.catch(() => undefined);
    return (this.ended = (async () => {
      await started;
      this.deps.hub.detach(this);
      if (this.classroomHandle) this.deps.classroom?.closed(this.classroomHandle);
      const p = this.participant;
      if (!p) return;
      await this.deps.presence.remove(this.classId, p.id);
      await this.deps.participants.leave(p.id);
      await this.deps.hub.publish(this.classId, { type: 'presence.leave', id: p.id });
    })().catch((e) => this.log.warn({ err: e }, 'leaving the class channel failed')));
  }
}
