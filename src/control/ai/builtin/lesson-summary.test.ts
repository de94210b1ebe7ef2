import { describe, expect, it } from 'vitest';
import type { LessonFacts } from '../provider.ts';
import { coveredTopics, summariseLesson } from './lesson-summary.ts';

const student = (name: string, over: Partial<LessonFacts['students'][number]> = {}) => ({
  name,
  minutesWatched: 40,
  engagement: 80,
  quizAnswered: 3,
  quizCorrect: 3,
  questionsAsked: 0,
  ...over,
});

/** A scripted lesson: three slides (two about one topic), three quizzes, questions, five students. */
const facts: LessonFacts = {
  lesson: { id: 'l1', number: 4, classTitle: '과학 2반', startedAt: '2026-12-01T01:00:00Z', endedAt: null },
  slides: [
    { at: '2026-12-01T01:01:00Z', text: '광합성의 원리\n빛 에너지를 화학 에너지로' },
    { at: '2026-12-01T01:05:00Z', text: '광합성의 원리\n엽록체에서 일어난다' },
    { at: '2026-12-01T01:12:00Z', text: '\n  호흡과 광합성 비교  \n포도당, 산소' },
    { at: '2026-12-01T01:20:00Z', text: '—— | ..' },
  ],
  quizzes: [
    {
      quizId: 'q1',
      question: '광합성이 일어나는 곳은?',
      kind: 'single',
      answered: 5,
      difficulty: 0.8,
      topDistractor: { option: '뿌리', count: 1 },
      clusters: [],
    },
    {
      quizId: 'q2',
      question: '광합성에 꼭 필요한 것은?',
      kind: 'single',
      answered: 5,
      difficulty: 0.2,
      topDistractor: { option: '흙', count: 3 },
      clusters: [],
    },
    {
      quizId: 'q3',
      question: '광합성의 산물은?',
      kind: 'short',
      answered: 5,
      difficulty: 0.4,
      topDistractor: null,
      clusters: [
        {
          kind: 'misconception',
          label: '이산화탄소',
          count: 3,
          answers: ['이산화탄소', 'CO2'],
          note: { ko: '산물과 재료를 구분해 주세요.', en: 'Separate products from inputs.' },
        },
      ],
    },
  ],
  questions: [
    { label: '3단계', count: 6, messages: ['3단계가 뭐예요?', 'what is step 3?'] },
    { label: '엽록체', count: 1, messages: ['엽록체는 어디 있어요?'] },
  ],
  students: [
    student('김민지'),
    student('이서준', { quizCorrect: 0 }),
    student('박지우', { engagement: 20, quizAnswered: 0, quizCorrect: 0 }),
    student('최유나', { questionsAsked: 3 }),
    student('정하은', { questionsAsked: 2, engagement: 30 }),
  ],
  quizRuns: 3,
};

describe('the built-in lesson summary', () => {
  it('lists the topics covered from the slide headings, alike ones once, noise left out', () => {
    expect(coveredTopics(facts.slides)).toEqual(['광합성의 원리', '호흡과 광합성 비교']);
  });

  it('names the hard items hardest first, with the most chosen wrong option or the misconception', () => {
    const s = summariseLesson(facts);
    expect(s.hardItems.map((h) => h.quizId)).toEqual(['q2', 'q3']);
    expect(s.hardItems[0]!.why.ko).toContain('3명이 오답 "흙"');
    expect(s.hardItems[0]!.why.en).toContain('3 chose the wrong option "흙"');
    expect(s.hardItems[1]!.why.ko).toContain('이산화탄소');
    expect(s.hardItems[1]!.why.ko).toContain('산물과 재료를 구분해 주세요.');
    // The card shows the correct share beside the item: the reason does not say it again.
    for (const h of s.hardItems) expect(h.why.ko).not.toContain('정답률');
  });

  it('flags who may need help, and not a student who only asked questions', () => {
    const s = summariseLesson(facts);
    expect(s.needHelp.map((h) => h.name).sort()).toEqual(['박지우', '이서준', '정하은']);
    const park = s.needHelp.find((h) => h.name === '박지우')!;
    expect(park.reasons).toEqual(['no-answers', 'low-engagement']);
    expect(park.note.ko).toBe('퀴즈에 답하지 않음, 참여도 20점');
    expect(s.needHelp.find((h) => h.name === '이서준')!.reasons).toEqual(['low-accuracy']);
  });

  it('writes the open questions and a paragraph in both languages', () => {
    const s = summariseLesson(facts);
    expect(s.openQuestions[0]).toEqual({ label: '3단계', count: 6 });
    expect(s.text.ko).toContain('다룬 내용: 광합성의 원리, 호흡과 광합성 비교.');
    expect(s.text.ko).toContain('퀴즈 3개 중 2개가 어려웠습니다');
    expect(s.text.en).toContain('3 students may need help.');
  });

  it('says so when there is nothing to summarise', () => {
    const s = summariseLesson({
      ...facts,
      slides: [],
      quizzes: [],
      questions: [],
      students: [],
      quizRuns: 0,
    });
    expect(s.covered).toEqual([]);
    expect(s.text.en).toBe('This lesson has nothing to summarise yet (no slides, quizzes or questions).');
  });
});
