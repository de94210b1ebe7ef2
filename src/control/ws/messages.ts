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

/** `ping`: answered with `pong` (application-level keepalive for browsers). */
export const Ping = Type.Object(
  { type: Type.Literal('ping'), id: Type.Optional(Type.Union([Ref, Type.Integer()])) },
  { additionalProperties: false },
);

/** Every client → server message schema by its `type`. */
export const CLIENT_SCHEMAS = {
  'chat.send': ChatSend,
  'chat.delete': ChatDelete,
  'chat.lock': ChatLock,
  ping: Ping,
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
}

/** Class-wide events (broadcast to the class on every replica); all carry `seq`. */
export type ClassEvent =
  | ChatEvent
  | { type: 'chat.deleted'; seq: number; id: string }
  | { type: 'chat.locked'; seq: number; locked: boolean }
  | { type: 'presence.join'; seq: number; participant: RosterEntry }
  | { type: 'presence.leave'; seq: number; id: string }
  | LifecycleEvent;

/**
 * Lifecycle of a class: `class.started` / `class.ended` carry `class` (id, title, status,
 * startedAt, endedAt); `stream.live` / `stream.offline` carry the media `path`.
 */
export interface LifecycleEvent {
  type: LifecycleEventType;
  seq: number;
  /** ISO time. */
  at: string;
  class?: Record<string, unknown>;
  path?: string;
}

/** The type of a class-wide event. */
export type ClassEventType = ClassEvent['type'];

/** Events a caller of `ClassEvents.emit` may raise (lifecycle and stream state). */
export type LifecycleEventType = 'class.started' | 'class.ended' | 'stream.live' | 'stream.offline';

/** The first message on every socket: who you are and the class as it is now. */
export interface WelcomeMessage {
  type: 'welcome';
  /** The seq of your own `presence.join` (a cursor for `since=`). */
  seq: number;
  you: RosterEntry & { sub: string; canSend: boolean; canModerate: boolean };
  class: {
    id: string;
    title: string;
    status: 'scheduled' | 'live' | 'ended';
    chatLocked: boolean;
    /** True while a publisher is live on `live/<classId>`. */
    streamLive: boolean;
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
} as const;
