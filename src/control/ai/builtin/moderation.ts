/**
 * The built-in chat hold (issue 10): why a student's chat message should wait for the
 * teacher's approval instead of being posted — personal information (Korean phone numbers,
 * e-mail addresses, 주민등록번호, street addresses) or an insult (Korean and English, with the
 * usual evasions: "ㅅㅂ", "시 발", "병1신", "f*ck"). Conservative on purpose: ordinary words
 * that contain a bad word ("시발점", "Scunthorpe") and the numbers of a maths lesson ("2+3=5",
 * "1234 × 5678", "2024년", "100도") are posted. Pure.
 */

/** Why a message is held; `[]` from `holdReasons` means post it. */
export type HoldReason = 'phone' | 'email' | 'rrn' | 'address' | 'insult';

/** The reasons to hold a chat message for the teacher, in a fixed order; `[]` = post it. */
export function holdReasons(text: string): HoldReason[] {
  const t = text.normalize('NFKC');
  const out: HoldReason[] = [];
  if (hasPhone(t)) out.push('phone');
  if (EMAIL.test(t)) out.push('email');
  if (hasRrn(t)) out.push('rrn');
  if (hasAddress(t)) out.push('address');
  // NFC for Korean: NFKC would turn the consonants of "ㅅㅂ" into conjoining jamo.
  if (hasKoreanInsult(text.normalize('NFC')) || hasEnglishInsult(t)) out.push('insult');
  return out;
}

const SEP = String.raw`[-. ]?`;
const PHONE = [
  // Mobile: 010-1234-5678, 01012345678, 010 1234 5678, 010.1234.5678.
  new RegExp(String.raw`(?<![\d+])01[016789]${SEP}\d{3,4}${SEP}\d{4}(?!\d)`, 'u'),
  // International: +82 10-1234-5678, +82-10…, +82 (0)10…, +821012345678; landlines too.
  new RegExp(
    String.raw`\+\s?82${SEP}(?:\(0\)\s?)?0?(?:1[016789]|2|[3-6][1-5]|70)${SEP}\d{3,4}${SEP}\d{4}(?!\d)`,
    'u',
  ),
  // Landline and 070 with separators: 02-123-4567, 031-123-4567, (02) 123-4567.
  /(?<![\d+])\(?0(?:2|[3-6][1-5]|70)\)?[-. )]\s?\d{3,4}[-. ]\d{4}(?!\d)/u,
  // Business numbers: 1588-1234.
  /(?<![\d-])1[5-9]\d{2}-\d{4}(?![\d-])/u,
];

function hasPhone(t: string): boolean {
  return PHONE.some((re) => re.test(t));
}

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;

/** 주민등록번호: a valid YYMMDD, then 1–8 (sex and century, foreigners 5–8) and six digits. */
const RRN = /(?<!\d)(\d{2})(\d{2})(\d{2})(-|\s?)([1-8])(\d{6})(?!\d)/gu;

function hasRrn(t: string): boolean {
  for (const m of t.matchAll(RRN)) {
    const month = Number(m[2]);
    const day = Number(m[3]);
    if (month < 1 || month > 12 || day < 1 || day > 31) continue;
    // Without a separator, 13 digits need the (pre-2020) check digit: a maths number rarely has it.
    if (m[4] !== '' || rrnCheck(m.slice(1, 4).join('') + m[5]! + m[6]!)) return true;
  }
  return false;
}

function rrnCheck(d: string): boolean {
  const w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
  const sum = w.reduce((s, k, i) => s + k * Number(d[i]), 0);
  return (11 - (sum % 11)) % 10 === Number(d[12]);
}

/** Words ending in 로/길 that are adverbs or particles, not roads ("새로 3개", "바로 12"). */
const NOT_ROADS = new Set(
  '새로 서로 바로 따로 별로 주로 실로 홀로 절로 저절로 스스로 함부로 때로 날로 도로 정말로 진짜로 제대로 그대로 마음대로 대로 멋대로 순서대로 위로 아래로 뒤로 앞으로 옆으로 이쪽으로 길 이길 그길 저길 한길 외길 갈길 밤길 눈길 손길 발길 물길 뱃길 하늘길'.split(
    ' ',
  ),
);
const ROAD = /(?<![가-힣])([가-힣]{2,}(?:로|길)(?:\d+(?:번)?길)?)\s?(\d{1,4})(-\d{1,4})?(?![\d.=+×*/%])/gu;
/** What may follow a road number: nothing, space, punctuation, or address words. */
const ROAD_AFTER = /^(?:$|[\s,)]|번지|동|호|층|에\s|에서|이에요|예요|입니다|아파트)/u;
const REGION =
  /(?:서울|부산|대구|인천|광주|대전|울산|세종|경기|강원|충북|충남|충청|전북|전남|전라|경북|경남|경상|제주)|[가-힣]{1,4}(?:특별시|광역시|시|구|군|읍|면)\s+[가-힣]{2,}(?:로|길)/u;

function hasAddress(t: string): boolean {
  // Apartment: 101동 1203호.
  if (/(?<!\d)\d{1,4}\s?동\s?\d{1,4}\s?호/u.test(t)) return true;
  // Lot numbers: 산 12번지, 123-4번지 (not 번지점프).
  if (/(?<!\d)\d{1,5}(?:-\d{1,4})?\s?번지(?!\s?점프)/u.test(t)) return true;
  for (const m of t.matchAll(ROAD)) {
    const road = m[1]!;
    if (NOT_ROADS.has(road) || road.endsWith('으로') || road.endsWith('대로')) {
      if (!/\d/u.test(road)) continue;
    }
    const after = t.slice(m.index + m[0].length);
    if (!ROAD_AFTER.test(after)) continue;
    // A numbered side road ("압구정로12길 3"), a lot-style number ("중앙길 3-4"), or a region
    // named in the message ("강남구 테헤란로 123") makes it an address.
    if (/\d/u.test(road) || m[3] !== undefined || REGION.test(t)) return true;
  }
  return false;
}

/**
 * Korean insults and curses, matched on Hangul with spaces, digits and punctuation between
 * single syllables removed ("시 발", "병1신"); consonant spellings in `KO_JAMO`.
 */
const KO_INSULTS = [
  '시발',
  '씨발',
  '씨바',
  '씨팔',
  '시팔',
  '씨벌',
  '시벌',
  '씨빨',
  '십알',
  '쌍년',
  '썅',
  '병신',
  '븅신',
  '빙신',
  '등신',
  '개새끼',
  '개새기',
  '개색기',
  '개색히',
  '개세끼',
  '새끼야',
  '니애미',
  '느금마',
  '니미럴',
  '엠창',
  '좆',
  '존나',
  '졸라',
  '지랄',
  '염병',
  '미친놈',
  '미친년',
  '미친새끼',
  '또라이',
  '찐따',
  '닥쳐',
  '꺼져라',
  '멍청이',
];
const KO_JAMO = ['ㅅㅂ', 'ㅆㅂ', 'ㅂㅅ', 'ㅄ', 'ㅈㄴ', 'ㅈㄹ', 'ㄷㅊ', 'ㅁㅊ', 'ㄲㅈ', 'ㅅㄲ', 'ㅗㅗ'];
/** Ordinary words that contain an insult ("시발점" starting point, "새끼손가락" little finger). */
const KO_BENIGN = [
  '시발점',
  '시발역',
  '시발택시',
  '시바견',
  '새끼손가락',
  '새끼발가락',
  '등신대',
  '등신불',
  '졸라매',
  '병신년',
  '씨바이오',
];

/** English insults and curses as whole words (with their common endings). */
const EN_INSULTS =
  /^(?:fuck|fuk|fuq|fck|fcuk|phuck|motherfuck|shit|sht|bullshit|bitch|biatch|bastard|asshole|arsehole|dumbass|jackass|cunt|dickhead|retard|idiot|moron|slut|whore|faggot|nigger|nigga|wanker|twat|stfu|sibal|ssibal|shibal|tlqkf|qudtls|byungshin|gaesaekki)(?:s|es|ed|er|ers|ing|in|y|ty|face|head|off|wit|hole)?$/u;
const LEET: Readonly<Record<string, string>> = {
  0: 'o',
  1: 'i',
  3: 'e',
  4: 'a',
  5: 's',
  7: 't',
  '!': 'i',
  '@': 'a',
  $: 's',
};

function hasKoreanInsult(text: string): boolean {
  if (hasJamoInsult(text)) return true;
  // Words of Hangul; single-syllable words next to each other (across spaces, digits and
  // punctuation) are joined, so "시 발" and "병1신" read as one word, "다시 발표" does not.
  const chunks = text.match(/[가-힣]+/gu) ?? [];
  const words: string[] = [];
  let run = '';
  for (const c of chunks) {
    if (c.length === 1) {
      run += c;
      continue;
    }
    // Lone syllables before a word join it when an insult runs across and the word goes on
    // with an insult's ending only ("씨 발놈"; not "그 시 발표해").
    if (run.length > 0 && crossesIntoEnding(run, c)) words.push(run + c);
    if (run) words.push(run);
    run = '';
    words.push(c);
  }
  if (run) words.push(run);
  return words.some((w) => {
    let rest = w;
    for (const b of KO_BENIGN) rest = rest.split(b).join(' ');
    return KO_INSULTS.some((i) => rest.includes(i));
  });
}

/**
 * Consonant spellings ("ㅅㅂ", "ㅋㅋㅅㅂ", "ㅅ ㅂ", "ㅂㅅ아"): a run of jamo, single ones joined
 * across spaces and digits, that starts with one once laughing and crying ("ㅋㅎㅠㅜ") are
 * trimmed, so "ㅂㅂ ㅅㄱ" (bye, good work) is posted.
 */
function hasJamoInsult(text: string): boolean {
  const pieces = text.split(/[^ㄱ-ㅣ]+/u).filter((p) => p.length > 0);
  const words: string[] = [];
  let run = '';
  for (const p of pieces) {
    if (p.length === 1) {
      run += p;
      continue;
    }
    if (run) words.push(run);
    run = '';
    words.push(p);
  }
  if (run) words.push(run);
  return words.some((w) => {
    const core = w.replace(/^[ㅋㅎㅠㅜ]+|[ㅋㅎㅠㅜ]+$/gu, '');
    return KO_JAMO.some((j) => core.startsWith(j));
  });
}

/** Endings an insult takes ("놈", "년", "새끼", "아"). */
const KO_INSULT_ENDINGS = /^(?:놈|년|새끼|새|같|들|아|야|이|럼|련)?/u;

function crossesIntoEnding(run: string, word: string): boolean {
  const joined = run + word;
  return KO_INSULTS.some((insult) => {
    for (let k = joined.indexOf(insult); k >= 0; k = joined.indexOf(insult, k + 1)) {
      const end = k + insult.length;
      if (k >= run.length || end <= run.length) continue;
      const rest = joined.slice(end);
      if (rest.length === 0 || rest.replace(KO_INSULT_ENDINGS, '').length === 0) return true;
    }
    return false;
  });
}

function hasEnglishInsult(text: string): boolean {
  const tokens = text
    .toLowerCase()
    .split(/[\s,;:"()[\]{}<>~^`]+/u)
    .map((t) => t.replace(/^[.?!'-]+|[.?!'-]+$/gu, ''))
    .filter((t) => t.length > 0);
  // Letters spelled apart ("f u c k", "s.h.i.t") are joined.
  const words: string[] = [];
  let run = '';
  for (const t of tokens) {
    const parts = t.split('.');
    if (t.length === 1 || (parts.length > 2 && parts.every((p) => p.length === 1))) {
      run += parts.join('');
      continue;
    }
    if (run.length > 1) words.push(run);
    run = '';
    words.push(t);
  }
  if (run.length > 1) words.push(run);
  return words.some(isEnglishInsult);
}

function isEnglishInsult(word: string): boolean {
  if (!/\p{Script=Latin}/u.test(word)) return false;
  const plain = [...word].map((c) => LEET[c] ?? c).join('');
  const squeezed = plain.replace(/(\p{L})\1{2,}/gu, '$1'); // "fuuuck"
  const collapsed = plain.replace(/(\p{L})\1+/gu, '$1'); // "fuuck"
  if ([plain, squeezed, collapsed].some((w) => EN_INSULTS.test(w))) return true;
  // Masked letters ("f*ck", "f**k", "sh#t"): each run of masks stands for one or two letters,
  // and at least two real letters, the first one among them, must be there.
  if (/[*#_%]/u.test(word) && /^\p{L}/u.test(plain) && (plain.match(/\p{L}/gu) ?? []).length >= 2) {
    const re = new RegExp(`^${plain.replace(/[*#_%]+/gu, (m) => `\\p{L}{1,${m.length + 1}}`)}$`, 'u');
    return MASKABLE.some((w) => re.test(w));
  }
  return false;
}

/** The words a masked spelling is compared with. */
const MASKABLE = [
  'fuck',
  'fucking',
  'fucker',
  'shit',
  'bitch',
  'cunt',
  'dick',
  'asshole',
  'bastard',
  'slut',
  'whore',
];
