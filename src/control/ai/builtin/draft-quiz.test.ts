import { describe, expect, it } from 'vitest';
import { draftQuizFromText } from './draft-quiz.ts';

describe('draftQuizFromText', () => {
  it('drafts a Korean cloze question with distractors from the slide', () => {
    const d = draftQuizFromText('광합성의 원리\n\n빛 에너지를 화학 에너지로\n\nPhotosynthesis makes glucose');
    expect(d).not.toBeNull();
    expect(d!.kind).toBe('single');
    expect(d!.question).toBe('빈칸에 알맞은 말은? 빛 에너지를 ___ 에너지로');
    expect(d!.options).toHaveLength(4);
    expect(d!.options[(d!.correct as number[])[0]!]).toBe('화학');
    expect(new Set(d!.options).size).toBe(4);
    for (const o of d!.options) expect(o).toMatch(/^[가-힣]+$/);
    expect(d!.note.ko).toContain('빛 에너지를 화학 에너지로');
    expect(d!.note.en).toContain('Drafted from the slide');
  });

  it('drafts in English for an English slide', () => {
    const d = draftQuizFromText(
      'The water cycle\nEvaporation turns liquid water into vapour\nCondensation forms clouds',
    );
    expect(d!.kind).toBe('single');
    expect(d!.question.startsWith('Which word fills the blank? ')).toBe(true);
    expect(d!.question).toContain('___');
    const answer = d!.options[(d!.correct as number[])[0]!]!;
    expect('evaporation turns liquid water into vapour').toContain(answer);
    expect(d!.question.toLowerCase()).not.toContain(answer);
  });

  it('asks a short-answer question when the slide has too few other words', () => {
    const d = draftQuizFromText('세포 분열');
    expect(d).toMatchObject({ kind: 'short', options: [], timeLimitSec: 60 });
    expect(d!.question.startsWith('빈칸에 알맞은 말을 쓰세요: ')).toBe(true);
    expect(d!.correct).toHaveLength(1);
    expect('세포 분열').toContain((d!.correct as string[])[0]!);
  });

  it('gives the same draft for the same slide', () => {
    const t = '광합성의 원리\n빛 에너지를 화학 에너지로';
    expect(draftQuizFromText(t)).toEqual(draftQuizFromText(t));
  });

  it('answers null for empty or noise text', () => {
    expect(draftQuizFromText('')).toBeNull();
    expect(draftQuizFromText('  \n\n ')).toBeNull();
    expect(draftQuizFromText('| — .\n12 34\noo')).toBeNull();
  });
});
