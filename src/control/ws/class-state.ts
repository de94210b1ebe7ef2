/**
 * The state of a class that sockets need at once (title, status, chat lock, stream live),
 * cached by the hub for each class it has sockets of: read from the database and the history
 * flags when the first socket arrives, then kept current by the class's own events (every
 * change of these fields is published as an event), so a join or a chat send costs no read.
 */
import { AirError } from '../../shared/errors.ts';
import type { ClassRecord, ClassRepo, ClassStatus } from '../store/types.ts';
import { STREAM_FLAG } from './class-events.ts';
import type { EventHistory } from './history.ts';
import type { ClassEvent } from './messages.ts';

/** What a socket is told about its class in `welcome`. */
export interface ClassState {
  id: string;
  title: string;
  status: ClassStatus;
  chatLocked: boolean;
  streamLive: boolean;
}

/** The state from the database and the history flags; CLASS_NOT_FOUND without such a class. */
export async function loadClassState(
  classId: string,
  classes: Pick<ClassRepo, 'byId'>,
  history: Pick<EventHistory, 'flags'>,
): Promise<ClassState> {
  const [cls, flags] = await Promise.all([classes.byId(classId), history.flags(classId)]);
  if (!cls) throw new AirError('CLASS_NOT_FOUND');
  return fromRecord(cls, flags[STREAM_FLAG] === '1');
}

/** The state of a class record. */
export function fromRecord(c: ClassRecord, streamLive: boolean): ClassState {
  return { id: c.id, title: c.title, status: c.status, chatLocked: c.chatLocked, streamLive };
}

/** True for the events that change a {@link ClassState}. */
export function changesState(e: ClassEvent): boolean {
  return e.type === 'chat.locked' || e.type.startsWith('class.') || e.type.startsWith('stream.');
}

/** Applies an event to a state (in place). Unrelated events change nothing. */
export function applyEvent(s: ClassState, e: ClassEvent): void {
  switch (e.type) {
    case 'chat.locked':
      s.chatLocked = e.locked;
      break;
    case 'class.started':
      if (s.status === 'scheduled') s.status = 'live';
      break;
    case 'class.ended':
      s.status = 'ended';
      break;
    case 'stream.live':
      s.streamLive = true;
      break;
    case 'stream.offline':
      s.streamLive = false;
      break;
    default:
      break;
  }
}
