/**
 * Text features of the built-in analyzer (issue 10), Korean and English, no model and no
 * network: normalisation, word tokens (`Intl.Segmenter`), character n-grams (Hangul has no
 * spaces inside a phrase that matter and rich endings, so overlapping syllable bigrams match
 * "광합성은" with "광합성이"), and the similarities the clusterers use. Pure.
 */

/** NFC, lower case (Korean-aware), collapsed spaces, trimmed. */
export function normalize(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase('ko').replace(/\s+/g, ' ').trim();
}

const HANGUL = /[\uac00-\ud7a3]/;
const segmenter = new Intl.Segmenter('ko', { granularity: 'word' });

/** True when the text holds a Hangul syllable. */
export function hasHangul(text: string): boolean {
  return HANGUL.test(text);
}

/** Word tokens (letters and digits only), normalised. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const s of segmenter.segment(normalize(text))) if (s.isWordLike) out.push(s.segment);
  return out;
}

/** Common Korean particles and endings stripped from the end of a word ("광합성은" → "광합성"). */
const KO_SUFFIXES = [
  '에서는',
  '으로는',
  '이라는',
  '라는',
  '에서',
  '으로',
  '에게',
  '까지',
  '부터',
  '처럼',
  '보다',
  '이랑',
  '하고',
  '은',
  '는',
  '이',
  '가',
  '을',
  '를',
  '에',
  '의',
  '도',
  '로',
  '와',
  '과',
  '만',
  '요',
];

/** A word without a trailing Korean particle (two syllables or more are kept). */
export function stem(word: string): string {
  if (!hasHangul(word)) return word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word;
  for (const s of KO_SUFFIXES) {
    if (word.endsWith(s) && word.length - s.length >= 2) return word.slice(0, -s.length);
  }
  return word;
}

/** English words that carry no topic. */
const EN_STOP = new Set(
  'a an the is are was were be been am do does did to of in on at for with and or but it this that these those i you he she we they me my your what why how when where which who can could would should will just so about please'.split(
    ' ',
  ),
);

/** Content words: stemmed, without English stop words and one-letter words. */
export function contentWords(text: string): string[] {
  return words(text)
    .map(stem)
    .filter((w) => w.length > 1 && !EN_STOP.has(w));
}

/** Character n-grams of the text with its spaces removed (n = 2 by default). */
export function charNgrams(text: string, n = 2): Set<string> {
  const t = normalize(text).replace(/[\s\p{P}\p{S}]+/gu, '');
  const out = new Set<string>();
  if (t.length === 0) return out;
  if (t.length <= n) {
    out.add(t);
    return out;
  }
  for (let i = 0; i + n <= t.length; i++) out.add(t.slice(i, i + n));
  return out;
}

/** |a ∩ b| / |a ∪ b| (0 for two empty sets). */
export function jaccard<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** The features two short texts are compared by: character bigrams and content words. */
export interface TextFeatures {
  text: string;
  grams: Set<string>;
  words: Set<string>;
}

/** Features of one text. */
export function features(text: string): TextFeatures {
  return { text, grams: charNgrams(text, 2), words: new Set(contentWords(text)) };
}

/**
 * Similarity 0–1 of two short texts: the larger of bigram and content-word overlap (bigrams
 * catch Korean endings and typos, words catch reordered English).
 */
export function similarity(a: TextFeatures, b: TextFeatures): number {
  return Math.max(jaccard(a.grams, b.grams), jaccard(a.words, b.words));
}

/**
 * Groups items whose texts are similar (single link: an item joins a group when it is at least
 * `threshold` similar to any member), in order of first appearance. Quadratic: meant for one
 * lesson's answers or chat (hundreds of items).
 */
export function groupBySimilarity<T>(
  items: readonly T[],
  textOf: (item: T) => string,
  threshold: number,
): T[][] {
  const feats = items.map((i) => features(textOf(i)));
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < items.length; i++) {
    for (let j = 0; j < i; j++) {
      if (find(i) !== find(j) && similarity(feats[i]!, feats[j]!) >= threshold) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, T[]>();
  items.forEach((item, i) => {
    const r = find(i);
    const g = groups.get(r);
    if (g) g.push(item);
    else groups.set(r, [item]);
  });
  return [...groups.values()];
}

/** The most frequent content words of some texts (ties: first seen), for a group's label. */
export function topWords(texts: readonly string[], k = 3): string[] {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of new Set(contentWords(t))) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([w]) => w);
}

/**
 * Classroom words in Korean and English mapped to one shared concept, so "3번 단계" and
 * "step 3" meet. Keys are stemmed words (see `stem`); numbers stay tokens of their own.
 */
export const CONCEPTS: Readonly<Record<string, string>> = Object.freeze({
  단계: 'step',
  스텝: 'step',
  step: 'step',
  문제: 'problem',
  문항: 'problem',
  problem: 'problem',
  question: 'problem',
  exercise: 'problem',
  페이지: 'page',
  쪽: 'page',
  page: 'page',
  슬라이드: 'slide',
  slide: 'slide',
  숙제: 'homework',
  과제: 'homework',
  homework: 'homework',
  assignment: 'homework',
  시험: 'exam',
  test: 'exam',
  exam: 'exam',
  퀴즈: 'quiz',
  quiz: 'quiz',
  답: 'answer',
  정답: 'answer',
  답안: 'answer',
  answer: 'answer',
  예시: 'example',
  예제: 'example',
  example: 'example',
  그림: 'figure',
  figure: 'figure',
  picture: 'figure',
  image: 'figure',
  그래프: 'graph',
  graph: 'graph',
  표: 'table',
  table: 'table',
  공식: 'formula',
  formula: 'formula',
  식: 'equation',
  수식: 'equation',
  방정식: 'equation',
  equation: 'equation',
  계산: 'calculate',
  calculate: 'calculate',
  calculation: 'calculate',
  음수: 'negative',
  negative: 'negative',
  양수: 'positive',
  positive: 'positive',
  분수: 'fraction',
  fraction: 'fraction',
  곱하기: 'multiply',
  곱셈: 'multiply',
  multiply: 'multiply',
  multiplication: 'multiply',
  나누기: 'divide',
  나눗셈: 'divide',
  divide: 'divide',
  division: 'divide',
  더하기: 'add',
  덧셈: 'add',
  add: 'add',
  addition: 'add',
  빼기: 'subtract',
  뺄셈: 'subtract',
  subtract: 'subtract',
  subtraction: 'subtract',
  부호: 'sign',
  sign: 'sign',
  변수: 'variable',
  variable: 'variable',
  함수: 'function',
  function: 'function',
  넓이: 'area',
  면적: 'area',
  area: 'area',
  부피: 'volume',
  volume: 'volume',
  각도: 'angle',
  angle: 'angle',
  단위: 'unit',
  unit: 'unit',
  값: 'value',
  value: 'value',
  줄: 'line',
  line: 'line',
  부분: 'part',
  part: 'part',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  twenty: '20',
});

const KO_ORDINALS: Readonly<Record<string, string>> = {
  첫: '1',
  두: '2',
  세: '3',
  네: '4',
  다섯: '5',
  여섯: '6',
  일곱: '7',
  여덟: '8',
  아홉: '9',
  열: '10',
};
const EN_ORDINALS: Readonly<Record<string, string>> = {
  first: '1',
  second: '2',
  third: '3',
  fourth: '4',
  fifth: '5',
  sixth: '6',
  seventh: '7',
  eighth: '8',
  ninth: '9',
  tenth: '10',
};

/**
 * The text `conceptTokens` reads: normalised, ordinals written as digits ("세 번째" → "3",
 * "third" and "3rd" → "3") and Latin letters parted from digits and Hangul ("step3" → "step 3", "x가" → "x 가";
 * "3번" stays).
 */
export function conceptText(text: string): string {
  return normalize(text)
    .replace(/(첫|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s?번\s?째/gu, (_, n: string) => ` ${KO_ORDINALS[n]} `)
    .replace(/\b(\d+)(?:st|nd|rd|th)\b/gu, '$1')
    .replace(
      /\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b/gu,
      (w) => EN_ORDINALS[w]!,
    )
    .replace(/(\p{Script=Latin})(?=[\p{N}\p{Script=Hangul}])|(\p{N})(?=\p{Script=Latin})/gu, '$1$2 ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** One topic-bearing word of a text, where it is in `conceptText(text)`, and its concept. */
export interface ConceptToken {
  /** Shared concept ("step"), a number ("3"), or the stemmed word itself. */
  concept: string;
  /** Offsets into `conceptText(text)`; `end` is the end of the stem ("단계가" → "단계"). */
  start: number;
  end: number;
}

/**
 * Topic-bearing tokens of a text: numbers, mapped concepts and other content words (stemmed,
 * without stop words, `번`/`째` counters and words in `stop`), in order.
 */
export function conceptTokens(text: string, stop: ReadonlySet<string> = new Set()): ConceptToken[] {
  const t = conceptText(text);
  const out: ConceptToken[] = [];
  for (const s of segmenter.segment(t)) {
    if (!s.isWordLike) continue;
    const w = s.segment;
    // Bare jamo ("ㅠㅠ", "ㅋㅋ") and other scripts' marks carry no topic.
    if (!/[\p{N}\p{Script=Latin}\uac00-\ud7a3]/u.test(w)) continue;
    if (/^\p{N}+$/u.test(w)) {
      out.push({ concept: String(Number(w)), start: s.index, end: s.index + w.length });
      continue;
    }
    if (stop.has(w) || KO_SUFFIXES.includes(w)) continue;
    const st = mappedStem(w) ?? stem(w);
    if (stop.has(st) || EN_STOP.has(st) || st === '번' || st === '째' || st === '번째') continue;
    const concept = CONCEPTS[st] ?? CONCEPTS[w] ?? st;
    out.push({ concept, start: s.index, end: s.index + st.length });
  }
  return out;
}

/** Copula endings after a noun ("쪽이에요", "답인가요"), stripped only to find a concept. */
const KO_COPULAS = [
  '이에요',
  '예요',
  '이야',
  '입니까',
  '입니다',
  '인가요',
  '인가',
  '이죠',
  '일까요',
  '인지',
  '이요',
];

/** A word's stem when that stem is a classroom concept, short ones too ("답이" → "답"). */
function mappedStem(word: string): string | undefined {
  if (CONCEPTS[word] !== undefined) return word;
  for (const s of [...KO_COPULAS, ...KO_SUFFIXES]) {
    if (word.length > s.length && word.endsWith(s) && CONCEPTS[word.slice(0, -s.length)] !== undefined) {
      return word.slice(0, -s.length);
    }
  }
  return undefined;
}

/** The distinct concepts of a text (see `conceptTokens`). */
export function concepts(text: string, stop?: ReadonlySet<string>): Set<string> {
  return new Set(conceptTokens(text, stop).map((c) => c.concept));
}
