import { describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import { checkQuiz, countAnswers, gradeAnswer, type QuizInput } from './definition.ts';

const refused = (fn: () => unknown, field: string): void => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isAirError(err, 'VALIDATION')).toBe(true);
  expect((err as Error).message).toContain(field);
};

const single: QuizInput = {
  kind: 'single',
  question: ' 수도는? ',
  options: ['서울', '부산'],
  correct: [0],
  timeLimitSec: 30,
};

describe('checkQuiz', () => {
  it('accepts each kind and stores it cleaned', () => {
    expect(checkQuiz(single)).toEqual({
      kind: 'single',
      question: '수도는?',
      options: ['서울', '부산'],
      correct: [0],
      timeLimitSec: 30,
      anonymous: false,
    });
    expect(
      checkQuiz({ ...single, kind: 'multiple', options: ['a', 'b', 'c'], correct: [2, 0, 2] }).correct,
    ).toEqual([0, 2]);
    expect(checkQuiz({ kind: 'truefalse', question: 'q', correct: [1], timeLimitSec: 5 }).options).toEqual([
      'True',
      'False',
    ]);
    expect(
      checkQuiz({ kind: 'short', question: 'q', correct: [' Seoul ', '서울'], timeLimitSec: 600 }).correct,
    ).toEqual(['Seoul', '서울']);
  });

  it('refuses what is out of bounds, naming the field', () => {
    refused(() => checkQuiz({ ...single, correct: [0, 1] }), 'correct');
    refused(() => checkQuiz({ ...single, correct: [] }), 'correct');
    refused(() => checkQuiz({ ...single, correct: [2] }), 'correct');
    refused(() => checkQuiz({ ...single, kind: 'multiple', correct: [] }), 'correct');
    refused(() => checkQuiz({ ...single, options: ['only'] }), 'options');
    refused(() => checkQuiz({ ...single, options: Array.from({ length: 11 }, (_, i) => `${i}`) }), 'options');
    refused(() => checkQuiz({ ...single, options: ['a', ' '] }), 'options');
    refused(() => checkQuiz({ ...single, options: ['a', 'x'.repeat(201)] }), 'options');
    refused(() => checkQuiz({ ...single, question: '   ' }), 'question');
    refused(() => checkQuiz({ ...single, question: 'x'.repeat(501) }), 'question');
    refused(() => checkQuiz({ ...single, timeLimitSec: 4 }), 'timeLimitSec');
    refused(() => checkQuiz({ ...single, timeLimitSec: 601 }), 'timeLimitSec');
    refused(
      () =>
        checkQuiz({
          kind: 'truefalse',
          question: 'q',
          options: ['a', 'b', 'c'],
          correct: [0],
          timeLimitSec: 5,
        }),
      'options',
    );
    refused(() => checkQuiz({ kind: 'short', question: 'q', options: ['a'], timeLimitSec: 5 }), 'options');
    refused(() => checkQuiz({ kind: 'short', question: 'q', correct: [1, 2], timeLimitSec: 5 }), 'correct');
  });
});

describe('gradeAnswer', () => {
  it('grades choices exactly and short answers trimmed, NFC, case-insensitive', () => {
    const s = checkQuiz(single);
    expect(gradeAnswer(s, { choices: [0] })).toEqual({ choices: [0], text: null, correct: true });
    expect(gradeAnswer(s, { choices: [1] }).correct).toBe(false);
    const m = checkQuiz({ ...single, kind: 'multiple', options: ['a', 'b', 'c'], correct: [0, 2] });
    expect(gradeAnswer(m, { choices: [2, 0] }).correct).toBe(true);
    expect(gradeAnswer(m, { choices: [0] }).correct).toBe(false);
    const short = checkQuiz({ kind: 'short', question: 'q', correct: ['Seoul', '서울'], timeLimitSec: 5 });
    expect(gradeAnswer(short, { text: '  SEOUL ' }).correct).toBe(true);
    // "서울" typed decomposed (NFD jamo) is the same answer.
    expect(gradeAnswer(short, { text: '서울'.normalize('NFD') })).toEqual({
      choices: null,
      text: '서울',
      correct: true,
    });
    expect(gradeAnswer(short, { text: 'Busan' }).correct).toBe(false);
  });

  it('refuses answers that do not fit the kind', () => {
    const s = checkQuiz(single);
    refused(() => gradeAnswer(s, { choices: [0, 1] }), 'choices');
    refused(() => gradeAnswer(s, { choices: [5] }), 'choices');
    refused(() => gradeAnswer(s, {}), 'choices');
    refused(() => gradeAnswer(s, { text: 'x' }), 'text');
    const m = checkQuiz({ ...single, kind: 'multiple', correct: [0] });
    refused(() => gradeAnswer(m, { choices: [0, 0] }), 'choices');
    refused(() => gradeAnswer(m, { choices: [] }), 'choices');
    const short = checkQuiz({ kind: 'short', question: 'q', correct: ['a'], timeLimitSec: 5 });
    refused(() => gradeAnswer(short, { text: '  ' }), 'text');
    refused(() => gradeAnswer(short, { choices: [0] }), 'choices');
  });

  it('counts answers per option', () => {
    const m = checkQuiz({ ...single, kind: 'multiple', options: ['a', 'b', 'c'], correct: [0] });
    const answers = [
      { choices: [0, 2], correct: false },
      { choices: [0], correct: true },
    ];
    expect(countAnswers(m, answers)).toEqual([2, 0, 1]);
    expect(countAnswers({ kind: 'short', options: [] }, [{ choices: null, correct: true }])).toEqual([1, 0]);
  });
});
