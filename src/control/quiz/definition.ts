/**
 * Quiz definitions and grading, pure (docs/classroom.md). A definition is checked per kind:
 * `single` has exactly one correct option, `multiple` at least one, `truefalse` has the two
 * fixed options (index 0 = true) and one correct, `short` has no options and its `correct` is
 * the accepted answers, compared NFC-normalised, trimmed and case-insensitively. Answers are
 * checked against the kind before they are graded. Failures are VALIDATION errors naming the
 * field.
 */
import { AirError } from '../../shared/errors.ts';
import type { QuizKind } from '../store/schema-quiz.ts';

/** Limits of a quiz. */
export const QUIZ_LIMITS = {
  questionMax: 500,
  optionsMin: 2,
  optionsMax: 10,
  optionMax: 200,
  acceptedMax: 20,
  timeLimitMin: 5,
  timeLimitMax: 600,
  textMax: 500,
} as const;

/** The options of a true/false quiz (index 0 = true). */
export const TRUE_FALSE = ['True', 'False'];

/** A quiz as the teacher sends it. */
export interface QuizInput {
  kind: QuizKind;
  question: string;
  options?: string[];
  correct?: number[] | string[];
  timeLimitSec: number;
  anonymous?: boolean;
}

/** A checked quiz definition. */
export interface QuizDefinition {
  kind: QuizKind;
  question: string;
  options: string[];
  correct: number[] | string[];
  timeLimitSec: number;
  anonymous: boolean;
}

/** A student's answer as sent. */
export interface AnswerInput {
  choices?: number[];
  text?: string;
}

/** A checked, graded answer. */
export interface GradedAnswer {
  choices: number[] | null;
  text: string | null;
  correct: boolean;
}

function bad(field: string, message: string): AirError {
  return new AirError('VALIDATION', `body/${field}: ${message}`);
}

/** Text as compared for short answers: NFC, trimmed, lower case. */
export function normalizeAnswer(s: string): string {
  return s.normalize('NFC').trim().toLocaleLowerCase();
}

function cleanText(s: string, field: string, max: number): string {
  const t = s.normalize('NFC').trim();
  if (t.length < 1 || t.length > max) throw bad(field, `must be 1–${max} characters (not blank)`);
  return t;
}

function indexes(list: unknown, n: number, field: string): number[] {
  if (!Array.isArray(list) || !list.every((i) => Number.isInteger(i))) {
    throw bad(field, 'must be option indexes');
  }
  const set = [...new Set(list as number[])].sort((a, b) => a - b);
  if (set.some((i) => i < 0 || i >= n)) throw bad(field, `indexes must be 0–${n - 1}`);
  return set;
}

/** Checks a quiz and returns its stored form; VALIDATION for anything out of bounds. */
export function checkQuiz(q: QuizInput): QuizDefinition {
  const question = cleanText(q.question, 'question', QUIZ_LIMITS.questionMax);
  const t = q.timeLimitSec;
  if (!Number.isInteger(t) || t < QUIZ_LIMITS.timeLimitMin || t > QUIZ_LIMITS.timeLimitMax) {
    throw bad('timeLimitSec', `must be ${QUIZ_LIMITS.timeLimitMin}–${QUIZ_LIMITS.timeLimitMax} seconds`);
  }
  const base = { kind: q.kind, question, timeLimitSec: t, anonymous: q.anonymous ?? false };
  if (q.kind === 'short') {
    if (q.options && q.options.length > 0) throw bad('options', 'a short-answer quiz has no options');
    const accepted = q.correct ?? [];
    if (!accepted.every((s) => typeof s === 'string')) throw bad('correct', 'must be the accepted answers');
    if (accepted.length > QUIZ_LIMITS.acceptedMax) {
      throw bad('correct', `at most ${QUIZ_LIMITS.acceptedMax} accepted answers`);
    }
    const cleaned = (accepted as string[]).map((s) => cleanText(s, 'correct', QUIZ_LIMITS.optionMax));
    return { ...base, options: [], correct: [...new Set(cleaned)] };
  }
  let options: string[];
  if (q.kind === 'truefalse') {
    options = q.options && q.options.length > 0 ? q.options : TRUE_FALSE;
    if (options.length !== 2) throw bad('options', 'a true/false quiz has exactly two options');
  } else {
    options = q.options ?? [];
    if (options.length < QUIZ_LIMITS.optionsMin || options.length > QUIZ_LIMITS.optionsMax) {
      throw bad('options', `must have ${QUIZ_LIMITS.optionsMin}–${QUIZ_LIMITS.optionsMax} options`);
    }
  }
  options = options.map((o) => cleanText(o, 'options', QUIZ_LIMITS.optionMax));
  const correct = indexes(q.correct ?? [], options.length, 'correct');
  if (q.kind === 'multiple' ? correct.length < 1 : correct.length !== 1) {
    throw bad(
      'correct',
      q.kind === 'multiple' ? 'needs at least one correct option' : 'needs exactly one correct option',
    );
  }
  return { ...base, options, correct };
}

/** Checks an answer against the quiz's kind and grades it. */
export function gradeAnswer(
  q: Pick<QuizDefinition, 'kind' | 'options' | 'correct'>,
  a: AnswerInput,
): GradedAnswer {
  if (q.kind === 'short') {
    if (a.choices !== undefined) throw bad('choices', 'a short-answer quiz takes text');
    if (typeof a.text !== 'string') throw bad('text', 'required');
    const text = cleanText(a.text, 'text', QUIZ_LIMITS.textMax);
    const n = normalizeAnswer(text);
    return { choices: null, text, correct: (q.correct as string[]).some((c) => normalizeAnswer(c) === n) };
  }
  if (a.text !== undefined) throw bad('text', 'this quiz takes choices');
  if (!Array.isArray(a.choices)) throw bad('choices', 'required');
  const choices = indexes(a.choices, q.options.length, 'choices');
  if (choices.length !== a.choices.length) throw bad('choices', 'must not repeat an option');
  if (q.kind === 'multiple' ? choices.length < 1 : choices.length !== 1) {
    throw bad('choices', q.kind === 'multiple' ? 'choose at least one option' : 'choose exactly one option');
  }
  const want = q.correct as number[];
  const correct = choices.length === want.length && choices.every((c, i) => c === want[i]);
  return { choices, text: null, correct };
}

/** Answers per option (choice kinds); `[correct, incorrect]` for short answers. */
export function countAnswers(
  q: Pick<QuizDefinition, 'kind' | 'options'>,
  answers: readonly { choices: number[] | null; correct: boolean }[],
): number[] {
  if (q.kind === 'short') {
    const right = answers.filter((a) => a.correct).length;
    return [right, answers.length - right];
  }
  const counts: number[] = q.options.map(() => 0);
  for (const a of answers) for (const c of a.choices ?? []) if (c >= 0 && c < counts.length) counts[c]! += 1;
  return counts;
}
