/**
 * Quiz item analysis of the built-in analyzer (issue 10), Korean and English, no model and no
 * network: per item the difficulty (share correct), the upper–lower 27 % discrimination, the
 * options by how often they were chosen (choice kinds) and, for short answers, the wrong answers
 * grouped into misconception clusters with a re-teach note in Korean and English. Pure.
 *
 * Misconceptions are compared by their key units, not by their whole text: the words of the
 * question ("광합성", "일어나다") and Korean endings are dropped, Hangul is compared syllable by
 * syllable ("없어도" / "없이도" / "필요없다" share "없"), and negations ("없", "않", "not",
 * "without", …) become one unit, so "빛 없이도 광합성이 일어나요" meets "광합성에 빛은 필요없다"
 * (key {빛, ¬}) and stays apart from "광합성은 뿌리에서 일어난다" (key {뿌, 리}). Single link
 * over weighted Jaccard ≥ 0.5; units most answers share weigh less; a negated and a plain
 * answer never join.
 */
import { TRUE_FALSE } from '../../quiz/definition.ts';
import { contentWords, features, hasHangul, jaccard, normalize, similarity, stem, words } from './text.ts';

/** One quiz item with its answers, as the store holds them. */
export interface ItemInput {
  kind: 'single' | 'multiple' | 'truefalse' | 'short';
  question: string;
  options: string[];
  /** Option indexes, or the accepted answers of a short-answer item. */
  correct: number[] | string[];
  answers: { participantId: string; choices?: number[]; text?: string; correct: boolean }[];
}

/** A re-teach note in both languages of the UI. */
export interface Note {
  ko: string;
  en: string;
}

/** A group of wrong short answers. */
export interface AnswerCluster {
  /** `misconception`: wrong answers alike; `near-correct`: close to an accepted answer (a spelling?). */
  kind: 'misconception' | 'near-correct';
  /** The most common answer of the cluster. */
  label: string;
  /** Students in the cluster. */
  count: number;
  /** The distinct answers, most common first. */
  answers: string[];
  note: Note;
}

/** What the analyzer says about one item. */
export interface ItemAnalysis {
  /** Share of answerers correct (p-value, 0–1); null without answers. */
  difficulty: number | null;
  /** Upper minus lower 27 % group's share correct (−1–1), by lesson total; null with < 4 answerers. */
  discrimination: number | null;
  /** Every option with how many chose it, most chosen first (choice kinds; empty for short). */
  distractors: { option: string; count: number; correct: boolean }[];
  /** Wrong short answers grouped, largest first (empty for choice kinds). */
  clusters: AnswerCluster[];
}

/** Key units at least this similar (Jaccard) are one misconception (see the test for values). */
export const CLUSTER_THRESHOLD = 0.5;
/** A wrong answer at least this similar to an accepted answer may be a spelling of it. */
export const NEAR_CORRECT_THRESHOLD = 0.6;

/** The unit every negation becomes. */
const NEG = '¬';
const EN_NEG = new Set(
  "no not never none nothing without cannot can't don't doesn't didn't isn't aren't wasn't won't".split(' '),
);
/** Korean syllables that negate (없다, 않다) and negating adverbs (안, 못) as whole words. */
const KO_NEG_SYLLABLES = new Set(['없', '않']);
const KO_NEG_WORDS = new Set(['안', '못']);
/** Syllables of Korean endings and particles, which carry no misconception. */
const KO_ENDINGS = new Set(
  '다 요 어 아 는 은 이 가 도 에 서 고 을 를 의 로 와 과 만 해 함 음 합 니 하 한 죠 지 네 까 난 된 될 할 했 었 았 였 겠 면 려'.split(
    ' ',
  ),
);

/** Light English stemming on top of `stem` ("needed" → "need", "happening" → "happen"). */
function enStem(w: string): string {
  const s = stem(w);
  if (s.length > 5 && s.endsWith('ing')) return s.slice(0, -3);
  if (s.length > 4 && s.endsWith('ed')) return s.slice(0, -2);
  return s;
}

/** The units of a text: Hangul syllables of stemmed words, English content stems, negations. */
export function units(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(text)) {
    if (EN_NEG.has(w) || KO_NEG_WORDS.has(w)) out.add(NEG);
    else if (hasHangul(w)) {
      for (const ch of stem(w)) {
        if (KO_NEG_SYLLABLES.has(ch)) out.add(NEG);
        else if (!KO_ENDINGS.has(ch)) out.add(ch);
      }
    }
  }
  for (const w of contentWords(text)) if (!hasHangul(w) && !EN_NEG.has(w)) out.add(enStem(w));
  return out;
}

/** The units of an answer that say something beyond the question (negation is always kept). */
export function keyUnits(answer: string, question: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const u of units(answer)) if (u === NEG || !question.has(u)) out.add(u);
  return out;
}

/**
 * Weights of units over some answers' keys: 1, less for a unit more than half the answers share
 * (the topic, "광합성", when the question does not name it): log2((n + 1) / df), capped at 1.
 */
function unitWeights(keys: readonly ReadonlySet<string>[]): Map<string, number> {
  const df = new Map<string, number>();
  for (const k of keys) for (const u of k) df.set(u, (df.get(u) ?? 0) + 1);
  const n = keys.length;
  return new Map([...df].map(([u, d]) => [u, Math.min(1, Math.log2((n + 1) / d))]));
}

/** Jaccard with weighted units: Σ w(a ∩ b) / Σ w(a ∪ b). */
function weightedJaccard(
  a: ReadonlySet<string>,
  b: ReadonlySet<string>,
  w: ReadonlyMap<string, number>,
): number {
  let inter = 0;
  let union = 0;
  for (const u of a) {
    const x = w.get(u) ?? 1;
    union += x;
    if (b.has(u)) inter += x;
  }
  for (const u of b) if (!a.has(u)) union += w.get(u) ?? 1;
  return union === 0 ? 0 : inter / union;
}

/** Single-link groups of indexes whose pairs pass `linked`, in order of first appearance. */
function linkGroups(n: number, linked: (i: number, j: number) => boolean): number[][] {
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) if (find(i) !== find(j) && linked(i, j)) parent[find(i)] = find(j);
  }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) groups.set(find(i), [...(groups.get(find(i)) ?? []), i]);
  return [...groups.values()];
}

const quote = (s: string) => `"${s}"`;

/** 과 after a final consonant, 와 after a vowel, 과(와) after anything but Hangul. */
function gwa(word: string): string {
  const code = word.trim().codePointAt(word.trim().length - 1) ?? 0;
  if (code < 0xac00 || code > 0xd7a3) return '과(와)';
  return (code - 0xac00) % 28 === 0 ? '와' : '과';
}

function misconceptionNote(label: string, count: number, accepted: string[]): Note {
  const right = accepted.join(', ');
  const students = `${count} student${count === 1 ? '' : 's'}`;
  return {
    ko: right
      ? `${quote(label)}라고 답한 학생 ${count}명: 정답(${right})과 비교해 다시 설명해 주세요.`
      : `${quote(label)}라고 답한 학생 ${count}명: 왜 틀렸는지 다시 설명해 주세요.`,
    en: right
      ? `${students} answered ${quote(label)}: compare it with the correct answer (${right}) and explain again.`
      : `${students} answered ${quote(label)}: explain again why it is wrong.`,
  };
}

function nearCorrectNote(label: string, count: number, accepted: string): Note {
  return {
    ko: `${quote(label)}라고 답한 학생 ${count}명: 정답 ${quote(accepted)}${gwa(accepted)} 거의 같습니다. 이 표기도 정답으로 인정할지 검토해 주세요.`,
    en: `${count} student${count === 1 ? '' : 's'} answered ${quote(label)}, close to the accepted ${quote(accepted)}: the accepted answers may need this spelling.`,
  };
}

/** Distinct texts with how many gave each (normalised for counting, first spelling kept), most first. */
function tally(texts: string[]): { text: string; count: number }[] {
  const byKey = new Map<string, { text: string; count: number }>();
  for (const t of texts) {
    const k = normalize(t);
    const e = byKey.get(k);
    if (e) e.count++;
    else byKey.set(k, { text: t.trim(), count: 1 });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

function cluster(
  kind: AnswerCluster['kind'],
  members: { text: string; count: number }[],
  note: (l: string, c: number) => Note,
): AnswerCluster {
  const sorted = [...members].sort((a, b) => b.count - a.count);
  const count = sorted.reduce((s, m) => s + m.count, 0);
  const label = sorted[0]!.text;
  return { kind, label, count, answers: sorted.map((m) => m.text), note: note(label, count) };
}

/** Wrong short answers: near-correct ones per accepted answer, the rest grouped by key units. */
export function clusterShortAnswers(question: string, accepted: string[], wrong: string[]): AnswerCluster[] {
  const distinct = tally(wrong);
  const q = units(question);
  const acceptedFeats = accepted.map((a) => ({ a, f: features(a), k: keyUnits(a, q) }));
  const near = new Map<string, { text: string; count: number }[]>();
  const rest: { text: string; count: number; key: Set<string> }[] = [];
  for (const d of distinct) {
    const f = features(d.text);
    const key = keyUnits(d.text, q);
    const hit = acceptedFeats.find(
      (x) =>
        x.k.has(NEG) === key.has(NEG) &&
        (similarity(f, x.f) >= NEAR_CORRECT_THRESHOLD || (key.size > 0 && jaccard(key, x.k) === 1)),
    );
    if (hit) near.set(hit.a, [...(near.get(hit.a) ?? []), d]);
    else rest.push({ ...d, key });
  }
  const out: AnswerCluster[] = [];
  for (const [a, members] of near)
    out.push(cluster('near-correct', members, (l, c) => nearCorrectNote(l, c, a)));
  const weight = unitWeights(rest.map((r) => r.key));
  const feats = rest.map((r) => features(r.text));
  const groups = linkGroups(rest.length, (i, j) => {
    const a = rest[i]!.key;
    const b = rest[j]!.key;
    // Answers made only of the question's words have no key: compare them as written.
    if (a.size === 0 || b.size === 0) return similarity(feats[i]!, feats[j]!) >= 0.8;
    // "needs light" and "does not need light" are opposite answers, never one misconception.
    if (a.has(NEG) !== b.has(NEG)) return false;
    return weightedJaccard(a, b, weight) >= CLUSTER_THRESHOLD;
  });
  for (const g of groups) {
    out.push(
      cluster(
        'misconception',
        g.map((i) => rest[i]!),
        (l, c) => misconceptionNote(l, c, accepted),
      ),
    );
  }
  return out.sort((a, b) => b.count - a.count);
}

/** Upper minus lower group's share correct; groups are 27 % of answerers, ties at a cut shared. */
function discrimination(scored: { total: number; correct: boolean }[]): number | null {
  const n = scored.length;
  if (n < 4) return null;
  const g = Math.max(1, Math.round(0.27 * n));
  const share = (sorted: typeof scored): number => {
    const cut = sorted[g - 1]!.total;
    const inside = sorted.slice(0, g).filter((s) => s.total !== cut);
    const tied = sorted.filter((s) => s.total === cut);
    const w = (g - inside.length) / tied.length;
    const right = inside.filter((s) => s.correct).length + w * tied.filter((s) => s.correct).length;
    return right / g;
  };
  const desc = [...scored].sort((a, b) => b.total - a.total);
  return share(desc) - share([...desc].reverse());
}

/**
 * Analyses one item; `totals`: participant → items correct in the lesson (this item included;
 * discrimination ranks by the rest, so the item does not count for itself).
 */
export function analyseItem(item: ItemInput, totals: ReadonlyMap<string, number>): ItemAnalysis {
  const answers = item.answers;
  const right = answers.filter((a) => a.correct).length;
  const difficulty = answers.length === 0 ? null : right / answers.length;
  const disc = discrimination(
    answers.map((a) => {
      const self = a.correct ? 1 : 0;
      return { total: (totals.get(a.participantId) ?? self) - self, correct: a.correct };
    }),
  );
  if (item.kind === 'short') {
    const accepted = (item.correct as unknown[]).filter((c): c is string => typeof c === 'string');
    const wrong = answers.filter((a) => !a.correct && typeof a.text === 'string' && a.text.trim() !== '');
    return {
      difficulty,
      discrimination: disc,
      distractors: [],
      clusters: clusterShortAnswers(
        item.question,
        accepted,
        wrong.map((a) => a.text!),
      ),
    };
  }
  const options = item.kind === 'truefalse' && item.options.length === 0 ? TRUE_FALSE : item.options;
  const correct = new Set(item.correct as number[]);
  const counts = options.map(() => 0);
  for (const a of answers)
    for (const c of new Set(a.choices ?? [])) if (c >= 0 && c < counts.length) counts[c]!++;
  const distractors = options
    .map((option, i) => ({ option, count: counts[i]!, correct: correct.has(i), i }))
    .sort((a, b) => b.count - a.count || a.i - b.i)
    .map(({ option, count, correct }) => ({ option, count, correct }));
  return { difficulty, discrimination: disc, distractors, clusters: [] };
}

/**
 * Analyses a lesson's items, each student's total being their correct answers over all items;
 * `hardest`: the index of the item with the lowest share correct (first on a tie), null when no
 * item was answered or every answer was right.
 */
export function analyseLesson(items: readonly ItemInput[]): {
  items: ItemAnalysis[];
  hardest: number | null;
} {
  const totals = new Map<string, number>();
  for (const item of items) {
    for (const a of item.answers)
      totals.set(a.participantId, (totals.get(a.participantId) ?? 0) + (a.correct ? 1 : 0));
  }
  const analysed = items.map((item) => analyseItem(item, totals));
  let hardest: number | null = null;
  analysed.forEach((a, i) => {
    if (a.difficulty === null || a.difficulty >= 1) return;
    if (hardest === null || a.difficulty < analysed[hardest]!.difficulty!) hardest = i;
  });
  return { items: analysed, hardest };
}
