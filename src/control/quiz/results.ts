/**
 * The results of a quiz run as the teacher and monitors see them: status, aggregates (per
 * option), every student's answer (names even for an "anonymous to classmates" quiz: only
 * classmates do not see them) and the leaderboard (correct first, then faster). Pure.
 */
import type { QuizAnswer, QuizRecord, QuizRun } from '../store/quiz-repo.ts';
import { countAnswers } from './definition.ts';

/** What `GET /api/quizzes/:id/results` answers. */
export interface QuizResults {
  quizId: string;
  /** `none`: never pushed. */
  status: 'open' | 'closed' | 'none';
  runId: string | null;
  opensAt: string | null;
  closesAt: string | null;
  revealed: boolean;
  anonymous: boolean;
  answered: number;
  correct: number;
  counts: number[];
  students: { id: string; name: string; choices?: number[]; text?: string; correct: boolean; ms: number }[];
  leaderboard: { id: string; name: string; correct: boolean; ms: number; rank: number }[];
}

/** `open` until closed or past `closes_at` (a close may lag a moment behind the time). */
export function runStatus(run: Pick<QuizRun, 'closedAt' | 'closesAt'>, now = Date.now()): 'open' | 'closed' {
  return run.closedAt === null && run.closesAt.getTime() > now ? 'open' : 'closed';
}

/** Correct first, then faster; ties share a rank. */
export function leaderboard(
  answers: readonly { participantId: string; name: string; correct: boolean; ms: number }[],
): QuizResults['leaderboard'] {
  const sorted = [...answers].sort((a, b) => Number(b.correct) - Number(a.correct) || a.ms - b.ms);
  const out: QuizResults['leaderboard'] = [];
  sorted.forEach((a, i) => {
    const prev = out[i - 1];
    const tie = prev && prev.correct === a.correct && prev.ms === a.ms;
    out.push({
      id: a.participantId,
      name: a.name,
      correct: a.correct,
      ms: a.ms,
      rank: tie ? prev.rank : i + 1,
    });
  });
  return out;
}

/** The results of `run` (the quiz's last; undefined = never pushed). */
export function buildResults(
  quiz: QuizRecord,
  run: QuizRun | undefined,
  answers: readonly (QuizAnswer & { name: string })[],
): QuizResults {
  return {
    quizId: quiz.id,
    status: run ? runStatus(run) : 'none',
    runId: run?.id ?? null,
    opensAt: run?.openedAt.toISOString() ?? null,
    closesAt: run?.closesAt.toISOString() ?? null,
    revealed: Boolean(run?.revealedAt),
    anonymous: quiz.anonymous,
    answered: answers.length,
    correct: answers.filter((a) => a.correct).length,
    counts: countAnswers(quiz, answers),
    students: answers.map((a) => ({
      id: a.participantId,
      name: a.name,
      ...(a.choices !== null ? { choices: a.choices } : {}),
      ...(a.text !== null ? { text: a.text } : {}),
      correct: a.correct,
      ms: a.ms,
    })),
    leaderboard: leaderboard(answers),
  };
}
