/**
 * The API shapes the teacher's pages read (docs/classroom.md; src/control/http/schemas.ts).
 * Only the fields the UI uses are typed; fields a newer server adds are optional here so the
 * console still works against the one that does not send them yet.
 */

/** Who is signed in (`GET /api/auth/me`). */
export interface Me {
  sub: string;
  role: 'admin' | 'teacher' | 'student' | 'monitor';
  name?: string;
  user?: { id: string; name: string; email: string; role: 'admin' | 'teacher' };
}

/** A lesson: one start → end of a class. */
export interface Lesson {
  id: string;
  number: number;
  startedAt: string;
  endedAt?: string | null;
}

/** The stream as the server sees it. */
export type StreamState = 'live' | 'waiting' | 'offline';

/** A class as the API shows it to its teacher (`ClassView`). */
export interface ClassInfo {
  id: string;
  title: string;
  status: 'scheduled' | 'live' | 'ended' | 'archived';
  archived?: boolean;
  chatLocked: boolean;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  path: string;
  whepUrl: string;
  watchUrl: string;
  teacherId?: string;
  joinCode?: string;
  joinUrl?: string;
  rtmp?: { server: string; streamKey: string; url: string };
  lesson?: Lesson | null;
  lastLesson?: Lesson | null;
  stream?: {
    live: boolean;
    state: StreamState;
    width?: number;
    height?: number;
    fps?: number;
    bitrate?: number;
    viewers: number;
  };
}

/** Live figures of the incoming stream (`stream.stats`, every 2 s while live). */
export interface StreamStats {
  width?: number;
  height?: number;
  fps?: number;
  bitrate?: number;
  viewers: number;
}

/** A teacher or admin account (`GET /api/users`). */
export interface UserInfo {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'teacher';
  disabled?: boolean;
  createdAt: string;
}

/** A monitor share link (`GET /api/classes/:id/monitor-links`). */
export interface MonitorLinkInfo {
  id: string;
  url?: string;
  createdAt?: string;
  expiresAt?: string;
  revokedAt?: string | null;
  status?: 'active' | 'revoked' | 'expired';
}

/** An attendance record (`GET /api/classes/:id/participants`). */
export interface ParticipantInfo {
  id: string;
  name: string;
  role: 'teacher' | 'student' | 'monitor';
  joinedAt: string;
  leftAt: string | null;
  removedAt?: string | null;
}

/** A quiz kind. */
export type QuizKind = 'single' | 'multiple' | 'truefalse' | 'short';

/** A quiz in the class's bank (`GET /api/classes/:id/quizzes`). */
export interface QuizInfo {
  id: string;
  kind: QuizKind;
  question: string;
  options: string[];
  correct?: number[] | string[];
  timeLimitSec: number;
  anonymous: boolean;
  createdAt?: string;
  /** The last run's status, when it was pushed. */
  lastRun?: {
    runId: string;
    status: 'open' | 'closed';
    openedAt?: string;
    closesAt?: string;
    revealed?: boolean;
  } | null;
  status?: 'open' | 'closed' | 'never' | null;
}

/** One student's answer in the results. */
export interface QuizStudentResult {
  name: string;
  choices?: number[];
  text?: string;
  correct: boolean | null;
  ms: number;
}

/** `GET /api/quizzes/:id/results`. */
export interface QuizResults {
  status: 'open' | 'closed' | 'none';
  answered: number;
  correct: number;
  counts: number[];
  students: QuizStudentResult[];
  leaderboard?: { name: string; correct: boolean | number; ms: number; rank: number }[];
  runId?: string;
  opensAt?: string;
  closesAt?: string;
  revealed?: boolean;
}

/** One student in an `engagement` push. */
export interface EngagementStudent {
  id: string;
  name: string;
  score: number;
  watching?: boolean;
  visible?: boolean;
  playing?: string;
}

/** One point of the class's engagement series. */
export interface EngagementPoint {
  at: string;
  class: number;
}

/** One node of the cluster as the admin sees it (`GET /api/cluster/nodes`). */
export interface ClusterNode {
  id: string;
  name: string;
  role: 'main' | 'sub';
  state: 'alive' | 'dead';
  httpUrl: string;
  capacity: number;
  viewers: number;
  /** Percent of one core (can pass 100 on several cores). */
  cpu: number;
  /** Live paths it relays, e.g. `live/abc`. */
  paths: string[];
  /** Students the main sent there recently. */
  assigned: number;
  startedAt: string;
  lastSeen: string;
}
