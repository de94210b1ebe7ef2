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
import type { ClassEvent, HandEntry, PushedQuiz } from './messages.ts';

/** The live parts of a class's state kept in the database: raised hands, the open quiz. */
export interface LiveState {
  hands: HandEntry[];
  quiz: PushedQuiz | null;
}

/** Reads the live state of a class from durable storage (so it survives a restart). */
export type LiveStateSource = (classId: string) => Promise<LiveState>;

/** What a socket is told about its class in `welcome`. */
export interface ClassState {
  id: string;
  title: string;
  status: ClassStatus;
  chatLocked: boolean;
  streamLive: boolean;
  /** Raised hands, oldest first. */
  hands: HandEntry[];
  /** The quiz open now (as pushed in `quiz.opened`), or null. */
  quiz: PushedQuiz | null;
}

/**
 * The state from the database and the history flags; CLASS_NOT_FOUND without such a class.
 * Hands and the open quiz come from `live` (durable) when given, else from the history.
 */
export async function loadClassState(
  classId: string,
  classes: Pick<ClassRepo, 'byId'>,
  history: Pick<EventHistory, 'flags' | 'since'>,
  live?: LiveStateSource,
): Promise<ClassState> {
  const [cls, flags, recent, stored] = await Promise.all([
    classes.byId(classId),
    history.flags(classId),
    live ? undefined : history.since(classId, 0),
    live?.(classId),
  ]);
  if (!cls) throw new AirError('CLASS_NOT_FOUND');
  const state = fromRecord(cls, flags[STREAM_FLAG] === '1');
  if (stored) {
    state.hands = [...stored.hands];
    state.quiz = stored.quiz;
  }
  for (const e of recent?.events ?? []) {
    if (/^(hand|class|quiz)\./.test(e.type)) applyLive(state, e as ClassEvent);
  }
  return state;
}

/** The state of a class record. */
export function fromRecord(c: ClassRecord, streamLive: boolean): ClassState {
  return {
    id: c.id,
    title: c.title,
    status: c.status,
    chatLocked: c.chatLocked,
    streamLive,
    hands: [],
    quiz: null,
  };
}

/** True for the events that change a {@link ClassState}. */
export function changesState(e: ClassEvent): boolean {
  return (
    e.type === 'chat.locked' ||
    e.type.startsWith('class.') ||
    e.type.startsWith('stream.') ||
    e.type.startsWith('hand.') ||
    e.type === 'quiz.opened' ||
    e.type === 'quiz.closed'
  );
}

/**
 * Keeps the hand queue (raised = appended once, lowered = removed) and the open quiz; a new or
 * ended lesson clears both.
 */
function applyLive(s: ClassState, e: ClassEvent): void {
  if (e.type === 'hand.raised') {
    if (!s.hands.some((h) => h.id === e.id)) s.hands = [...s.hands, { id: e.id, name: e.name, at: e.at }];
  } else if (e.type === 'hand.lowered') {
    s.hands = s.hands.filter((h) => h.id !== e.id);
  } else if (e.type === 'quiz.opened') {
    s.quiz = e.quiz;
  } else if (e.type === 'quiz.closed') {
    if (s.quiz?.runId === e.runId) s.quiz = null;
  } else if (e.type === 'class.started' || e.type === 'class.ended') {
    s.hands = [];
    s.quiz = null;
  }
}

/** Applies an event to a state (in place). Unrelated events change nothing. */
export function applyEvent(s: ClassState, e: ClassEvent): void {
  applyLive(s, e);
  switch (e.type) {
    case 'chat.locked':
      s.chatLocked = e.locked;
      break;
    case 'class.started':
      if (s.status === 'scheduled') s.status = 'live';
      break;
    case 'class.ended':
      s.status = 'scheduled';
      break;
    case 'stream.live':
      s.streamLive = true;
      break;
    case 'stream.waiting':
    case 'stream.offline':
      s.streamLive = false;
      break;
    default:
      break;
  }
}
