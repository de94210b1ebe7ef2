import { describe, expect, it } from 'vitest';
import { lessonSummary } from './summary.ts';
import type { AttendanceRow, LessonReport, QuizItemReport } from './types.ts';

type Report = Omit<LessonReport, 'summary'>;
const START = '2026-03-16T09:00:00.000Z';
const minute = (m: number) => new Date(Date.parse(START) + m * 60_000).toISOString();

const student = (name: string, over: Partial<AttendanceRow> = {}): AttendanceRow => ({
  participantId: name,
  name,
  joinedAt: START,
  leftAt: null,
  minutesWatched: 40,
  engagement: 80,
  quizAnswered: 2,
  quizCorrect: 2,
  chatMessages: 0,
  hands: 0,
  removed: false,
  ...over,
});

const quiz = (question: string, over: Partial<QuizItemReport> = {}): QuizItemReport => ({
  runId: question,
  quizId: question,
  question,
  kind: 'single',
  openedAt: START,
  answered: 0,
  correct: 0,
  accuracy: null,
  options: [],
  perStudent: [],
  ...over,
});

const report = (over: Partial<Report> = {}): Report => ({
  lesson: {
    id: 'l',
    number: 1,
    classId: 'c',
    classTitle: '국어',
    startedAt: START,
    endedAt: minute(50),
    durationSec: 3000,
  },
  attendance: [],
  viewers: { peak: 0, average: 0, timeline: [] },
  stalls: 0,
  quizzes: [],
  engagement: [],
  chat: { messages: 0, perMinute: [] },
  hands: 0,
  reactions: 0,
  recordings: [],
  ...over,
});

describe('lessonSummary', () => {
  it('says the essentials of an empty lesson in three lines', () => {
    expect(lessonSummary(report())).toEqual({
      provider: 'rules',
      ko: ['참석한 학생이 없었습니다.', '퀴즈는 출제되지 않았습니다.', '채팅과 손들기는 없었습니다.'],
      en: ['No students attended.', 'No quizzes were given.', 'No chat messages or raised hands.'],
    });
  });

  it('names the hardest item, its most chosen wrong option, the dip and who may need help', () => {
    const s = lessonSummary(
      report({
        attendance: [
          student('김민수', { minutesWatched: 30, engagement: 45 }),
          student('이지은', { minutesWatched: 38, quizCorrect: 0 }),
          student('박서준', { minutesWatched: 34 }),
          student('최유나', { minutesWatched: 34, engagement: 30, quizAnswered: 0, quizCorrect: 0 }),
          student('정하늘', { minutesWatched: 34, engagement: 49, quizCorrect: 1 }),
        ],
        quizzes: [
          quiz('쉬운 문제', { answered: 4, correct: 4, accuracy: 1 }),
          quiz('광합성에 필요하지 않은 것은 무엇일까요? 아래 보기 가운데에서 하나만 골라 보세요.', {
            answered: 5,
            correct: 2,
            accuracy: 0.4,
            options: [
              { text: '빛', count: 0, correct: false },
              { text: '물', count: 1, correct: false },
              { text: '산소', count: 2, correct: true },
              { text: '이산화탄소', count: 2, correct: false },
            ],
          }),
          quiz('아무도 안 푼 문제'),
        ],
        engagement: [
          { at: minute(0), score: 80, watching: 1 },
          { at: minute(12), score: 78, watching: 1 },
          { at: minute(23), score: 41, watching: 0.4 },
          { at: minute(35), score: 81, watching: 1 },
        ],
        stalls: 1,
        chat: { messages: 57, perMinute: [] },
        hands: 4,
      }),
    );
    expect(s.ko).toEqual([
      '학생 5명이 참석했고 평균 34분 시청했습니다.',
      '가장 어려운 문항은 "광합성에 필요하지 않은 것은 무엇일까요? 아래 보기 가운데에서 하나만…"(정답률 40%)였고, ' +
        '가장 많이 고른 오답은 "이산화탄소"(2명)입니다.',
      '수업 23분쯤 참여도가 41점으로 가장 낮았습니다(평균 70점).',
      '학생 화면에서 재생이 멈춘 10초 구간이 1번 있었습니다.',
      '채팅 57개, 손들기 4번이 있었습니다.',
      // Lowest first: 이지은 0 %, 최유나 30, 김민수 45; 정하늘 (49) is the one more.
      '도움이 필요할 수 있는 학생(참여도나 정답률이 낮음): 이지은, 최유나, 김민수 외 1명',
    ]);
    expect(s.en).toEqual([
      '5 students attended and watched 34 min on average.',
      'Hardest question: "광합성에 필요하지 않은 것은 무엇일까요? 아래 보기 가운데에서 하나만…" (40% correct); ' +
        'most chosen wrong answer: "이산화탄소" (2 students).',
      'Engagement dipped to 41 about 23 min into the lesson (mean 70).',
      "Students' playback stalled in 1 10-s interval.",
      '57 chat messages and 4 raised hands.',
      'May need help (low engagement or accuracy): 이지은, 최유나, 김민수 and 1 more.',
    ]);
  });

  it('keeps to the mean when the curve does not dip 20 points, and to one quiz without a wrong option', () => {
    const s = lessonSummary(
      report({
        attendance: [student('가영'), student('나래', { minutesWatched: 21 })],
        quizzes: [
          quiz('1 + 1 = ?', {
            answered: 2,
            correct: 2,
            accuracy: 1,
            options: [
              { text: '2', count: 2, correct: true },
              { text: '3', count: 0, correct: false },
            ],
          }),
        ],
        engagement: [
          { at: minute(0), score: 70, watching: 1 },
          { at: minute(10), score: 51, watching: 1 },
          { at: minute(20), score: 69, watching: 1 },
        ],
        chat: { messages: 1, perMinute: [] },
        hands: 0,
      }),
    );
    expect(s.ko).toEqual([
      '학생 2명이 참석했고 평균 31분 시청했습니다.',
      '퀴즈 "1 + 1 = ?"의 정답률은 100%였습니다.',
      '참여도는 평균 63점으로 고르게 유지되었습니다.',
      '채팅 1개, 손들기 0번이 있었습니다.',
    ]);
    expect(s.en).toEqual([
      '2 students attended and watched 31 min on average.',
      'Quiz "1 + 1 = ?": 100% correct.',
      'Engagement held steady at 63 on average.',
      '1 chat message and 0 raised hands.',
    ]);
  });

  it('says "less than a minute", not "0 minutes", for a very short watch', () => {
    const s = lessonSummary(report({ attendance: [student('김하늘', { minutesWatched: 0.3 })] }));
    expect(s.ko[0]).toBe('학생 1명이 참석했고 평균 1분 미만 시청했습니다.');
    expect(s.en[0]).toBe('1 student attended and watched less than a minute on average.');
  });

  it('says when quizzes went unanswered', () => {
    const s = lessonSummary(report({ attendance: [student('가영')], quizzes: [quiz('a'), quiz('b')] }));
    expect(s.ko[1]).toBe('퀴즈 2개에 답한 학생이 없었습니다.');
    expect(s.en[1]).toBe('Nobody answered the 2 quizzes.');
    expect(s.ko).toHaveLength(3);
  });
});
