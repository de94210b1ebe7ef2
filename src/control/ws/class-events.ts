import type { Logger } from '../../shared/logger.ts';
import type { ClassRepo } from '../store/types.ts';
import type { EventHistory } from './history.ts';
import type { ClassHub } from './hub.ts';
import type { LifecycleEvent, LifecycleEventType } from './messages.ts';

/** Every lifecycle event type, for checks. */
export const LIFECYCLE_EVENTS: readonly LifecycleEventType[] = [
  'class.started',
  'class.ended',
  'stream.live',
  'stream.waiting',
  'stream.offline',
  'stream.stats',
  'participant.removed',
  'recording.started',
  'recording.stopped',
];

const STAT_FIELDS = ['width', 'height', 'fps', 'bitrate', 'viewers'] as const;

/** The flag of a class that says whether its stream is live ("1") or not ("0"). */
export const STREAM_FLAG = 'streamLive';

/** An event as the classroom raises it (see classroom/events.ts): a type and its fields. */
export interface RaisedEvent {
  type: string;
  [field: string]: unknown;
}

/** What {@link ClassEvents} needs. */
export interface ClassEventsDeps {
  hub: Pick<ClassHub, 'publish'>;
  history: Pick<EventHistory, 'setFlag'>;
  classes: Pick<ClassRepo, 'byId'>;
  logger: Logger;
}

/**
 * Lifecycle events pushed to a class (implements the classroom's `ClassEvents`): started and
 * ended (a lesson), raised by the class service after it changes the status; a student
 * removed; and the stream's live / waiting / offline / stats, raised from the stream registry
 * for the path `live/<classId>` (stats are not retained). Each is sequenced, kept in
 * the recent history and published to the class on every replica; the stream state is also
 * kept as a flag for `welcome`. `emit` never rejects (the change it reports has happened):
 * a failure is logged.
 */
export class ClassEvents {
  private readonly deps: ClassEventsDeps;

  constructor(deps: ClassEventsDeps) {
    this.deps = deps;
  }

  /**
   * Pushes `event` to everyone in the class. Resolves with the event as pushed, or undefined
   * when its type is not a lifecycle type, there is no such class, or publishing failed.
   */
  async emit(classId: string, event: RaisedEvent): Promise<LifecycleEvent | undefined> {
    const type = event.type as LifecycleEventType;
    if (!LIFECYCLE_EVENTS.includes(type)) {
      this.deps.logger.warn({ classId, type: String(event.type) }, 'not a class lifecycle event; dropped');
      return undefined;
    }
    try {
      if (!(await this.deps.classes.byId(classId))) return undefined;
      if (type === 'stream.live' || type === 'stream.offline' || type === 'stream.waiting') {
        await this.deps.history.setFlag(classId, STREAM_FLAG, type === 'stream.live' ? '1' : '0');
      }
      const pushed: Omit<LifecycleEvent, 'seq'> = { type, at: new Date().toISOString() };
      if (event.class && typeof event.class === 'object')
        pushed.class = event.class as Record<string, unknown>;
      if (event.lesson && typeof event.lesson === 'object')
        pushed.lesson = event.lesson as Record<string, unknown>;
      if (typeof event.path === 'string') pushed.path = event.path;
      if (typeof event.id === 'string') pushed.id = event.id;
      if (typeof event.reason === 'string') pushed.reason = event.reason;
      for (const f of STAT_FIELDS) if (typeof event[f] === 'number') pushed[f] = event[f] as number;
      return (await this.deps.hub.publish(classId, pushed)) as LifecycleEvent;
    } catch (e) {
      this.deps.logger.warn({ err: e, classId, type }, 'class event not pushed');
      return undefined;
    }
  }
}
