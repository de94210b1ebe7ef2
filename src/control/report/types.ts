/**
 * The wire shapes of recordings, replay and the dashboard (issue 9): what
 * `GET /api/classes/:id/recordings`, `GET /api/recordings/:id/replay`,
 * `GET /api/lessons/:id/report` and `GET /api/classes/:id/report` answer. Times are ISO 8601
 * strings; offsets into a recording are seconds from its start. The web pages mirror these.
 */

/** One recording as its teacher (or a student of a shared one) sees it. */
export interface RecordingView {
  id: string;
  classId: string;
  lessonId: string | null;
  lessonNumber: number | null;
  startedAt: string;
  endedAt: string | null;
  durationSec: number;
  sizeBytes: number;
  /** The HLS playlist with a read token of this recording in its query (segments inherit it). */
  playlistUrl: string;
  /** The replay page of this recording (token in the #fragment). */
  replayUrl: string;
  status: 'recording' | 'complete' | 'interrupted' | 'stopped';
  /** Why a recording stopped early ("DISK_FULL", "WRITE_FAILED"). */
  reason: string | null;
  /** Students of the class may watch it. */
  shared: boolean;
  /** When the retention job removes it (started + the class's retention days). */
  expiresAt: string;
}

/** A quiz moment on the replay timeline. */
export interface ReplayChapter {
  /** Seconds from the recording's start. */
  atSec: number;
  runId: string;
  quizId: string;
  question: string;
}

/** Everything the replay page shows beside the video. */
export interface ReplayData {
  recording: RecordingView;
  class: { id: string; title: string };
  lesson: { id: string; number: number; startedAt: string; endedAt: string | null } | null;
  chapters: ReplayChapter[];
  /** Class average per 10-s bucket: score 0–100, watching 0–1. */
  engagement: { atSec: number; score: number; watching: number }[];
  /** Chat of the lesson in order (deleted messages left out). */
  chat: { atSec: number; name: string; role: 'teacher' | 'student' | 'monitor'; text: string }[];
}

/** One student's line in a lesson report. */
export interface AttendanceRow {
  participantId: string;
  name: string;
  joinedAt: string;
  leftAt: string | null;
  /** From the 10-s engagement samples (watching × 10 s). */
  minutesWatched: number;
  /** Mean engagement score 0–100 over the samples; null without samples. */
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
  /** correct / answered, 0–1; null when nobody answered. */
  accuracy: number | null;
  /** Per option (choice kinds): its text, how many chose it, whether it is correct. */
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
  /** Samples in which a student's player reported "stalled". */
  stalls: number;
  quizzes: QuizItemReport[];
  /** Class average per 10-s bucket. */
  engagement: { at: string; score: number; watching: number }[];
  chat: { messages: number; perMinute: { at: string; count: number }[] };
  hands: number;
  reactions: number;
  recordings: { id: string; durationSec: number; status: RecordingView['status'] }[];
  /** A written summary, rule-based (`provider: "rules"`; the AI issue adds others). */
  summary: { provider: 'rules'; ko: string[]; en: string[] };
}

/** `GET /api/classes/:id/report`: the class across its lessons. */
export interface ClassReport {
  class: { id: string; title: string };
  lessons: {
    id: string;
    number: number;
    startedAt: string;
    endedAt: string | null;
    attendance: number;
    /** 0–1 over every answer of the lesson; null without answers. */
    accuracy: number | null;
    /** Mean class engagement 0–100; null without samples. */
    engagement: number | null;
  }[];
  /** Students whose recent lessons fall behind their own earlier ones, or who stopped coming. */
  slipping: { name: string; reason: 'attendance' | 'accuracy' | 'engagement'; detail: string }[];
}
