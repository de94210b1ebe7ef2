/**
 * "Draft a quiz from this slide" for the built-in analyzer (issue 10), no network: the slide's
 * key statement (its fullest line, the title only when nothing else says more) becomes a cloze
 * question — its most telling term blanked — with other content words of the slide as
 * distractors; with too few of them it becomes a short-answer question. Korean when the slide
 * is, English otherwise. The teacher edits the draft; nothing is pushed by itself. Pure.
 */
import type { QuizDraft } from '../provider.ts';
import { contentWords, hasHangul, normalize, stem, words } from './text.ts';

const HANGUL_WORD = /^[\uac00-\ud7a3]+$/;
const LATIN_WORD = /^[a-z][a-z-]*$/;
/** Longest key statement quoted in a question. */
const MAX_STATEMENT = 120;

/** A term that can be asked about: Hangul of 2+ syllables or a Latin word of 3+ letters. */
function askable(w: string, korean: boolean): boolean {
  return korean ? HANGUL_WORD.test(w) && w.length >= 2 : LATIN_WORD.test(w) && w.length >= 3;
}

/** A small stable hash, so the same slide gives the same draft. */
function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The statement with the first word whose stem is `term` blanked (a Korean particle kept). */
function blank(statement: string, term: string): string | undefined {
  const parts = statement.split(/(\s+)/);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const m = /^([^\p{L}\p{N}]*)([\p{L}\p{N}-]+)(.*)$/u.exec(part);
    if (!m) continue;
    const word = normalize(m[2]!);
    if (stem(word) !== term || !word.startsWith(term)) continue;
    parts[i] = `${m[1]}___${m[2]!.slice(term.length)}${m[3]}`;
    return parts.join('');
  }
  return undefined;
}

/** A quiz draft from a slide's text; null when the text gives nothing to ask. */
export function draftQuizFromText(text: string): QuizDraft | null {
  const korean = hasHangul(text);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l.length > 0 && (!korean || hasHangul(l)));
  const terms = (l: string) => contentWords(l).filter((w) => askable(w, korean));
  const counted = lines.map((l) => ({ line: l, terms: terms(l) })).filter((c) => c.terms.length >= 2);
  if (counted.length === 0) return null;
  // The title (first line) only when no other line has as much to say.
  const body = counted.length > 1 ? counted.slice(1) : counted;
  const key = body.reduce((best, c) => (c.terms.length > best.terms.length ? c : best));
  const statement =
    key.line.length > MAX_STATEMENT ? key.line.slice(0, MAX_STATEMENT).replace(/\s\S*$/, '') + '…' : key.line;

  // How often each term appears on the whole slide.
  const freq = new Map<string, number>();
  for (const c of counted) for (const w of c.terms) freq.set(w, (freq.get(w) ?? 0) + 1);
  const inKey = new Map<string, number>();
  for (const w of terms(statement)) inKey.set(w, (inKey.get(w) ?? 0) + 1);
  // A term said twice in the statement would give itself away: ask about one said once.
  const candidates = [...inKey.entries()]
    .filter(([, n]) => n === 1)
    .map(([w]) => w)
    .sort((a, b) => (freq.get(b) ?? 0) - (freq.get(a) ?? 0) || b.length - a.length);
  let answer: string | undefined;
  let cloze: string | undefined;
  for (const w of candidates) {
    cloze = blank(statement, w);
    if (cloze) {
      answer = w;
      break;
    }
  }
  if (!answer || !cloze) return null;

  const distractors: string[] = [];
  const seen = new Set([answer]);
  // Other terms of the slide, those of other lines first.
  const pool = [
    ...counted.filter((c) => c !== key).flatMap((c) => c.terms),
    ...key.terms,
    ...words(text).filter((w) => askable(w, korean)),
  ];
  for (const w of pool) {
    if (seen.has(w) || w.includes(answer) || answer.includes(w)) continue;
    seen.add(w);
    distractors.push(w);
    if (distractors.length === 3) break;
  }

  const note = {
    ko: `슬라이드의 문장 "${statement}"에서 만든 초안입니다. 고친 뒤 저장하세요.`,
    en: `Drafted from the slide's line "${statement}". Edit it before saving.`,
  };
  if (distractors.length < 3) {
    return {
      kind: 'short',
      question: korean ? `빈칸에 알맞은 말을 쓰세요: ${cloze}` : `Fill in the blank: ${cloze}`,
      options: [],
      correct: [answer],
      timeLimitSec: 60,
      note,
    };
  }
  const at = hash(text) % 4;
  const options = [...distractors];
  options.splice(at, 0, answer);
  return {
    kind: 'single',
    question: korean ? `빈칸에 알맞은 말은? ${cloze}` : `Which word fills the blank? ${cloze}`,
    options,
    correct: [at],
    timeLimitSec: 30,
    note,
  };
}
