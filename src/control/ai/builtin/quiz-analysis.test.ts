import { describe, expect, it } from 'vitest';
import { analyseItem, analyseLesson, clusterShortAnswers, type ItemInput } from './quiz-analysis.ts';

/** A class of n students, strongest first (Korean names as ids). */
function classOf(n: number): string[] {
  const family = ['김', '이', '박', '최', '정', '강', '조', '윤', '장', '임'];
  const given = ['민준', '서연', '도윤', '지우', '하준', '서윤'];
  return Array.from({ length: n }, (_, i) => `${family[i % 10]}${given[Math.floor(i / 10) % 6]}${i}`);
}

/** A choice item answered by each student as `pick(i)` (i = rank, 0 strongest). */
function choiceItem(
  students: string[],
  question: string,
  options: string[],
  correct: number,
  pick: (i: number) => number,
): ItemInput {
  return {
    kind: 'single',
    question,
    options,
    correct: [correct],
    answers: students.map((participantId, i) => ({
      participantId,
      choices: [pick(i)],
      correct: pick(i) === correct,
    })),
  };
}

/** A short-answer item; `wrong` lists [answer, how many students]; the rest answer `right`. */
function shortItem(
  question: string,
  accepted: string[],
  wrong: [string, number][],
  rightCount: number,
): ItemInput {
  const texts = [...wrong.flatMap(([t, n]) => Array<string>(n).fill(t))];
  const students = classOf(texts.length + rightCount);
  return {
    kind: 'short',
    question,
    options: [],
    correct: accepted,
    answers: students.map((participantId, i) =>
      i < rightCount
        ? { participantId, text: accepted[0]!, correct: true }
        : { participantId, text: texts[i - rightCount]!, correct: false },
    ),
  };
}

describe('analyseLesson on a scripted class of 30', () => {
  const students = classOf(30);
  const items: ItemInput[] = [
    choiceItem(students, '태양계에서 가장 큰 행성은?', ['수성', '금성', '목성', '화성'], 2, (i) =>
      i < 27 ? 2 : 0,
    ),
    // Most miss this one, most of them for "스스로 빛을 낸다".
    choiceItem(
      students,
      '달이 밝게 보이는 이유는?',
      ['스스로 빛을 낸다', '햇빛을 반사한다', '지구의 빛을 반사한다', '별이기 때문이다'],
      1,
      (i) => (i < 6 ? 1 : i < 22 ? 0 : 2),
    ),
    // The stronger half right, the weaker half wrong.
    choiceItem(students, '지구의 자전 주기는?', ['하루', '한 달', '일 년'], 0, (i) => (i < 15 ? 0 : 2)),
    // Right or wrong regardless of strength.
    choiceItem(students, '오늘 배운 단원은?', ['1단원', '2단원'], 0, (i) => (i % 2 === 0 ? 0 : 1)),
    // Two more items the stronger students get, so the lesson totals rank the class.
    choiceItem(students, '지구에서 가장 가까운 별은?', ['태양', '북극성', '시리우스'], 0, (i) =>
      i < 12 ? 0 : 1,
    ),
    choiceItem(students, '밀물과 썰물의 원인은?', ['바람', '달의 인력', '지진'], 1, (i) => (i < 20 ? 1 : 0)),
  ];
  const { items: out, hardest } = analyseLesson(items);

  it('names the item most students missed as the hardest, with its most chosen distractor', () => {
    expect(hardest).toBe(1);
    expect(out[1]!.difficulty).toBeCloseTo(6 / 30);
    expect(out[1]!.distractors[0]).toEqual({ option: '스스로 빛을 낸다', count: 16, correct: false });
    expect(out[1]!.distractors.map((d) => d.count)).toEqual([16, 8, 6, 0]);
    expect(out[1]!.distractors.find((d) => d.correct)!.option).toBe('햇빛을 반사한다');
    expect(out[0]!.difficulty).toBeCloseTo(0.9);
    expect(out[0]!.clusters).toEqual([]);
  });

  it('finds discrimination high for an item strong students get and weak ones miss, ~0 for a random one', () => {
    expect(out[2]!.discrimination!).toBeGreaterThan(0.9);
    expect(Math.abs(out[3]!.discrimination!)).toBeLessThanOrEqual(0.25);
    expect(out[1]!.discrimination!).toBeGreaterThan(0.3);
  });

  it('shares a tie at the group cut instead of picking by order', () => {
    // Everyone has the same total besides this item: the groups are the same mix.
    const flat = new Map(items[3]!.answers.map((a) => [a.participantId, 2 + (a.correct ? 1 : 0)]));
    expect(analyseItem(items[3]!, flat).discrimination).toBeCloseTo(0);
  });
});

describe('analyseItem edge cases', () => {
  it('handles an item nobody answered', () => {
    const item: ItemInput = {
      kind: 'single',
      question: 'q',
      options: ['가', '나'],
      correct: [0],
      answers: [],
    };
    expect(analyseItem(item, new Map())).toEqual({
      difficulty: null,
      discrimination: null,
      distractors: [
        { option: '가', count: 0, correct: true },
        { option: '나', count: 0, correct: false },
      ],
      clusters: [],
    });
    expect(analyseLesson([item]).hardest).toBeNull();
    expect(analyseLesson([]).hardest).toBeNull();
  });

  it('handles a class that got everything right', () => {
    const students = classOf(12);
    const item = choiceItem(students, '1 + 1 = ?', ['1', '2', '3'], 1, () => 1);
    const { items, hardest } = analyseLesson([item]);
    expect(items[0]!.difficulty).toBe(1);
    expect(items[0]!.discrimination).toBe(0);
    expect(hardest).toBeNull();
    const short = shortItem('대한민국의 수도는?', ['서울'], [], 12);
    expect(analyseLesson([short]).items[0]!.clusters).toEqual([]);
  });

  it('handles a single student (no discrimination) and a short answer of one', () => {
    const one = shortItem('대한민국의 수도는?', ['서울'], [['부산', 1]], 0);
    const a = analyseLesson([one]).items[0]!;
    expect(a.difficulty).toBe(0);
    expect(a.discrimination).toBeNull();
    expect(a.clusters).toHaveLength(1);
    expect(a.clusters[0]).toMatchObject({
      kind: 'misconception',
      label: '부산',
      count: 1,
      answers: ['부산'],
    });
  });

  it('labels a true/false item without options as the quiz code does, and counts multiple choices', () => {
    const tf: ItemInput = {
      kind: 'truefalse',
      question: '물은 1기압에서 100도에 끓는다',
      options: [],
      correct: [0],
      answers: classOf(5).map((participantId, i) => ({
        participantId,
        choices: [i < 4 ? 0 : 1],
        correct: i < 4,
      })),
    };
    expect(analyseItem(tf, new Map()).distractors).toEqual([
      { option: 'True', count: 4, correct: true },
      { option: 'False', count: 1, correct: false },
    ]);
    const multi: ItemInput = {
      kind: 'multiple',
      question: '포유류를 모두 고르세요',
      options: ['고래', '상어', '박쥐', '펭귄'],
      correct: [0, 2],
      answers: [
        { participantId: '김민준', choices: [0, 2], correct: true },
        { participantId: '이서연', choices: [0, 1], correct: false },
        { participantId: '박도윤', choices: [1, 3], correct: false },
      ],
    };
    expect(analyseItem(multi, new Map()).distractors).toEqual([
      { option: '고래', count: 2, correct: true },
      { option: '상어', count: 2, correct: false },
      { option: '박쥐', count: 1, correct: true },
      { option: '펭귄', count: 1, correct: false },
    ]);
  });
});

describe('short-answer misconception clusters', () => {
  it('puts Korean answers with one misconception in one cluster, another apart, with a re-teach note', () => {
    const item = shortItem(
      '광합성이 일어나려면 무엇이 필요할까요?',
      ['빛', '햇빛'],
      [
        ['광합성은 빛이 없어도 일어난다', 3],
        ['빛 없이도 광합성이 일어나요', 1],
        ['광합성에 빛은 필요없다', 1],
        ['빛이없어도 광합성이 일어난다', 1],
        ['광합성은 뿌리에서 일어난다', 2],
        ['뿌리에서 광합성을 해요', 1],
        ['물만 있으면 된다', 1],
      ],
      10,
    );
    const { clusters, difficulty } = analyseLesson([item]).items[0]!;
    expect(difficulty).toBeCloseTo(10 / 20);
    expect(clusters.map((c) => [c.label, c.count])).toEqual([
      ['광합성은 빛이 없어도 일어난다', 6],
      ['광합성은 뿌리에서 일어난다', 3],
      ['물만 있으면 된다', 1],
    ]);
    expect(clusters[0]!.answers).toEqual([
      '광합성은 빛이 없어도 일어난다',
      '빛 없이도 광합성이 일어나요',
      '광합성에 빛은 필요없다',
      '빛이없어도 광합성이 일어난다',
    ]);
    expect(clusters[0]!.kind).toBe('misconception');
    expect(clusters[0]!.note.ko).toBe(
      '"광합성은 빛이 없어도 일어난다"라고 답한 학생 6명: 정답(빛, 햇빛)과 비교해 다시 설명해 주세요.',
    );
    expect(clusters[0]!.note.en).toBe(
      '6 students answered "광합성은 빛이 없어도 일어난다": compare it with the correct answer (빛, 햇빛) and explain again.',
    );
  });

  it('groups English answers likewise and keeps an opposite answer out of the negated cluster', () => {
    const clusters = clusterShortAnswers(
      'What does a plant need for photosynthesis?',
      ['light', 'sunlight'],
      [
        'Plants do not need light',
        'It does not need light',
        'photosynthesis happens without light',
        'no light is needed',
        "it doesn't need light",
        'only water from the roots',
        'water in the roots',
        'water in the roots',
        'carbon dioxide and light',
      ],
    );
    expect(clusters.map((c) => [c.label, c.count])).toEqual([
      ['Plants do not need light', 5],
      ['water in the roots', 3],
      ['carbon dioxide and light', 1],
    ]);
    expect(clusters[0]!.note.en).toBe(
      '5 students answered "Plants do not need light": compare it with the correct answer (light, sunlight) and explain again.',
    );
  });

  it('sets answers close to an accepted one apart as a possible spelling', () => {
    const english = clusterShortAnswers(
      'What process do plants use to make food?',
      ['photosynthesis'],
      ['photosynthsis', 'photosynthesys', 'photosynthsis', 'respiration', 'respiration'],
    );
    expect(english.map((c) => [c.kind, c.label, c.count])).toEqual([
      ['near-correct', 'photosynthsis', 3],
      ['misconception', 'respiration', 2],
    ]);
    expect(english[0]!.answers).toEqual(['photosynthsis', 'photosynthesys']);
    expect(english[0]!.note.en).toBe(
      '3 students answered "photosynthsis", close to the accepted "photosynthesis": the accepted answers may need this spelling.',
    );
    const korean = clusterShortAnswers(
      '광합성에 쓰이는 기체는 무엇인가요?',
      ['이산화탄소'],
      ['이산화탄수', '이산화 탄소', '산소', '산소', '산소요'],
    );
    expect(korean.map((c) => [c.kind, c.label, c.count])).toEqual([
      ['misconception', '산소', 3],
      ['near-correct', '이산화탄수', 2],
    ]);
    expect(korean[1]!.note.ko).toBe(
      '"이산화탄수"라고 답한 학생 2명: 정답 "이산화탄소"와 거의 같습니다. 이 표기도 정답으로 인정할지 검토해 주세요.',
    );
    // An answer with the accepted words and another ending is close too; with a negation it is not.
    const endings = clusterShortAnswers('광합성에 필요한 것은?', ['빛'], ['빛이요', '빛은 필요 없다']);
    expect(endings.map((c) => [c.kind, c.label])).toEqual([
      ['near-correct', '빛이요'],
      ['misconception', '빛은 필요 없다'],
    ]);
  });
});
