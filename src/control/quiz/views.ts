/**
 * How quizzes, runs and answers are shown: to the teacher (the bank, with the last run), to
 * the class (`quiz.opened`, never the correct answer) and to the answering student.
 */
import type { QuizAnswer, QuizRecord, QuizRun } from '../store/quiz-repo.ts';
import type { PushedQuiz } from '../ws/messages.ts';
import { runStatus } from './results.ts';

/** A quiz of the bank as the teacher sees it, with its last run. */
export interface QuizView {
  id: string;
  classId: string;
  kind: QuizRecord['kind'];
  question: string;
  options: string[];
  correct: number[] | string[];
  timeLimitSec: number;
  anonymous: boolean;
  createdAt: string;
  lastRun: {
    runId: string;
    status: 'open' | 'closed';
    openedAt: string;
    closesAt: string;
    revealed: boolean;
  } | null;
}

/** A stored answer as returned to its student. */
export interface AnswerView {
  answerId: string;
  quizId: string;
  runId: string;
  choices: number[] | null;
  text: string | null;
  ms: number;
  at: string;
}

/** The teacher's view of a quiz. */
export function view(q: QuizRecord, run: QuizRun | undefined): QuizView {
  return {
    id: q.id,
    classId: q.classId,
    kind: q.kind,
    question: q.question,
    options: q.options,
    correct: q.correct,
    timeLimitSec: q.timeLimitSec,
    anonymous: q.anonymous,
    createdAt: q.createdAt.toISOString(),
    lastRun: run
      ? {
          runId: run.id,
          status: runStatus(run),
          openedAt: run.openedAt.toISOString(),
          closesAt: run.closesAt.toISOString(),
          revealed: run.revealedAt !== null,
        }
      : null,
  };
}

/** A run of a quiz as pushed to the class in `quiz.opened` (never the correct answer). */
export function pushedQuiz(quiz: QuizRecord, run: QuizRun): PushedQuiz {
  return {
    id: quiz.id,
    runId: run.id,
    kind: quiz.kind,
    question: quiz.question,
    options: quiz.options,
    timeLimitSec: quiz.timeLimitSec,
    anonymous: quiz.anonymous,
    closesAt: run.closesAt.toISOString(),
  };
}

/** A stored answer as returned to its student. */
export function answerView(a: QuizAnswer, quizId: string): AnswerView {
  return {
    answerId: a.answerId,
    quizId,
    runId: a.runId,
    choices: a.choices,
    text: a.text,
    ms: a.ms,
    at: a.createdAt.toISOString(),
  };
}
