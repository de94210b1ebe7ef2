/**
 * The persistence interface of the control plane (DESIGN §4). One implementation on Drizzle
 * ORM serves both PGlite (embedded default) and PostgreSQL (`DATABASE_URL`). Callers depend on
 * these types only.
 */

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
}

/** Lifecycle of a class. */
export type ClassStatus = 'scheduled' | 'live' | 'ended';

/** A class (a lesson) with its join code and stream key. */
export interface ClassRecord {
  id: string;
  teacherId: string;
  title: string;
  /** 6 digits, unique among classes that are not ended. */
  joinCode: string;
  /** Secret pasted into an RTMP app; maps to the path `live/<id>`. */
  streamKey: string;
  status: ClassStatus;
  chatLocked: boolean;
  createdAt: Date;
  startedAt: Date | null;
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

/** Users. */
export interface UserRepo {
  create(u: { email: string; name: string; role: AccountRole; passwordHash: string }): Promise<User>;
  byId(id: string): Promise<User | undefined>;
  /** Case-insensitive. */
  byEmail(email: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  count(): Promise<number>;
}

/** Classes. */
export interface ClassRepo {
  /** Creates a scheduled class with a fresh join code (unique among non-ended) and stream key. */
  create(c: { teacherId: string; title: string }): Promise<ClassRecord>;
  byId(id: string): Promise<ClassRecord | undefined>;
  /** The class that is not ended with this join code. */
  byJoinCode(code: string): Promise<ClassRecord | undefined>;
  byStreamKey(key: string): Promise<ClassRecord | undefined>;
  listByTeacher(teacherId: string): Promise<ClassRecord[]>;
  listAll(): Promise<ClassRecord[]>;
  /** scheduled → live → ended; sets startedAt / endedAt. */
  setStatus(id: string, status: ClassStatus): Promise<ClassRecord | undefined>;
  rotateStreamKey(id: string): Promise<ClassRecord | undefined>;
  setChatLocked(id: string, locked: boolean): Promise<ClassRecord | undefined>;
  /**
   * Allocates the next per-class sequence number (atomic in the database, so every
   * control-plane replica shares one sequence).
   */
  nextSeq(classId: string): Promise<number>;
  /** The last sequence number handed out for the class (0 before the first); undefined if unknown. */
  currentSeq(classId: string): Promise<number | undefined>;
}

/** Attendance. */
export interface ParticipantRepo {
  join(p: { classId: string; name: string; role: ParticipantRole }): Promise<Participant>;
  leave(id: string): Promise<void>;
  /** Closes every open attendance of a class (class ended, process restart); returns how many. */
  leaveAll(classId: string): Promise<number>;
  byId(id: string): Promise<Participant | undefined>;
  listByClass(classId: string): Promise<Participant[]>;
}

/** Chat. */
export interface ChatRepo {
  add(m: Omit<ChatMessage, 'id' | 'createdAt' | 'deletedAt'>): Promise<ChatMessage>;
  /** Messages with seq > `seq`, oldest first, at most `limit`. Deleted ones are included (marked). */
  since(classId: string, seq: number, limit: number): Promise<ChatMessage[]>;
  /** Marks a message deleted; returns it, or undefined if it is not in that class. */
  delete(classId: string, id: string): Promise<ChatMessage | undefined>;
}

/** Everything persisted. `close()` is idempotent. */
export interface Store {
  readonly dialect: 'pglite' | 'postgres';
  users: UserRepo;
  classes: ClassRepo;
  participants: ParticipantRepo;
  chat: ChatRepo;
  /** Resolves when the database answers (for `/ready`); rejects with `DB_UNAVAILABLE` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
