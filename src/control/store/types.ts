/**
 * The persistence interface of the control plane (DESIGN §4). One implementation on Drizzle
 * ORM serves both PGlite (embedded default) and PostgreSQL (`DATABASE_URL`). Callers depend on
 * these types only.
 */
import type { GateFacts, GateQuery } from './gate-repo.ts';
import type { HoldReason } from './schema-ai.ts';

/** Account roles stored in the database (students and monitors have no account). */
export type AccountRole = 'admin' | 'teacher';

/** A signed-up account. `passwordHash` never leaves the control plane. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: AccountRole;
  /** scrypt hash in the form `scrypt$N$r$p$saltB64$hashB64`. */
  passwordHash: string;
  createdAt: Date;
  /** Set while an admin has disabled the account (sign-in and every session refused). */
  disabledAt: Date | null;
  /** Sessions issued before this are refused (password reset, disable). */
  sessionsValidAfter: Date | null;
}

/** Lifecycle of a class: no lesson running, a lesson running, archived (read-only). */
export type ClassStatus = 'scheduled' | 'live' | 'archived';

/** A class (a course that meets many times) with its join code and stream key. */
export interface ClassRecord {
  id: string;
  teacherId: string;
  title: string;
  /** 6 digits, unique among classes that are not archived. */
  joinCode: string;
  /** Secret pasted into an RTMP app; maps to the path `live/<id>`. */
  streamKey: string;
  status: ClassStatus;
  chatLocked: boolean;
  createdAt: Date;
  /** Start of the running (or last) lesson. */
  startedAt: Date | null;
  /** End of the last lesson (same as `lastEndedAt`). */
  endedAt: Date | null;
  /** Incremented at every lesson end and on archive; class tokens carry it as `ep`. */
  epoch: number;
  archivedAt: Date | null;
  lastEndedAt: Date | null;
  /** Days its recordings are kept before the retention job removes them. */
  retentionDays: number;
  /** Student data may go to the AI provider (the teacher turned it on; off by default). */
  aiEnabled: boolean;
  aiProvider: 'builtin' | 'gemini';
}

/** One start → end of a class. */
export interface Lesson {
  id: string;
  classId: string;
  /** 1, 2, … per class. */
  number: number;
  startedAt: Date;
  endedAt: Date | null;
}

/** Who is in a class (attendance). */
export type ParticipantRole = 'teacher' | 'student' | 'monitor';

/** One attendance record: a join and, later, a leave. */
export interface Participant {
  id: string;
  classId: string;
  name: string;
  role: ParticipantRole;
  joinedAt: Date;
  leftAt: Date | null;
  /** The lesson it belongs to (null: joined while no lesson was running). */
  lessonId: string | null;
  /** Set when the teacher removed the student. */
  removedAt: Date | null;
}

/** A chat message with its per-class sequence number. */
export interface ChatMessage {
  id: string;
  classId: string;
  seq: number;
  senderId: string;
  senderName: string;
  senderRole: ParticipantRole;
  text: string;
  createdAt: Date;
  deletedAt: Date | null;
}

/** A monitor share link (its token carries `lnk` = id). */
export interface MonitorLinkRecord {
  id: string;
  classId: string;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** Users. */
export interface UserRepo {
  create(u: { email: string; name: string; role: AccountRole; passwordHash: string }): Promise<User>;
  byId(id: string): Promise<User | undefined>;
  /** Case-insensitive. */
  byEmail(email: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  count(): Promise<number>;
  /**
   * Changes an account: `disabled` (true disables and revokes its sessions, false enables),
   * `passwordHash` (revokes its sessions), `name`. Undefined when there is no such user.
   */
  update(
    id: string,
    change: { disabled?: boolean; passwordHash?: string; name?: string },
  ): Promise<User | undefined>;
}

/** Classes. */
export interface ClassRepo {
  /** Creates a scheduled class with a fresh join code (unique among non-ended) and stream key. */
  create(c: { teacherId: string; title: string }): Promise<ClassRecord>;
  byId(id: string): Promise<ClassRecord | undefined>;
  /** The class that is not archived with this join code. */
  byJoinCode(code: string): Promise<ClassRecord | undefined>;
  /** The class most recently archived with this join code within `withinMs` (default 7 days). */
  archivedByJoinCode(code: string, withinMs?: number): Promise<ClassRecord | undefined>;
  byStreamKey(key: string): Promise<ClassRecord | undefined>;
  listByTeacher(teacherId: string): Promise<ClassRecord[]>;
  listAll(): Promise<ClassRecord[]>;
  /** A new title. */
  rename(id: string, title: string): Promise<ClassRecord | undefined>;
  /** → archived (epoch + 1; the join code is freed, the key refused). Idempotent. */
  archive(id: string): Promise<ClassRecord | undefined>;
  rotateStreamKey(id: string): Promise<ClassRecord | undefined>;
  setChatLocked(id: string, locked: boolean): Promise<ClassRecord | undefined>;
  /** AI for the class: on or off, and which provider. */
  setAi(id: string, enabled: boolean, provider: 'builtin' | 'gemini'): Promise<ClassRecord | undefined>;
  /** Days the class's recordings are kept (1–3650). */
  setRetention(id: string, days: number): Promise<ClassRecord | undefined>;
  /**
   * Allocates the next per-class sequence number (atomic in the database, so every
   * control-plane replica shares one sequence).
   */
  nextSeq(classId: string): Promise<number>;
  /** The last sequence number handed out for the class (0 before the first); undefined if unknown. */
  currentSeq(classId: string): Promise<number | undefined>;
}

/** Lessons: start the next, end the running one, look them up. */
export interface LessonRepo {
  /**
   * Starts the next lesson of a scheduled class (class → live; open attendance without a
   * lesson joins it). Idempotent while one runs: returns it. CLASS_ARCHIVED, CLASS_NOT_FOUND.
   */
  start(classId: string): Promise<{ lesson: Lesson; class: ClassRecord; started: boolean }>;
  /**
   * Ends the running lesson: final (epoch + 1, last_ended_at, attendance of the lesson closed,
   * class → scheduled unless archived). Undefined `lesson` when none was running.
   */
  end(classId: string): Promise<{ lesson: Lesson | undefined; class: ClassRecord }>;
  /** The running lesson of a class. */
  current(classId: string): Promise<Lesson | undefined>;
  /** The last lesson (running or ended). */
  last(classId: string): Promise<Lesson | undefined>;
  byId(id: string): Promise<Lesson | undefined>;
  /** Lessons of a class, newest first. */
  list(classId: string): Promise<Lesson[]>;
}

/** Attendance. */
export interface ParticipantRepo {
  join(p: { classId: string; name: string; role: ParticipantRole }): Promise<Participant>;
  leave(id: string): Promise<void>;
  /** Closes every open attendance of a class (class ended, process restart); returns how many. */
  leaveAll(classId: string): Promise<number>;
  byId(id: string): Promise<Participant | undefined>;
  listByClass(classId: string): Promise<Participant[]>;
  /** Marks a student removed (and left); the row, or undefined if not a student of that class. */
  remove(classId: string, id: string): Promise<Participant | undefined>;
}

/** Revoked tokens (sign-out). */
export interface RevokedTokenRepo {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  isRevoked(jti: string): Promise<boolean>;
}

/** Monitor share links. */
export interface MonitorLinkRepo {
  create(l: { classId: string; createdBy: string; expiresAt: Date }): Promise<MonitorLinkRecord>;
  byId(id: string): Promise<MonitorLinkRecord | undefined>;
  /** Links of a class, newest first. */
  list(classId: string): Promise<MonitorLinkRecord[]>;
  /** Marks a link of the class revoked; undefined if it is not a link of that class. */
  revoke(classId: string, id: string): Promise<MonitorLinkRecord | undefined>;
}

/** Chat. */
export interface ChatRepo {
  add(m: Omit<ChatMessage, 'id' | 'createdAt' | 'deletedAt'>): Promise<ChatMessage>;
  /** Messages with seq > `seq`, oldest first, at most `limit`. Deleted ones are included (marked). */
  since(classId: string, seq: number, limit: number): Promise<ChatMessage[]>;
  /** Marks a message deleted; returns it, or undefined if it is not in that class. */
  delete(classId: string, id: string): Promise<ChatMessage | undefined>;
}

/** A student's chat message held for the teacher's approval (issue 10). */
export interface HeldMessage {
  id: string;
  classId: string;
  /** The lesson running when it was sent (null: none). */
  lessonId: string | null;
  senderId: string;
  senderName: string;
  text: string;
  reasons: HoldReason[];
  status: 'held' | 'approved' | 'rejected';
  createdAt: Date;
  decidedAt: Date | null;
  /** The chat message it became once approved. */
  messageId: string | null;
}

/** Held chat messages. */
export interface HeldRepo {
  /** Stores a held message (lesson: the class's running one). CLASS_NOT_FOUND for an unknown class. */
  add(m: Pick<HeldMessage, 'classId' | 'senderId' | 'senderName' | 'text' | 'reasons'>): Promise<HeldMessage>;
  /** The messages of a class still waiting, oldest first (at most 200). */
  listHeld(classId: string): Promise<HeldMessage[]>;
  /** Decides a message that is still held; undefined when there is none (or it was decided). */
  decide(
    classId: string,
    id: string,
    status: 'approved' | 'rejected',
    messageId?: string,
  ): Promise<HeldMessage | undefined>;
  /** Records the chat message an approved one became. */
  linkMessage(classId: string, id: string, messageId: string): Promise<void>;
}

/** Everything persisted. `close()` is idempotent. */
export interface Store {
  readonly dialect: 'pglite' | 'postgres';
  users: UserRepo;
  classes: ClassRepo;
  lessons: LessonRepo;
  participants: ParticipantRepo;
  chat: ChatRepo;
  /** Students' chat messages held for the teacher. */
  held: HeldRepo;
  revokedTokens: RevokedTokenRepo;
  monitorLinks: MonitorLinkRepo;
  /** Every fact the token gate needs about one token, in one round trip. */
  gate: { facts(q: GateQuery): Promise<GateFacts> };
  /** Resolves when the database answers (for `/ready`); rejects with `DB_UNAVAILABLE` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
