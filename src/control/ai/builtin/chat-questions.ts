/**
 * Chat questions for the built-in analyzer (issue 10): which chat messages are questions
 * (Korean and English), and which questions are about the same thing, so the teacher's
 * "questions" panel can say "6 students ask about step 3" instead of listing 6 messages.
 * Korean and English meet through the shared classroom concepts of `text.ts`. Pure.
 */

import { CONCEPTS, charNgrams, conceptText, conceptTokens, hasHangul, jaccard, normalize } from './text.ts';
import type { ConceptToken } from './text.ts';

/** Korean question endings on the last word (after trailing "ㅠㅠ", "..." and the like). */
const KO_ENDINGS = ['까', '까요', '나요', '가요', '죠', '는지', '냐', '래요', '을지', '일지'];
/** Korean question words and confusion phrases anywhere in a message. */
const KO_CUES = /어떻게|왜(?!냐)|뭐|뭔|무슨|언제(?!나)|어디|몇|어느|이해가?\s?안|모르겠|헷갈/u;
const EN_WH = new Set(['what', 'why', 'how', 'when', 'where', 'which', 'who', 'whom', 'whose']);
const EN_AUX = new Set(
  "is are am was were do does did can could would should will shall may might must have has isn't aren't don't doesn't didn't can't won't wouldn't shouldn't couldn't".split(
    ' ',
  ),
);
/** What follows an auxiliary that opens a question ("do we …", not "do your homework"). */
const EN_SUBJECT = new Set(
  'i you we he she it they this that these those there the a an my our his her their everyone anyone someone somebody anybody'.split(
    ' ',
  ),
);
const EN_CUES =
  /\b(i|we) (still )?(don'?t|do not|didn'?t) (get|understand|know (how|what|why|which))\b|\bconfused\b|\bnot sure (how|what|why|which)\b/u;

/** True when a chat message asks something (Korean or English). */
export function isQuestion(text: string): boolean {
  const t = normalize(text);
  if (t.length === 0) return false;
  if (/[?？]/u.test(t)) return true;
  if (hasHangul(t)) {
    if (KO_CUES.test(t)) return true;
    const core = t.replace(/[\s\p{P}\p{S}ㄱ-ㅎㅏ-ㅣ\u1100-\u11ff]+$/u, '');
    const last = core.split(' ').at(-1) ?? '';
    for (const e of KO_ENDINGS) {
      if (!last.endsWith(e)) continue;
      // "집에 가요" and "화가 나요" are statements: 가요/나요 must end a longer word, and
      // 가요 follows a syllable with ㄴ final ("건가요", "인가요"); 아까 is "a moment ago".
      if ((e === '나요' || e === '가요') && last.length <= 2) continue;
      if (e === '가요' && !hasFinal(last.at(-3) ?? '', 4)) continue;
      if (last === '아까') continue;
      // "-니까" is "because"; "-습니까"/"-입니까" (ㅂ final before 니까) asks.
      if (e.endsWith('까') && last.endsWith('니까') && !hasFinal(last.at(-3) ?? '', 17)) continue;
      return true;
    }
  }
  if (EN_CUES.test(t)) return true;
  const w = t
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .trim()
    .split(/\s+/);
  if (t.endsWith('!')) return false;
  if (EN_WH.has(w[0] ?? '')) return w[1] !== 'a' && w[1] !== 'an';
  return EN_AUX.has(w[0] ?? '') && EN_SUBJECT.has(w[1] ?? '');
}

/** True when a Hangul syllable ends in the final consonant of that index (ㄴ 4, ㅂ 17). */
function hasFinal(syllable: string, final: number): boolean {
  const c = syllable.charCodeAt(0) - 0xac00;
  return c >= 0 && c < 11172 && c % 28 === final;
}

/** Words that say "I am asking" rather than what about (Korean and English). */
const QUESTION_STOP = new Set(
  `이해 이해가 안 못 잘 좀 뭐 뭔 뭔가 뭐예 뭐에 무엇 무슨 어떻게 어떤 왜 언제 어디 어디서 몇 어느 선생님 쌤 질문 이거 그거 저거 이것 그것 여기 거기 이게 그게 근데 그런데 그리고 혹시 다시 한번 한 번 설명 의미 뜻 이유 거 것 수 때 
  don't dont doesn't didn't not no get got understand understood confused know mean means meant explain again teacher sir miss ms mr have has had do does did we us our there here any some one like need help go going sure why`.split(
    /\s+/,
  ),
);
/** Korean verb and question endings: a word ending so carries the asking, not the topic. */
const KO_VERB_END = /(요|죠|까|니다|는지|나|냐|니|래|돼|해|했|하는|하면|되는|되면|겠|습니)$/u;

/** The shared concepts (kept even when written with a verb ending, e.g. "나누기"). */
const SHARED = new Set(Object.values(CONCEPTS));

interface Question {
  name: string;
  text: string;
  tokens: ConceptToken[];
  concepts: Set<string>;
  numbers: Set<string>;
  grams: Set<string>;
}

function question(name: string, text: string): Question {
  const t = conceptText(text);
  const tokens = conceptTokens(text, QUESTION_STOP).filter((tok) => {
    if (SHARED.has(tok.concept)) return true;
    const raw = t.slice(tok.start).split(/[\s\p{P}]/u)[0] ?? '';
    return !(hasHangul(raw) && KO_VERB_END.test(raw));
  });
  const concepts = new Set(tokens.map((t) => t.concept));
  const numbers = new Set([...concepts].filter((c) => /^\p{N}+$/u.test(c)));
  return { name, text, tokens, concepts, numbers, grams: charNgrams(text, 2) };
}

/** Concept overlap at which two questions are about the same thing. */
export const CONCEPT_THRESHOLD = 0.5;
/** Character-bigram overlap at which two questions are worded alike (for topic-less ones). */
export const WORDING_THRESHOLD = 0.6;

/** Same topic: concepts overlap enough, or wording does; different numbers never meet. */
function alike(a: Question, b: Question): boolean {
  if (a.numbers.size > 0 && b.numbers.size > 0 && ![...a.numbers].some((n) => b.numbers.has(n))) return false;
  if (a.concepts.size > 0 && b.concepts.size > 0 && jaccard(a.concepts, b.concepts) >= CONCEPT_THRESHOLD) {
    return true;
  }
  return jaccard(a.grams, b.grams) >= WORDING_THRESHOLD;
}

/** A chat message as the analyzer reads it. */
export interface ChatMessage {
  id?: string;
  name: string;
  text: string;
  at?: string;
}

/** Questions about one thing: its label, how many distinct students asked, and what they wrote. */
export interface QuestionGroup {
  label: string;
  count: number;
  messages: string[];
}

/**
 * The questions among chat messages, grouped by topic (single link: a question joins a group
 * when it is alike to any member), biggest group (most distinct students) first. A student's
 * repeated message is listed once and every student counts once per group.
 */
export function groupQuestions(msgs: readonly ChatMessage[]): QuestionGroup[] {
  const seen = new Set<string>();
  const qs: Question[] = [];
  for (const m of msgs) {
    const key = `${m.name}\u0000${normalize(m.text)}`;
    if (seen.has(key) || !isQuestion(m.text)) continue;
    seen.add(key);
    qs.push(question(m.name, m.text));
  }
  const parent = qs.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < qs.length; i++) {
    for (let j = 0; j < i; j++) if (find(i) !== find(j) && alike(qs[i]!, qs[j]!)) parent[find(i)] = find(j);
  }
  const groups = new Map<number, Question[]>();
  qs.forEach((q, i) => {
    const g = groups.get(find(i));
    if (g) g.push(q);
    else groups.set(find(i), [q]);
  });
  return [...groups.values()]
    .map((g) => ({
      label: label(g),
      count: new Set(g.map((q) => q.name)).size,
      messages: g.map((q) => q.text),
    }))
    .sort((a, b) => b.count - a.count || b.messages.length - a.messages.length);
}

/** Longest label phrase (characters) taken as written; longer ones become their key words. */
const PHRASE_MAX = 20;

/**
 * A group's label: the concepts most of its students share, as each language wrote them
 * ("3번 단계 · step 3"); a question without topic words is labelled by its own start.
 */
function label(group: readonly Question[]): string {
  const byStudent = new Map<string, Set<string>>();
  for (const q of group) {
    const s = byStudent.get(q.name) ?? new Set<string>();
    for (const c of q.concepts) s.add(c);
    byStudent.set(q.name, s);
  }
  const counts = new Map<string, number>();
  for (const s of byStudent.values()) for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = byStudent.size;
  const need = n === 1 ? 1 : Math.max(2, Math.ceil(n / 2));
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  let topic = ranked.filter(([, k]) => k >= need).map(([c]) => c);
  if (topic.length === 0) topic = ranked.slice(0, 1).map(([c]) => c);
  topic = topic.slice(0, 3);
  if (topic.length === 0) return shorten(group[0]!.text);
  const phrases = new Map<string, number>();
  for (const q of group) {
    const p = phrase(q, new Set(topic));
    if (p) phrases.set(p, (phrases.get(p) ?? 0) + 1);
  }
  const best = (ko: boolean): string | undefined =>
    [...phrases.entries()].filter(([p]) => hasHangul(p) === ko).sort((a, b) => b[1] - a[1])[0]?.[0];
  const parts = [best(true), best(false)].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join(' · ') : topic.join(' ');
}

/** The stretch of one question that holds the topic concepts, or its key words when long. */
function phrase(q: Question, topic: ReadonlySet<string>): string | undefined {
  const hits = q.tokens.filter((t) => topic.has(t.concept));
  if (hits.length === 0) return undefined;
  const t = conceptText(q.text);
  const span = t.slice(hits[0]!.start, hits.at(-1)!.end);
  if (span.length <= PHRASE_MAX) return span;
  return [...new Set(hits.map((h) => t.slice(h.start, h.end)))].join(' ');
}

function shorten(text: string): string {
  const t = text.normalize('NFC').replace(/\s+/g, ' ').trim();
  return t.length <= 30 ? t : `${t.slice(0, 29)}…`;
}
