/**
 * The wire shapes of the AI answers (src/control/ai/analysis-service.ts, provider.ts), as the
 * pages read them: `GET /api/quizzes/:id/analysis`, `GET /api/lessons/:id/questions`,
 * `GET /api/lessons/:id/summary`. Every answer names the provider that produced it.
 */

/** Which analyzer answered. */
export type Provider = 'builtin' | 'gemini';

/** Words in both UI languages. */
export interface Bilingual {
  ko: string;
  en: string;
}

/** A group of wrong short answers. */
export interface AnswerCluster {
  kind: 'misconception' | 'near-correct';
  label: string;
  count: number;
  answers: string[];
  note: Bilingual;
}

/** `GET /api/quizzes/:id/analysis`. */
export interface QuizAnalysis {
  provider: Provider;
  quizId: string;
  runId: string | null;
  answered: number;
  difficulty: number | null;
  discrimination: number | null;
  distractors: { option: string; count: number; correct: boolean }[];
  clusters: AnswerCluster[];
}

/** `GET /api/lessons/:id/questions`. */
export interface QuestionsAnalysis {
  provider: Provider;
  lessonId: string;
  groups: { label: string; count: number; messages: string[] }[];
}

/** `GET /api/lessons/:id/summary`. */
export interface LessonSummary {
  provider: Provider;
  lessonId: string;
  at: string;
  covered: string[];
  hardItems: { quizId: string; question: string; difficulty: number; why: Bilingual }[];
  openQuestions: { label: string; count: number }[];
  needHelp: {
    name: string;
    reasons: ('low-accuracy' | 'low-engagement' | 'no-answers' | 'asked')[];
    note: Bilingual;
  }[];
  text: Bilingual;
}
