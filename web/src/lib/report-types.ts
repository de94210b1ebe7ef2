/**
 * The API shapes of recordings, replay and the dashboard as the pages read them (issue 9;
 * mirrors src/control/report/types.ts, the fields the pages use). Times are ISO 8601 strings;
 * offsets into a recording (`atSec`) are seconds from its start.
 */

/** How a recording ended: still running, whole, cut off (crash) or stopped early (disk full …). */
export type RecordingStatus = 'recording' | 'complete' | 'interrupted' | 'stopped';

/** One recording (`GET /api/classes/:id/recordings`, `PATCH /api/recordings/:id`). */
export interface RecordingView {
  id: string;
  classId: string;
  lessonId: string | null;
  lessonNumber: number | null;
  startedAt: string;
  endedAt: string | null;
  durationSec: number;
  sizeBytes: number;
  /** The HLS playlist with a read token in its query. */
  playlistUrl: string;
  /** `/replay/<id>#jwt=<token>`. */
  replayUrl: string;
  status: RecordingStatus;
  /** Why a recording stopped early ("DISK_FULL", "WRITE_FAILED"). */
  reason: string | null;
  shared: boolean;
  expiresAt: string;
}

/** `GET /api/classes/:id/recordings`. */
export interface RecordingList {
  recordings: RecordingView[];
  retentionDays: number;
}

/** A quiz moment on the replay timeline. */
export interface ReplayChapter {
  atSec: number;
  runId: string;
  quizId: string;
  question: string;
}

/** One chat line of a replay. */
export interface ReplayChatLine {
  atSec: number;
  name: string;
  role: 'teacher' | 'student' | 'monitor';
  text: string;
}

/** `GET /api/recordings/:id/replay`. */
export interface ReplayData {
  recording: RecordingView;
  class: { id: string; title: string };
  lesson: { id: string; number: number; startedAt: string; endedAt: string | null } | null;
  chapters: ReplayChapter[];
  /** Class average per 10-s bucket: score 0–100, watching 0–1. */
  engagement: { atSec: number; score: number; watching: number }[];
  chat: ReplayChatLine[];
}

/** One student's line in a lesson report. */
export interface AttendanceRow {
  participantId: string;
  name: string;
  joinedAt: string;
  leftAt: string | null;
  minutesWatched: number;
  engagement: number | null;
  quizAnswered: number;
  quizCorrect: number;
  chatMessages: number;
  hands: number;
  removed: boolean;
}

/** One quiz run of a lesson. */
export interface QuizItemReport {
  runId: string;
  quizId: string;
  question: string;
  kind: 'single' | 'multiple' | 'truefalse' | 'short';
  openedAt: string;
  answered: number;
  correct: number;
  /** 0–1; null when nobody answered. */
  accuracy: number | null;
  options: { text: string; count: number; correct: boolean }[];
  perStudent: { participantId: string; name: string; correct: boolean; ms: number }[];
}

/** `GET /api/lessons/:id/report`. */
export interface LessonReport {
  lesson: {
    id: string;
    number: number;
    classId: string;
    classTitle: string;
    startedAt: string;
    endedAt: string | null;
    durationSec: number;
  };
  attendance: AttendanceRow[];
  viewers: { peak: number; average: number; timeline: { at: string; viewers: number }[] };
  stalls: number;
  quizzes: QuizItemReport[];
  engagement: { at: string; score: number; watching: number }[];
  chat: { messages: number; perMinute: { at: string; count: number }[] };
  hands: number;
  reactions: number;
  recordings: { id: string; durationSec: number; status: RecordingStatus }[];
  summary: { provider: string; ko: string[]; en: string[] };
}

/** One lesson in a class report. */
export interface ClassReportLesson {
  id: string;
  number: number;
  startedAt: string;
  endedAt: string | null;
  attendance: number;
  /** 0–1; null without answers. */
  accuracy: number | null;
  /** 0–100; null without samples. */
  engagement: number | null;
}

/** `GET /api/classes/:id/report`. */
export interface ClassReport {
  class: { id: string; title: string };
  lessons: ClassReportLesson[];
  slipping: { name: string; reason: 'attendance' | 'accuracy' | 'engagement'; detail: string }[];
}
