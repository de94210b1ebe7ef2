/**
 * The class-channel messages the pages read, as the server sends them (src/control/ws/messages.ts
 * and docs/classroom.md). Only the fields the UI uses are typed; the server may send more.
 */

/** Who is in a class socket. */
export type Role = 'teacher' | 'student' | 'monitor' | 'admin';

/** A person in the roster (one open socket). */
export interface RosterEntry {
  id: string;
  name: string;
  role: Role;
  joinedAt: string;
}

/** The class as `welcome` describes it. */
export interface WelcomeClass {
  id: string;
  title: string;
  status: 'scheduled' | 'live' | 'ended' | 'archived';
  chatLocked: boolean;
  streamLive: boolean;
  hands?: HandEntry[];
  lesson?: { id: string; number: number; startedAt: string } | null;
}

/** A raised hand in the queue. */
export interface HandEntry {
  id: string;
  name: string;
  at: string;
}

/** Why a student's chat message is held for the teacher. */
export type HoldReason = 'phone' | 'email' | 'rrn' | 'address' | 'insult';

/** A held chat message as staff see it (`chat.held`, `GET /api/classes/:id/chat/held`). */
export interface HeldEntry {
  id: string;
  from: { id: string; name: string };
  text: string;
  reasons: HoldReason[];
  at: string;
}

/** A quiz as pushed to students (never with the correct answer). */
export interface QuizPush {
  id: string;
  runId: string;
  kind: 'single' | 'multiple' | 'truefalse' | 'short';
  question: string;
  options: string[];
  timeLimitSec: number;
  anonymous: boolean;
  closesAt: string;
}

/** Reaction kinds (at most 2 per second per socket). */
export const REACTIONS = ['like', 'clap', 'heart', 'laugh', 'wow', 'confused'] as const;
/** One reaction kind. */
export type ReactionKind = (typeof REACTIONS)[number];

/** A student's photo of their work as staff see it (`photo.new`, `GET /api/lessons/:id/photos`). */
export interface PhotoEntry {
  id: string;
  from: { id: string; name: string };
  at: string;
  width: number;
  height: number;
  description: string | null;
  provider?: 'builtin' | 'gemini' | null;
  seenAt?: string | null;
}

/** A slide of the lesson as staff see it (`slide.new`, `GET /api/lessons/:id/slides`). */
export interface SlideEntry {
  id: string;
  at: string;
  text: string;
  reader: 'gemini' | 'tesseract' | 'none';
  imageUrl?: string;
}

/** Server → client messages by `type`. */
export interface ServerEvents {
  welcome: {
    type: 'welcome';
    seq: number;
    you: RosterEntry & { sub: string; canSend: boolean; canModerate: boolean };
    class: WelcomeClass;
    roster: RosterEntry[];
  };
  replayed: { type: 'replayed'; since: number; count: number; truncated: boolean };
  error: { type: 'error'; code: string; message: string; ref?: string };
  'chat.message': {
    type: 'chat.message';
    seq: number;
    id: string;
    from: { id: string; name: string; role: Role };
    text: string;
    at: string;
    deleted?: true;
    clientId?: string;
    /** A held message the teacher approved: its held id. */
    heldId?: string;
  };
  /** To the sender only: the message waits for the teacher's approval. */
  'chat.pending': { type: 'chat.pending'; id: string; clientId?: string; reasons: HoldReason[] };
  /** Staff: a student's message waits for approval. */
  'chat.held': { type: 'chat.held'; seq?: number; held: HeldEntry };
  /** Staff: a held message was approved (`messageId`: the chat message it became) or rejected. */
  'chat.decided': {
    type: 'chat.decided';
    seq?: number;
    id: string;
    status: 'approved' | 'rejected';
    messageId?: string;
  };
  /** The class: the held message `id` was rejected (its sender's page marks it). */
  'chat.rejected': { type: 'chat.rejected'; seq?: number; id: string };
  'chat.deleted': { type: 'chat.deleted'; seq: number; id: string };
  'chat.locked': { type: 'chat.locked'; seq: number; locked: boolean };
  'presence.join': { type: 'presence.join'; seq: number; participant: RosterEntry };
  'presence.leave': { type: 'presence.leave'; seq: number; id: string };
  'participant.removed': { type: 'participant.removed'; seq?: number; id: string; name?: string };
  'class.started': { type: 'class.started'; seq: number; at: string; class?: Partial<WelcomeClass> };
  'class.ended': { type: 'class.ended'; seq: number; at: string; class?: Partial<WelcomeClass> };
  'stream.live': { type: 'stream.live'; seq: number; at: string; path?: string };
  'stream.waiting': { type: 'stream.waiting'; seq: number; at: string; path?: string };
  'stream.offline': { type: 'stream.offline'; seq: number; at: string; path?: string };
  'recording.started': { type: 'recording.started'; seq: number; at: string; id: string };
  /** A recording stopped early: the disk filled up (DISK_FULL) or a write failed (WRITE_FAILED). */
  'recording.stopped': { type: 'recording.stopped'; seq: number; at: string; id: string; reason: string };
  'stream.stats': {
    type: 'stream.stats';
    path: string;
    width?: number;
    height?: number;
    fps?: number;
    bitrate?: number;
    viewers: number;
  };
  /** Staff: a student sent a photo of their work (GET /api/photos/:id/file for the image). */
  'photo.new': { type: 'photo.new'; seq?: number; photo: PhotoEntry };
  /** Staff: a new slide of the running lesson (GET /api/slides/:id/image for the picture). */
  'slide.new': { type: 'slide.new'; seq?: number; lessonId: string; slide: SlideEntry };
  /** Staff: the class's AI provider described a photo. */
  'photo.described': {
    type: 'photo.described';
    seq?: number;
    id: string;
    description: string;
    provider: 'builtin' | 'gemini';
  };
  'quiz.opened': { type: 'quiz.opened'; seq?: number; quiz: QuizPush };
  'quiz.closed': { type: 'quiz.closed'; seq?: number; quizId: string; runId: string };
  'quiz.revealed': {
    type: 'quiz.revealed';
    seq?: number;
    quizId: string;
    runId: string;
    correct: number[] | string[];
    counts: number[];
    answered: number;
  };
  'quiz.results': {
    type: 'quiz.results';
    quizId: string;
    runId: string;
    answered: number;
    correct: number;
    counts: number[];
  };
  'hand.raised': { type: 'hand.raised'; seq?: number; id: string; name: string; at: string };
  'hand.lowered': { type: 'hand.lowered'; seq?: number; id: string; by?: string };
  reaction: { type: 'reaction'; kind: ReactionKind; from: { id: string; name: string } };
  engagement: {
    type: 'engagement';
    at: string;
    class: number;
    students: {
      id: string;
      name: string;
      score: number;
      watching: boolean;
      visible: boolean;
      playing: string;
    }[];
  };
  pong: { type: 'pong'; id?: string | number; at: string };
}

/** A message type the UI knows. */
export type ServerEventType = keyof ServerEvents;
/** Any server message (known or not): narrow by `type` and cast to `ServerEvents[type]`. */
export interface AnyServerMessage {
  type: string;
  seq?: number;
}

/** Client → server messages. */
export type ClientMessage =
  | { type: 'chat.send'; text: string; clientId: string }
  | { type: 'chat.delete'; id: string }
  | { type: 'chat.lock'; locked: boolean }
  | { type: 'chat.approve'; id: string }
  | { type: 'chat.reject'; id: string }
  | { type: 'ping'; id?: string | number }
  | { type: 'engagement.state'; playing: 'playing' | 'stalled' | 'paused' | 'none'; visible: boolean }
  | { type: 'hand.raise' }
  | { type: 'hand.lower'; id?: string }
  | { type: 'reaction'; kind: ReactionKind };
