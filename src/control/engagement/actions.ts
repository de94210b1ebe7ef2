/**
 * The classroom's handlers of class-channel messages (implements ws/ `ClassroomActions`):
 * player/tab reports go to the engagement tracker; hands (a queue of students, the teacher
 * lowers one by id) and reactions (at most 2 per second per socket) are published to the
 * class through the hub and recorded as interactions for "my data".
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { DrizzleEngagementRepo } from '../store/engagement-repo.ts';
import type { ClassState } from '../ws/class-state.ts';
import type { ClassroomActions, ClassroomSocket, PlayerState } from '../ws/classroom-actions.ts';
import type { UnsequencedEvent } from '../ws/hub.ts';
import type { REACTION_KINDS } from '../ws/messages.ts';
import type { EngagementTracker } from './tracker.ts';

/** Reactions allowed per socket per second. */
export const REACTIONS_PER_SECOND = 2;

/** What {@link ClassroomFeatures} needs. */
export interface ClassroomFeaturesDeps {
  hub: {
    publish(classId: string, event: UnsequencedEvent): Promise<unknown>;
    state(classId: string): ClassState | undefined;
  };
  tracker: Pick<EngagementTracker, 'attach' | 'detach' | 'report' | 'lesson'>;
  interactions: Pick<DrizzleEngagementRepo, 'add'>;
  logger: Logger;
}

function requireStudent(s: ClassroomSocket, what: string): void {
  if (s.actor.role !== 'student') throw new AirError('FORBIDDEN', `Only students ${what}.`);
}

/** Engagement reports, hands and reactions of the class channel. */
export class ClassroomFeatures implements ClassroomActions {
  private readonly deps: ClassroomFeaturesDeps;
  /** The times of each socket's last reactions (the window of the rate limit). */
  private readonly reacted = new WeakMap<ClassroomSocket, number[]>();

  constructor(deps: ClassroomFeaturesDeps) {
    this.deps = deps;
  }

  opened(socket: ClassroomSocket): void {
    this.deps.tracker.attach(socket);
  }

  closed(socket: ClassroomSocket): void {
    this.deps.tracker.detach(socket);
  }

  async engagementState(socket: ClassroomSocket, state: PlayerState): Promise<void> {
    requireStudent(socket, 'report their player state');
    this.deps.tracker.report(socket, state);
  }

  private record(
    socket: ClassroomSocket,
    participantId: string,
    kind: 'hand' | 'reaction',
    data: Record<string, unknown>,
  ) {
    const classId = socket.actor.classId;
    return this.deps.tracker
      .lesson(classId)
      .then((lesson) =>
        this.deps.interactions.add({ lessonId: lesson?.id ?? null, classId, participantId, kind, data }),
      )
      .catch((e: unknown) => this.deps.logger.warn({ err: e, classId, kind }, 'interaction not recorded'));
  }

  async raiseHand(socket: ClassroomSocket): Promise<void> {
    requireStudent(socket, 'raise a hand');
    const { classId, sub, name } = socket.actor;
    if (this.deps.hub.state(classId)?.hands.some((h) => h.id === sub)) return;
    const at = new Date().toISOString();
    await Promise.all([
      this.deps.hub.publish(classId, { type: 'hand.raised', id: sub, name, at }),
      this.record(socket, sub, 'hand', { action: 'raise', name }),
    ]);
  }

  async lowerHand(socket: ClassroomSocket, id?: string): Promise<void> {
    const { classId, sub, role } = socket.actor;
    let target: string;
    let by: 'self' | 'teacher';
    if (role === 'student') {
      if (id !== undefined && id !== sub)
        throw new AirError('FORBIDDEN', 'Students lower only their own hand.');
      target = sub;
      by = 'self';
    } else if (role === 'teacher' || role === 'admin') {
      if (id === undefined) throw new AirError('VALIDATION', '/id: the teacher names the hand to lower');
      target = id;
      by = 'teacher';
    } else {
      throw new AirError('FORBIDDEN', 'Monitors cannot lower hands.');
    }
    const hand = this.deps.hub.state(classId)?.hands.find((h) => h.id === target);
    if (!hand) return;
    await Promise.all([
      this.deps.hub.publish(classId, { type: 'hand.lowered', id: target, by }),
      this.record(socket, target, 'hand', { action: 'lower', by, name: hand.name }),
    ]);
  }

  async react(socket: ClassroomSocket, kind: (typeof REACTION_KINDS)[number]): Promise<void> {
    requireStudent(socket, 'send reactions');
    const now = Date.now();
    const recent = (this.reacted.get(socket) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= REACTIONS_PER_SECOND) {
      this.reacted.set(socket, recent);
      throw new AirError('RATE_LIMITED', `At most ${REACTIONS_PER_SECOND} reactions per second.`);
    }
    recent.push(now);
    this.reacted.set(socket, recent);
    const { classId, sub, name } = socket.actor;
    await Promise.all([
      this.deps.hub.publish(classId, { type: 'reaction', kind, from: { id: sub, name } }),
      this.record(socket, sub, 'reaction', { kind }),
    ]);
  }
}
