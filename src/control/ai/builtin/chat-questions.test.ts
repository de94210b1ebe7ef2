import { describe, expect, it } from 'vitest';
import { groupQuestions, isQuestion } from './chat-questions.ts';

describe('isQuestion', () => {
  it('finds Korean questions by mark, ending and question word', () => {
    for (const q of [
      '이거 맞아요?',
      '이거 맞는 건가요',
      '이렇게 하면 되나요',
      '이거 맞죠',
      '어떻게 하는지',
      '다음은 뭘까',
      '이게 맞습니까',
      '3번 어떻게 풀어요',
      '왜 음수가 나와',
      '이해가 안 돼요',
      '잘 모르겠어요 ㅠㅠ',
      '몇 쪽이에요',
    ]) {
      expect(isQuestion(q), q).toBe(true);
    }
  });

  it('finds English questions by mark, opening words and confusion', () => {
    for (const q of [
      'is this right?',
      'What is step 3',
      'how do I start',
      'Do we need a calculator',
      'Can I go to the bathroom',
      "I don't get it",
      "I don't understand step 3",
      "I'm confused about the graph",
    ]) {
      expect(isQuestion(q), q).toBe(true);
    }
  });

  it('leaves statements, exclamations and commands alone', () => {
    for (const s of [
      '',
      '네',
      '알겠습니다',
      '집에 가요',
      '화가 나요',
      '왜냐하면 더 크니까',
      '언제나 재밌어요',
      '아까',
      'ok',
      'Do your homework',
      'What a great lesson!',
      'I get it now',
      'step 3 is easy',
    ]) {
      expect(isQuestion(s), s).toBe(false);
    }
  });
});

describe('groupQuestions', () => {
  const lesson = [
    { name: '민준', text: '3번 단계가 이해가 안 돼요' },
    { name: 'Alex', text: "I don't understand step 3" },
    { name: '서연', text: '세 번째 단계 어떻게 해요?' },
    { name: 'Sam', text: 'Why is step 3 negative?' },
    { name: '지호', text: '3단계에서 왜 음수가 나와요?' },
    { name: 'Kim', text: 'what do we do in step 3?' },
    { name: '민준', text: '3번 단계가 이해가 안 돼요' },
    { name: '민준', text: '3번 단계 다시 설명해 주실 수 있나요?' },
    { name: '하은', text: '화장실 가도 되나요?' },
    { name: '도윤', text: '2번 문제 답이 뭐예요?' },
    { name: '예린', text: '오늘 재밌다' },
    { name: 'Lee', text: 'Step 5 is easy' },
  ];

  it('puts 6 students asking about one step, in Korean and English, in one group', () => {
    const groups = groupQuestions(lesson);
    const [top] = groups;
    expect(top).toBeDefined();
    expect(top!.count).toBe(6);
    expect(top!.label).toBe('3번 단계 · step 3');
    expect(top!.messages).toContain("I don't understand step 3");
    expect(top!.messages).toContain('3단계에서 왜 음수가 나와요?');
    // The repeated message is listed once; the student's other question stays in the group.
    expect(top!.messages.filter((m) => m === '3번 단계가 이해가 안 돼요')).toHaveLength(1);
    expect(top!.messages).toHaveLength(7);
  });

  it('keeps unrelated questions apart, each its own group, and drops statements', () => {
    const groups = groupQuestions(lesson);
    expect(groups).toHaveLength(3);
    expect(groups.slice(1).map((g) => [g.count, g.messages])).toEqual([
      [1, ['화장실 가도 되나요?']],
      [1, ['2번 문제 답이 뭐예요?']],
    ]);
    expect(groups[2]!.label).toBe('2번 문제 답');
    expect(groups.flatMap((g) => g.messages)).not.toContain('오늘 재밌다');
  });

  it('does not join questions about different numbers', () => {
    const groups = groupQuestions([
      { name: 'a', text: '2번 문제 답이 뭐예요?' },
      { name: 'b', text: '3번 문제 답이 뭐예요?' },
      { name: 'c', text: 'what is the answer to question 3?' },
    ]);
    expect(groups.map((g) => g.count)).toEqual([2, 1]);
    expect(groups[0]!.messages).toEqual(['3번 문제 답이 뭐예요?', 'what is the answer to question 3?']);
    expect(groups[0]!.label).toBe('3번 문제 답 · answer to question 3');
  });

  it('groups topic-less confusion worded alike and labels it by its words', () => {
    const groups = groupQuestions([
      { name: 'a', text: '이해가 안 돼요' },
      { name: 'b', text: '이해가 안 돼요 ㅠㅠ' },
      { name: 'b', text: '이해가 안 돼요 ㅠㅠ' },
    ]);
    expect(groups).toEqual([
      { label: '이해가 안 돼요', count: 2, messages: ['이해가 안 돼요', '이해가 안 돼요 ㅠㅠ'] },
    ]);
  });

  it('meets across languages through classroom words, variables and copulas', () => {
    const groups = groupQuestions([
      { name: 'a', text: '숙제 언제까지예요?' },
      { name: 'b', text: 'When is the homework due?' },
      { name: 'c', text: 'What page are we on?' },
      { name: 'd', text: '몇 쪽이에요?' },
      { name: 'e', text: 'what is x?' },
      { name: 'f', text: 'x가 뭐예요?' },
      { name: 'g', text: '그래프 어떻게 그려요?' },
      { name: 'h', text: 'How do I draw the graph?' },
      { name: 'i', text: 'Can you hear me?' },
    ]);
    expect(groups.map((g) => [g.label, g.count])).toEqual([
      ['숙제 · homework', 2],
      ['쪽 · page', 2],
      ['x', 2],
      ['그래프 · graph', 2],
      ['hear', 1],
    ]);
  });

  it('returns no groups for a chat without questions', () => {
    expect(groupQuestions([])).toEqual([]);
    expect(groupQuestions([{ name: 'a', text: '안녕하세요' }])).toEqual([]);
  });
});
