/**
 * Pseudonyms for student names (issue 10): before any text leaves the school for Gemini, every
 * student's name is replaced by "Student 1", "Student 2", … and the answer is mapped back.
 *
 * - Numbers follow the order of the names given (duplicates and blanks dropped), so one roster
 *   gives the same numbers every time.
 * - Longest names are replaced first, and a name only matches as a whole word, so "김민" is not
 *   found inside "김민지" and "Ann" not inside "Anna".
 * - A Korean name also matches with a particle glued on ("민지가", "민지는", "민준이랑"); only the
 *   name is replaced, the particle stays. A three-syllable Korean name also hides its given name
 *   ("김민지" → "민지가 물었다"), when no other student shares it (shared given names become a
 *   plain "Student", which nothing maps back).
 * - `reveal` maps "Student 3" (and "학생 3", which Gemini writes in Korean answers) back, and
 *   fixes a following particle to the name's last syllable ("Student 1이" → "민지가").
 */

const HANGUL = '\\u1100-\\u11FF\\u3130-\\u318F\\uAC00-\\uD7A3';
const IS_HANGUL = new RegExp(`[${HANGUL}]`, 'u');

/** Particles (and the affectionate -이 of names ending in a consonant) that may follow a name. */
const PARTICLES = [
  '에게서',
  '한테서',
  '에게',
  '한테',
  '께서',
  '이랑',
  '이나',
  '이야',
  '이가',
  '이는',
  '이를',
  '이도',
  '이의',
  '이만',
  '까지',
  '부터',
  '처럼',
  '보다',
  '하고',
  '이',
  '가',
  '은',
  '는',
  '을',
  '를',
  '의',
  '와',
  '과',
  '도',
  '만',
  '랑',
  '나',
  '께',
  '야',
  '아',
  '님',
  '씨',
];

/** Particle pairs: [after a consonant, after a vowel]. Longer ones first. */
const PAIRS: [string, string][] = [
  ['이랑', '랑'],
  ['이나', '나'],
  ['이야', '야'],
  ['이', '가'],
  ['은', '는'],
  ['을', '를'],
  ['과', '와'],
  ['아', '야'],
];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when the Hangul syllable ends in a consonant (has a batchim). */
function hasBatchim(ch: string): boolean {
  const code = ch.charCodeAt(0);
  if (code < 0xac00 || code > 0xd7a3) return false;
  return (code - 0xac00) % 28 !== 0;
}

interface Entry {
  /** The text to find. */
  form: string;
  /** What replaces it. */
  pseudonym: string;
}

/** Maps student names to "Student n" and back; one instance per roster. */
export class Pseudonyms {
  private readonly names: string[] = [];
  private readonly entries: Entry[] = [];
  private readonly pattern: RegExp | undefined;

  constructor(names: string[]) {
    for (const raw of names) {
      const n = raw.trim().replace(/\s+/g, ' ');
      if (n && !this.names.includes(n)) this.names.push(n);
    }
    const forms = new Map<string, string>();
    this.names.forEach((n, i) => forms.set(n, `Student ${i + 1}`));
    // Given names of three-syllable Korean names ("김민지" → "민지"), unless they are someone's
    // full name; a given name two students share is hidden without a number.
    const given = new Map<string, number[]>();
    this.names.forEach((n, i) => {
      if (/^[\uAC00-\uD7A3]{3}$/u.test(n)) {
        const g = n.slice(1);
        given.set(g, [...(given.get(g) ?? []), i]);
      }
    });
    for (const [g, who] of given) {
      if (forms.has(g)) continue;
      forms.set(g, who.length === 1 ? `Student ${who[0]! + 1}` : 'Student');
    }
    this.entries = [...forms]
      .map(([form, pseudonym]) => ({ form, pseudonym }))
      .sort((a, b) => b.form.length - a.form.length);
    if (this.entries.length) {
      const alts = this.entries.map((e) => {
        const tail = IS_HANGUL.test(e.form.at(-1)!)
          ? `(?=${PARTICLES.join('|')}|[^\\p{L}\\p{N}]|$)`
          : '(?![\\p{L}\\p{N}])';
        return `${escape(e.form)}${tail}`;
      });
      this.pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})`, 'giu');
    }
  }

  /** How many students have a pseudonym. */
  get size(): number {
    return this.names.length;
  }

  /** The text with every student name replaced by its pseudonym. */
  hide(text: string): string {
    if (!this.pattern) return text;
    return text.replace(this.pattern, (m) => {
      const e = this.entries.find((x) => x.form.toLowerCase() === m.toLowerCase());
      return e ? e.pseudonym : m;
    });
  }

  /** The text with every "Student n" (or "학생 n") of this roster replaced by the real name. */
  reveal(text: string): string {
    return text.replace(
      /(?<![\p{L}\p{N}])(?:Student|학생)\s?(\d+)(?!\d)([\uAC00-\uD7A3]*)/giu,
      (m, num: string, after: string) => {
        const name = this.names[Number(num) - 1];
        if (!name) return m;
        return name + fixParticle(name, after);
      },
    );
  }
}

/** Makes a particle at the start of `after` agree with the last syllable of `name`. */
function fixParticle(name: string, after: string): string {
  const last = name.at(-1)!;
  if (!after || !/[\uAC00-\uD7A3]/u.test(last)) return after;
  const consonant = hasBatchim(last);
  for (const [c, v] of PAIRS) {
    const wrong = consonant ? v : c;
    if (after.startsWith(wrong)) return (consonant ? c : v) + after.slice(wrong.length);
    if (after.startsWith(consonant ? c : v)) return after;
  }
  return after;
}
