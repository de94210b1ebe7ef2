/**
 * The one AI provider interface (issue 10, DESIGN §4): every AI feature of AirClass is a method
 * here, and two providers implement all of them — the built-in analyzer (no network, Korean and
 * English) and Gemini. Callers never pick a provider themselves: {@link AiRunner.run} runs an
 * operation on the class's provider (Gemini only when the teacher turned it on for the class and
 * the school set a key) and falls back to the built-in analyzer on any failure, saying which one
 * answered.
 *
 * Names: inputs carry students' display names where a result needs them (`names`); the Gemini
 * provider replaces them with pseudonyms before anything leaves the school and maps them back.
 */
import type { QuestionGroup } from './builtin/chat-questions.ts';
import type { AnswerCluster } from './builtin/quiz-analysis.ts';
import type { QuizKind } from '../store/schema-quiz.ts';

/** Which analyzer answered. */
export type ProviderName = 'builtin' | 'gemini';

/** Wrong short answers of one quiz, to be grouped by misconception. */
export interface ClusterInput {
  question: string;
  /** The accepted answers. */
  accepted: string[];
  /** Every wrong answer's text (repeats kept: counts matter). */
  wrong: string[];
  /** Names of the students in the class (hidden from Gemini). */
  names: string[];
}

/** A chat line for the questions analysis. */
export interface ChatLine {
  id?: string;
  name: string;
  text: string;
  /** ISO time. */
  at?: string;
}

/** Text read off an image, and who read it. */
export interface ImageText {
  text: string;
  /** `none`: neither Gemini nor OCR was available. */
  reader: 'gemini' | 'tesseract' | 'none';
}

/** An image handed to a provider. */
export interface ImageInput {
  data: Uint8Array;
  mimeType: 'image/png' | 'image/jpeg' | 'image/webp';
}

/** A quiz drafted for the teacher to edit (never pushed by itself). */
export interface QuizDraft {
  kind: QuizKind;
  question: string;
  options: string[];
  /** Option indexes, or accepted strings for `short`. */
  correct: number[] | string[];
  timeLimitSec: number;
  /** Why this question (shown to the teacher). */
  note: { ko: string; en: string };
}

/** What a lesson summary is made from (gathered by the caller from the lesson's data). */
export interface LessonFacts {
  lesson: { id: string; number: number; classTitle: string; startedAt: string; endedAt: string | null };
  /** Text read from the lesson's slides, in order. */
  slides: { at: string; text: string }[];
  /** Each quiz run with its analysis. */
  quizzes: {
    quizId: string;
    question: string;
    kind: QuizKind;
    answered: number;
    /** 0–1; null without answers. */
    difficulty: number | null;
    /** The most chosen wrong option, if any. */
    topDistractor: { option: string; count: number } | null;
    clusters: AnswerCluster[];
  }[];
  /** The lesson's chat questions, grouped. */
  questions: QuestionGroup[];
  /** One line per student. */
  students: {
    name: string;
    minutesWatched: number;
    engagement: number | null;
    quizAnswered: number;
    quizCorrect: number;
    questionsAsked: number;
  }[];
  /** Number of quiz runs in the lesson (a student who answered none of many stands out). */
  quizRuns: number;
}

/** A student who may need help, and why. */
export interface HelpFlag {
  name: string;
  reasons: ('low-accuracy' | 'low-engagement' | 'no-answers' | 'asked')[];
  note: { ko: string; en: string };
}

/** The lesson summary on the dashboard and the replay page. */
export interface LessonSummary {
  /** What was covered (from the slide text): short topic lines. */
  covered: string[];
  /** Items most students missed, hardest first, with why. */
  hardItems: { quizId: string; question: string; difficulty: number; why: { ko: string; en: string } }[];
  /** What students asked that may still be open. */
  openQuestions: { label: string; count: number }[];
  needHelp: HelpFlag[];
  /** A few sentences for the teacher. */
  text: { ko: string; en: string };
}

/** Every AI feature, implemented by the built-in analyzer and by Gemini. */
export interface AiProvider {
  readonly name: ProviderName;
  /** Groups wrong short answers into misconception clusters with a re-teach note each. */
  clusterAnswers(input: ClusterInput): Promise<AnswerCluster[]>;
  /** Groups the questions of a chat window by what they ask (across Korean and English). */
  analyseChat(lines: ChatLine[]): Promise<QuestionGroup[]>;
  /** Reads the text of a slide snapshot. */
  readImage(image: ImageInput): Promise<ImageText>;
  /** Describes a student's photo of their work for the teacher; null when it cannot. */
  describeImage(image: ImageInput): Promise<string | null>;
  /** Summarises a lesson. */
  summariseLesson(facts: LessonFacts): Promise<LessonSummary>;
  /** Drafts a quiz from a slide's text; null when the text gives nothing to ask. */
  draftQuiz(slideText: string): Promise<QuizDraft | null>;
}

/** A result and the provider that produced it. */
export interface Answered<T> {
  provider: ProviderName;
  value: T;
}

/** Runs AI operations for a lesson of a class on the right provider. */
export interface AiRunner {
  /**
   * Runs `op` on Gemini when the class has it on and a key is set, else (or when Gemini fails:
   * timeout, HTTP error, bad answer, budget spent) on the built-in analyzer.
   */
  run<T>(classId: string, lessonId: string, op: (p: AiProvider) => Promise<T>): Promise<Answered<T>>;
  /** Who would answer for the lesson now (Gemini needs the class's setting and a key). */
  active(classId: string, lessonId: string): Promise<ProviderName>;
  /** The built-in analyzer (for work that never leaves the school). */
  readonly builtin: AiProvider;
}
