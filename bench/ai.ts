/**
 * What the built-in analyzer costs the node during a lesson: `npm run bench:ai [-- --runs 7]`.
 * On scripted classes (Korean and English, with the misspellings and repeats real answers
 * have), it times, per run: misconception clusters of N wrong short answers, the grouping of a
 * lesson's chat of M lines, the chat hold check per message, and OCR of a rendered 1280×720
 * Korean slide with Debian's tesseract (skipped, and said so, when it is not installed). Prints
 * medians and the spread over the runs. Never asserts; no network; the slide is rendered by
 * ffmpeg's drawtext with Noto CJK into a temp dir that is removed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { groupQuestions } from '../src/control/ai/builtin/chat-questions.ts';
import { holdReasons } from '../src/control/ai/builtin/moderation.ts';
import { TesseractReader } from '../src/control/ai/builtin/ocr.ts';
import { clusterShortAnswers } from '../src/control/ai/builtin/quiz-analysis.ts';
import { FFMPEG_PATH } from '../test/helpers/publisher.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    answers: { type: 'string', default: '450' },
    lines: { type: 'string', default: '2000' },
  },
});
const RUNS = Math.max(1, Number(values.runs));
const ANSWERS = Math.max(1, Number(values.answers));
const LINES = Math.max(1, Number(values.lines));

/** A deterministic pseudo-random sequence (the same classes every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WRONG = [
  '광합성은 빛이 없어도 일어난다',
  '빛 없이도 광합성이 일어나요',
  '광합성은 뿌리에서 일어난다',
  '뿌리에서 광합성을 해요',
  '산소가 필요하다',
  '광합성에는 산소가 필요해요',
  'it needs oxygen',
  '물만 있으면 된다',
];
const CHAT = [
  '3단계가 이해가 안 돼요',
  '3단계 다시 설명해 주실 수 있나요?',
  'what happens in step 3?',
  '엽록체는 무슨 일을 하나요?',
  'what does the chloroplast do?',
  '숙제는 언제까지예요?',
  '네 알겠습니다',
  'ㅋㅋㅋ',
  '선생님 소리가 작아요',
  'ok thanks',
];

/** Adds the small noise real typing has: a dropped space, a doubled letter, a trailing mark. */
function noisy(text: string, r: () => number): string {
  let t = text;
  if (r() < 0.3) t = t.replace(' ', '');
  if (r() < 0.2) t = t + (r() < 0.5 ? '요' : '!');
  if (r() < 0.2) t = t.replace(/(.)/u, '$1$1');
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = fn();
  return { ms: performance.now() - t0, value };
}

const rows: { what: string; ms: number[]; note: string }[] = [];

// Misconception clusters of one short-answer quiz.
{
  const ms: number[] = [];
  let note = '';
  for (let run = 0; run < RUNS; run++) {
    const r = rng(run + 1);
    const wrong = Array.from({ length: ANSWERS }, () => noisy(WRONG[Math.floor(r() * WRONG.length)]!, r));
    const t = time(() => clusterShortAnswers('광합성에 꼭 필요한 것은?', ['빛', '햇빛'], wrong));
    ms.push(t.ms);
    note = `${t.value.length} clusters, largest ${t.value[0]?.count ?? 0}`;
  }
  rows.push({ what: `clusters of ${ANSWERS} wrong short answers`, ms, note });
}

// The questions of a lesson's chat.
{
  const ms: number[] = [];
  let note = '';
  for (let run = 0; run < RUNS; run++) {
    const r = rng(run + 100);
    const lines = Array.from({ length: LINES }, (_, i) => ({
      id: String(i),
      name: `학생${Math.floor(r() * 30)}`,
      text: noisy(CHAT[Math.floor(r() * CHAT.length)]!, r),
    }));
    const t = time(() => groupQuestions(lines));
    ms.push(t.ms);
    note = `${t.value.length} groups, largest ${t.value[0]?.count ?? 0} students`;
  }
  rows.push({ what: `question groups of a ${LINES}-line chat`, ms, note });
}

// The hold check, per chat message (it runs on every student message before it is posted).
{
  const ms: number[] = [];
  const texts = [
    ...CHAT,
    '제 번호는 010-1234-5678이에요',
    '너 진짜 병신이냐',
    '2+3=5 맞나요?',
    '시발점이 어디예요?',
  ];
  let held = 0;
  for (let run = 0; run < RUNS; run++) {
    const n = 5000;
    const t = time(() => {
      let h = 0;
      for (let i = 0; i < n; i++) if (holdReasons(texts[i % texts.length]!).length > 0) h++;
      return h;
    });
    held = t.value;
    ms.push((t.ms / n) * 1000);
  }
  rows.push({ what: 'hold check per message (µs)', ms, note: `${held} of 5000 held` });
}

// OCR of a rendered Korean slide.
const ocr = new TesseractReader();
const status = await ocr.status();
if (status.ok) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ai-'));
  try {
    const font = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
    writeFileSync(join(dir, 'a.txt'), '광합성의 원리');
    writeFileSync(join(dir, 'b.txt'), '빛 에너지를 화학 에너지로 바꾼다');
    const draw = (f: string, size: number, y: number) =>
      `drawtext=fontfile=${font}:textfile=${join(dir, f)}:fontsize=${size}:x=100:y=${y}:fontcolor=black`;
    execFileSync(FFMPEG_PATH, [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=white:s=1280x720'],
      ...['-vf', `${draw('a.txt', 72, 140)},${draw('b.txt', 56, 320)}`, '-frames:v', '1'],
      join(dir, 'slide.png'),
    ]);
    const png = readFileSync(join(dir, 'slide.png'));
    const ms: number[] = [];
    let text = '';
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      text = await ocr.read(png);
      ms.push(performance.now() - t0);
    }
    rows.push({
      what: 'OCR of a 1280×720 Korean slide (tesseract kor+eng)',
      ms,
      note: `read: ${JSON.stringify(text.replace(/\n/g, ' / '))}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  rows.push({ what: 'OCR of a slide', ms: [], note: `skipped: ${status.note ?? 'tesseract not usable'}` });
}

console.log(`bench:ai — ${RUNS} runs, load ${loadavg()[0]!.toFixed(2)}`);
for (const r of rows) {
  const m = r.ms.length ? median(r.ms).toFixed(r.what.includes('µs') ? 1 : 0) : '–';
  const lo = r.ms.length ? Math.min(...r.ms).toFixed(1) : '–';
  const hi = r.ms.length ? Math.max(...r.ms).toFixed(1) : '–';
  const unit = r.what.includes('µs') ? '' : ' ms';
  console.log(`  ${r.what}: median ${m}${unit} (${lo}–${hi}) · ${r.note}`);
}
