/**
 * The messages of the class channel `/ws` (DESIGN §4). Every frame is a JSON object with a
 * `type`. Client → server messages are validated against the TypeBox schemas below; server →
 * client messages are the types below. Every event pushed to a class carries the class's
 * sequence number `seq` (allocated in the database, shared by every replica); a client keeps
 * the highest `seq` it has seen and reconnects with `/ws?since=<seq>` to get what it missed.
 * Presence events go out up to 100 ms late, batched; apply them idempotently (join = upsert by
 * participant id, leave = delete by id). Other events may also arrive out of seq order when
 * several replicas publish at once; order chat by `seq`.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ParticipantRole } from '../store/types.ts';

/** Longest chat message, in characters. */
export const MAX_CHAT_CHARS = 1000;

const Ref = Type.String({ minLength: 1, maxLength: 64 });

/** `chat.send`: a message to the class (students, teacher, admin; never monitors). */
export const ChatSend = Type.Object(
  {
    type: Type.Literal('chat.send'),
    text: Type.String({ minLength: 1, maxLength: MAX_CHAT_CHARS }),
    /** Echoed in the resulting `chat.message` so the sender can match it. */
    clientId: Type.Optional(Ref),
  },
  { additionalProperties: false },
);

/** `chat.delete`: the teacher removes a message (by its id). */
export const ChatDelete = Type.Object(
  { type: Type.Literal('chat.delete'), id: Ref },
  { additionalProperties: false },
);

/** `chat.lock`: the teacher locks (students may not send) or unlocks the chat. */
export const ChatLock = Type.Object(
  { type: Type.Literal('chat.lock'), locked: Type.Boolean() },
  { additionalProperties: false },
);

/** `chat.approve`: the teacher posts a held message (by its held id) as its sender wrote it. */
export const ChatApprove = Type.Object(
  { type: Type.Literal('chat.approve'), id: Ref },
  { additionalProperties: false },
);

/** `chat.reject`: the teacher refuses a held message (by its held id); nobody else sees it. */
export const ChatReject = Type.Object(
  { type: Type.Literal('chat.reject'), id: Ref },
  { additionalProperties: false },
);

/** `ping`: answered with `pong` (application-level keepalive for browsers). */
export const Ping = Type.Object(
  { type: Type.Literal('ping'), id: Type.Optional(Type.Union([Ref, Type.Integer()])) },
  { additionalProperties: false },
);

/** Playback states a student's page reports. */
export const PLAYING_STATES = ['playing', 'stalled', 'paused', 'none'] as const;
/** Reactions a student may send. */
export const REACTION_KINDS = ['like', 'clap', 'heart', 'laugh', 'wow', 'confused'] as const;

/** `engagement.state`: a student's player and tab state, on every change and every 10 s. */
export const EngagementState = Type.Object(
  {
    type: Type.Literal('engagement.state'),
    playing: Type.Union(PLAYING_STATES.map((p) => Type.Literal(p))),
    visible: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** `hand.raise`: a student raises their hand. */
export const HandRaise = Type.Object({ type: Type.Literal('hand.raise') }, { additionalProperties: false });

/** `hand.lower`: a student lowers their own hand; the teacher lowers the hand `id`. */
export const HandLower = Type.Object(
  { type: Type.Literal('hand.lower'), id: Type.Optional(Ref) },
  { additionalProperties: false },
);

/** `reaction`: a student reacts (at most 2 per second per socket). */
export const Reaction = Type.Object(
  { type: Type.Literal('reaction'), kind: Type.Union(REACTION_KINDS.map((k) => Type.Literal(k))) },
  { additionalProperties: false },
);

/** Every client → server message schema by its `type`. */
export const CLIENT_SCHEMAS = {
  'chat.send': ChatSend,
  'chat.delete': ChatDelete,
  'chat.lock': ChatLock,
  'chat.approve': ChatApprove,
  'chat.reject': ChatReject,
  ping: Ping,
  'engagement.state': EngagementState,
  'hand.raise': HandRaise,
  'hand.lower': HandLower,
  reaction: Reaction,
} as const satisfies Record<string, TSchema>;

/** A client → server message type. */
export type ClientType = keyof typeof CLIENT_SCHEMAS;
/** A validated client → server message. */
export type ClientMessage = { [K in ClientType]: Static<(typeof CLIENT_SCHEMAS)[K]> }[ClientType];

/** A person in the roster (one open WebSocket, backed by one attendance record). */
export interface RosterEntry {
  /** Participant (attendance record) id. */
  id: string;
  name: string;
  role: ParticipantRole;
  /** ISO time. */
  joinedAt: string;
}

/** A chat message as pushed (text is empty once deleted). */
export interface ChatEvent {
  type: 'chat.message';
  seq: number;
  id: string;
  /** Sender: its token subject, display name and role. */
  from: { id: string; name: string; role: ParticipantRole };
  text: string;
  /** ISO time. */
  at: string;
  deleted?: true;
  clientId?: string;
  /** Set when the message is a held one the teacher approved (its held id). */
  heldId?: string;
}

/** Why a student's message is held (src/control/ai/builtin/moderation.ts). */
export type HoldReasonName = 'phone' | 'email' | 'rrn' | 'address' | 'insult';

/** A held message as staff see it (`chat.held`, `GET /api/classes/:id/chat/held`). */
export interface HeldEntry {
  id: string;
  from: { id: string; name: string };
  text: string;
  reasons: HoldReasonName[];
  /** ISO time. */
  at: string;
}

/**
 * The chat hold: `chat.held` (staff: a student's message waits for approval), `chat.decided`
 * (staff: approved, with the chat message it became, or rejected), `chat.rejected` (the class,
 * only the held id: the sender's page matches its own waiting message).
 */
export type HoldEvent =
  | { type: 'chat.held'; seq: number; audience: Audience; held: HeldEntry }
  | {
      type: 'chat.decided';
      seq: number;
      audience: Audience;
      id: string;
      status: 'approved' | 'rejected';
      messageId?: string;
    }
  | { type: 'chat.rejected'; seq: number; id: string };

/** To the sender's socket only: its message is held for the teacher (`clientId` as sent). */
export interface ChatPendingMessage {
  type: 'chat.pending';
  id: string;
  clientId?: string;
  reasons: HoldReasonName[];
}

/** Class-wide events (broadcast to the class on every replica); all carry `seq`. */
export type ClassEvent =
  | ChatEvent
  | { type: 'chat.deleted'; seq: number; id: string }
  | { type: 'chat.locked'; seq: number; locked: boolean }
  | { type: 'presence.join'; seq: number; participant: RosterEntry }
  | { type: 'presence.leave'; seq: number; id: string }
  | { type: 'hand.raised'; seq: number; id: string; name: string; at: string }
  | { type: 'hand.lowered'; seq: number; id: string; by: 'self' | 'teacher' }
  | {
      type: 'reaction';
      seq: number;
      kind: (typeof REACTION_KINDS)[number];
      from: { id: string; name: string };
    }
  | QuizEvent
  | HoldEvent
  | PhotoEvent
  | SlideEvent
  | LifecycleEvent;

/** A student's photo of their work as the teacher's console shows it (no file: GET it). */
export interface PhotoEntry {
  id: string;
  from: { id: string; name: string };
  /** ISO time. */
  at: string;
  width: number;
  height: number;
  description: string | null;
}

/** Photos (issue 10), staff only: a new one, and its description when a provider gave one. */
export type PhotoEvent =
  | { type: 'photo.new'; seq: number; audience: Audience; photo: PhotoEntry }
  | {
      type: 'photo.described';
      seq: number;
      audience: Audience;
      id: string;
      description: string;
      provider: 'builtin' | 'gemini';
    };

/** A new slide of the running lesson (issue 10), staff only: its text and who read it. */
export interface SlideEvent {
  type: 'slide.new';
  seq: number;
  audience: Audience;
  lessonId: string;
  slide: { id: string; at: string; text: string; reader: 'gemini' | 'tesseract' | 'none' };
}

/**
 * Who an event is for: absent = everyone in the class; `staff` = teacher, admin and monitor
 * sockets; `teachers` = teacher and admin sockets only (students' held messages and photos:
 * a monitor link, e.g. a projector or a visitor, never sees them).
 */
export type Audience = 'staff' | 'teachers';

/** A hand in the queue (`welcome.class.hands`, oldest first); `id` is the student's participant id. */
export interface HandEntry {
  id: string;
  name: string;
  /** ISO time. */
  at: string;
}

/** A quiz as pushed to the class (never its correct answer). */
export interface PushedQuiz {
  id: string;
  runId: string;
  kind: 'single' | 'multiple' | 'truefalse' | 'short';
  question: string;
  options: string[];
  timeLimitSec: number;
  anonymous: boolean;
  /** ISO time. */
  closesAt: string;
}

/** Quiz events: opened, closed, revealed (aggregates only) to all; live results to staff. */
export type QuizEvent =
  | { type: 'quiz.opened'; seq: number; quiz: PushedQuiz }
  | { type: 'quiz.closed'; seq: number; quizId: string; runId: string }
  | {
      type: 'quiz.revealed';
      seq: number;
      quizId: string;
      runId: string;
      correct: number[] | string[];
      counts: number[];
      answered: number;
    }
  | {
      type: 'quiz.results';
      seq: number;
      audience: Audience;
      quizId: string;
      runId: string;
      answered: number;
      correct: number;
      counts: number[];
    };

/** One student in an `engagement` snapshot. */
export interface EngagementEntry {
  id: string;
  name: string;
  /** 0–100. */
  score: number;
  /** Playing with the tab visible, now. */
  watching: boolean;
  visible: boolean;
  playing: (typeof PLAYING_STATES)[number];
}

/** `engagement`: scores of the present students and the class mean (staff sockets, every 2 s). */
export interface EngagementMessage {
  type: 'engagement';
  /** ISO time. */
  at: string;
  class: number;
  students: EngagementEntry[];
}

/** True when a socket of `role` may receive the event (see {@link Audience}). */
export function mayReceive(role: string, e: object): boolean {
  const audience = (e as { audience?: unknown }).audience;
  if (audience === 'staff') return role !== 'student';
  if (audience === 'teachers') return role === 'teacher' || role === 'admin';
  return true;
}

/**
 * Lifecycle of a class: `class.started` / `class.ended` carry `class` (id, title, status,
 * startedAt, endedAt) and `lesson` (id, number, startedAt, endedAt); `stream.live`,
 * `stream.waiting` (publisher dropped or no media for 3 s) and `stream.offline` carry the
 * media `path`; `stream.stats` (every 2 s while live, not retained) adds width, height, fps,
 * bitrate (bits/s) and viewers; `participant.removed` carries the removed one's `id` (their
 * sockets close after it, code 4003 REMOVED).
 */
export interface LifecycleEvent {
  type: LifecycleEventType;
  seq: number;
  /** ISO time. */
  at: string;
  class?: Record<string, unknown>;
  lesson?: Record<string, unknown>;
  path?: string;
  id?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrate?: number;
  viewers?: number;
  /** `recording.stopped`: why it stopped early ("DISK_FULL", "WRITE_FAILED"). */
  reason?: string;
}

/** The type of a class-wide event. */
export type ClassEventType = ClassEvent['type'];

/** Events a caller of `ClassEvents.emit` may raise (lifecycle and stream state). */
export type LifecycleEventType =
  | 'class.started'
  | 'class.ended'
  | 'stream.live'
  | 'stream.waiting'
  | 'stream.offline'
  | 'stream.stats'
  | 'participant.removed'
  | 'recording.started'
  | 'recording.stopped';

/** The first message on every socket: who you are and the class as it is now. */
export interface WelcomeMessage {
  type: 'welcome';
  /** The seq of your own `presence.join` (a cursor for `since=`). */
  seq: number;
  you: RosterEntry & { sub: string; canSend: boolean; canModerate: boolean };
  class: {
    id: string;
    title: string;
    status: 'scheduled' | 'live' | 'archived';
    chatLocked: boolean;
    /** True while a publisher is live on `live/<classId>`. */
    streamLive: boolean;
    /** Raised hands, oldest first. */
    hands: HandEntry[];
    /** The quiz open now (as in `quiz.opened`), or null: a page loaded mid-quiz shows it. */
    quiz: PushedQuiz | null;
  };
  roster: RosterEntry[];
}

/**
 * After `welcome`, when the socket was opened with `since=`: the missed events were sent
 * (chat from the database, other events from the recent history, presence not replayed: the
 * roster in `welcome` is current). `truncated`: some may be missing; reload the page state.
 */
export interface ReplayedMessage {
  type: 'replayed';
  since: number;
  count: number;
  truncated: boolean;
}

/** A refused message: stable `code` from the error catalogue; the socket stays open. */
export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  /** The `type` of the refused message, when it had one. */
  ref?: string;
}

/** Every server → client message. */
export type ServerMessage =
  | ClassEvent
  | WelcomeMessage
  | ReplayedMessage
  | ErrorMessage
  | EngagementMessage
  | ChatPendingMessage
  | { type: 'pong'; id?: string | number; at: string };

/** WebSocket close codes AirClass uses. */
export const CLOSE = {
  /** Server shutting down: reconnect (to any replica) with `since=`. */
  GOING_AWAY: 1001,
  /** Abuse: too many refused or rate-limited messages. */
  POLICY: 1008,
  /** A frame over the size limit (sent by the ws library itself). */
  TOO_BIG: 1009,
  /** The class channel could not be set up. */
  INTERNAL: 1011,
  /** The client reads too slowly (send buffer over its bound): reconnect with `since=`. */
  SLOW: 1013,
  /** The lesson ended (student and monitor sockets, after `class.ended`): do not reconnect. */
  LESSON_ENDED: 4000,
  /** A newer socket of the same token took this one's place (at most 3 per token). */
  REPLACED: 4001,
  /** The teacher removed this student (after `participant.removed`): do not reconnect. */
  REMOVED: 4003,
} as const;
