import { describe, expect, it } from 'vitest';
import {
  charNgrams,
  conceptText,
  conceptTokens,
  concepts,
  contentWords,
  features,
  groupBySimilarity,
  jaccard,
  normalize,
  similarity,
  stem,
  topWords,
  words,
} from './text.ts';

describe('text helpers', () => {
  it('normalises width, case and spaces', () => {
    expect(normalize('  ＡＢＣ   광합성\n\t은 ')).toBe('abc 광합성 은');
  });

  it('splits words and strips Korean particles, keeping two-syllable roots', () => {
    expect(words('광합성은 빛을 쓴다!')).toEqual(['광합성은', '빛을', '쓴다']);
    expect(stem('광합성은')).toBe('광합성');
    expect(stem('단계에서')).toBe('단계');
    expect(stem('빛을')).toBe('빛을');
    expect(stem('answers')).toBe('answer');
    expect(contentWords('What is the answer of step 3?')).toEqual(['answer', 'step']);
  });

  it('matches Korean words with different endings through syllable bigrams', () => {
    expect(charNgrams('광합성은')).toEqual(new Set(['광합', '합성', '성은']));
    expect(jaccard(new Set(), new Set())).toBe(0);
    expect(similarity(features('광합성은 빛'), features('광합성이 빛'))).toBeGreaterThan(0.3);
    const groups = groupBySimilarity(['광합성은 빛', '광합성이 빛', 'mitochondria'], (s) => s, 0.3);
    expect(groups).toEqual([['광합성은 빛', '광합성이 빛'], ['mitochondria']]);
    expect(topWords(['광합성은 빛', '광합성이 물'], 1)).toEqual(['광합성']);
  });

  it('writes ordinals as digits and parts Latin letters from digits', () => {
    expect(conceptText('세 번째 단계')).toBe('3 단계');
    expect(conceptText('첫번째 문제')).toBe('1 문제');
    expect(conceptText('the third step, 2nd page, step3')).toBe('the 3 step, 2 page, step 3');
    expect(conceptText('3번 단계')).toBe('3번 단계');
  });

  it('lets Korean and English classroom words meet as one concept, numbers kept', () => {
    expect(concepts('3번 단계가')).toEqual(new Set(['3', 'step']));
    expect(concepts('step 3')).toEqual(new Set(['step', '3']));
    expect(concepts('세 번째 단계')).toEqual(concepts('the third step'));
    expect(concepts('2번 문제 답이')).toEqual(new Set(['2', 'problem', 'answer']));
    expect(concepts('question two on page 05')).toEqual(new Set(['problem', '2', 'page', '5']));
    expect(concepts('음수가 나와', new Set(['나와']))).toEqual(new Set(['negative']));
    expect(concepts('x가 몇 쪽이에요')).toEqual(new Set(['x', '몇', 'page']));
    expect(concepts('the answer is twelve')).toEqual(new Set(['answer', '12']));
  });

  it('reports where each concept is written, ending at the stem', () => {
    const t = conceptText('3번 단계가 어려워');
    const toks = conceptTokens('3번 단계가 어려워');
    expect(toks.map((k) => [k.concept, t.slice(k.start, k.end)])).toEqual([
      ['3', '3'],
      ['step', '단계'],
      ['어려워', '어려워'],
    ]);
  });
});
