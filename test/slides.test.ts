/**
 * Slides of a live lesson, end to end (issue 10): a real node with a short `slideEveryMs`, a
 * running lesson, and real ffmpeg publishing over RTMP a white slide with Korean text (Noto
 * CJK, drawtext reading its text from files ffmpeg reloads every frame). The teacher's socket
 * hears `slide.new`, the slides list has the slide with the Korean words read by tesseract,
 * the same picture adds no slide while changing the text adds one, the image comes back as
 * PNG, and "draft a quiz from this slide" answers a cloze question from the built-in analyzer.
 * Once the admin set a Gemini key (a local server speaking Gemini's REST format) and the teacher
 * turned Gemini on for the class, the next slide is read by Gemini (the PNG sent inline) and
 * its draft comes from Gemini.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TesseractReader } from '../src/control/ai/builtin/ocr.ts';
import { askedFields, startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { launchBrowser } from './helpers/chromium.ts';
import { FFMPEG_PATH } from './helpers/publisher.ts';
import { TestSocket } from './helpers/ws-client.ts';

const FONT = '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc';
const ocr = await new TesseractReader().status();
const canRead = ocr.ok && ocr.langs.includes('kor');
if (!canRead) console.warn(`slides.test: skipped: Korean OCR unavailable (${ocr.note ?? 'no kor data'})`);

interface SlideView {
  id: string;
  at: string;
  text: string;
  reader: string;
  width: number;
  height: number;
  imageUrl: string;
}

let t: TestNode;
let gemini: GeminiServer;
let dir: string;
let admin = '';
let teacher = '';
let otherTeacher = '';
let classId = '';
let lessonId = '';
let publisher: ChildProcess | undefined;

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${t.http}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function signIn(email: string, password: string): Promise<string> {
  return (await api<{ token: string }>('POST', '/api/auth/login', { email, password })).body.token;
}

/** Replaces a text file at once (ffmpeg rereads it every frame: never a half-written one). */
function setText(name: string, text: string): void {
  const tmp = join(dir, `${name}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(dir, name));
}

/** The slides list, polled until `pred` holds (the test's own timeout bounds it). */
async function slidesUntil(pred: (s: SlideView[]) => boolean): Promise<SlideView[]> {
  for (;;) {
    const r = await api<{ slides: SlideView[] }>(
      'GET',
      `/api/lessons/${lessonId}/slides`,
      undefined,
      teacher,
    );
    expect(r.status).toBe(200);
    if (pred(r.body.slides)) return r.body.slides;
    await new Promise((res) => setTimeout(res, 200));
  }
}

beforeAll(async () => {
  if (!canRead) return;
  dir = mkdtempSync(join(tmpdir(), 'slides-'));
  gemini = await startGeminiServer();
  t = await startTestNode({ slideEveryMs: 300, geminiBaseUrl: gemini.url, geminiTimeoutMs: 3000 });
  admin = await signIn('admin@airclass.local', TEST_ADMIN_PASSWORD);
  for (const email of ['teacher@school.test', 'other@school.test']) {
    await api('POST', '/api/users', { email, name: 'Teacher', password: 'teacher-password' }, admin);
  }
  teacher = await signIn('teacher@school.test', 'teacher-password');
  otherTeacher = await signIn('other@school.test', 'teacher-password');
  const c = (
    await api<{ id: string; rtmp: { streamKey: string } }>('POST', '/api/classes', { title: '과학' }, teacher)
  ).body;
  classId = c.id;
  const started = await api<{ lesson: { id: string } }>(
    'POST',
    `/api/classes/${classId}/start`,
    undefined,
    teacher,
  );
  expect(started.status).toBe(200);
  lessonId = started.body.lesson.id;
  setText('title.txt', '광합성의 원리');
  setText('body.txt', '빛 에너지를 화학 에너지로');
  const draw = (file: string, size: number, y: number) =>
    `drawtext=fontfile=${FONT}:textfile=${join(dir, file)}:reload=1:fontsize=${size}:x=100:y=${y}:fontcolor=black`;
  publisher = spawn(
    FFMPEG_PATH,
    [
      ...['-hide_banner', '-nostats', '-loglevel', 'error'],
      ...['-re', '-f', 'lavfi', '-i', 'color=c=white:s=1280x720:rate=10'],
      ...['-vf', `${draw('title.txt', 72, 140)},${draw('body.txt', 56, 320)}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
      ...['-pix_fmt', 'yuv420p', '-g', '10', '-keyint_min', '10', '-an'],
      ...['-f', 'flv', `${t.rtmp}/${c.rtmp.streamKey}`],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}, 60_000);

afterAll(async () => {
  publisher?.kill('SIGKILL');
  await t?.stop();
  await gemini?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!canRead)('slides of a live lesson', () => {
  let first: SlideView;

  it("keeps the live picture as a slide with its Korean text, and tells the teacher's socket", async () => {
    const staff = await TestSocket.open(`${t.http.replace('http', 'ws')}/ws?classId=${classId}`, {
      authorization: `Bearer ${teacher}`,
    });
    try {
      const heard = await staff.nextOf('slide.new', () => true, 30_000);
      const slides = await slidesUntil((s) => s.length >= 1);
      first = slides[0]!;
      expect((heard as unknown as { slide: SlideView }).slide.id).toBe(first.id);
    } finally {
      staff.close();
    }
    expect(first.reader).toBe('tesseract');
    expect(first.text).toContain('광합성');
    expect(first.text).toContain('화학 에너지');
    expect([first.width, first.height]).toEqual([1280, 720]);
    const r = await api<{ readers: { ocr: { ok: boolean; langs: string[] }; gemini: boolean } }>(
      'GET',
      `/api/lessons/${lessonId}/slides`,
      undefined,
      teacher,
    );
    expect(r.body.readers).toMatchObject({ ocr: { ok: true }, gemini: false });
    expect(r.body.readers.ocr.langs).toContain('kor');
  }, 60_000);

  it('serves the slide as PNG to its teacher only', async () => {
    const img = await fetch(`${t.http}${first.imageUrl}`, {
      headers: { authorization: `Bearer ${teacher}` },
    });
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await img.arrayBuffer());
    expect([...bytes.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    const other = await fetch(`${t.http}${first.imageUrl}`, {
      headers: { authorization: `Bearer ${otherTeacher}` },
    });
    expect(other.status).toBe(403);
    expect((await api('GET', `/api/lessons/${lessonId}/slides`, undefined, otherTeacher)).status).toBe(403);
  });

  it('adds no slide for the same picture, and one when the text changes', async () => {
    // The same picture is looked at every 300 ms; a few seconds of it must add nothing.
    await new Promise((res) => setTimeout(res, 3000));
    expect((await slidesUntil(() => true)).length).toBe(1);
    setText('body.txt', '세포는 생명의 기본 단위');
    const slides = await slidesUntil((s) => s.length >= 2);
    expect(slides).toHaveLength(2);
    expect(slides[1]!.text).toContain('세포');
    expect(slides[1]!.text).toContain('생명');
    expect(slides[1]!.text).toContain('광합성');
  }, 60_000);

  it('drafts a quiz from the slide with the built-in analyzer', async () => {
    const r = await api<{
      provider: string;
      draft: { kind: string; question: string; options: string[]; correct: number[]; note: { ko: string } };
    }>('POST', `/api/slides/${first.id}/draft`, undefined, teacher);
    expect(r.status).toBe(200);
    expect(r.body.provider).toBe('builtin');
    expect(r.body.draft.question).toContain('___');
    expect(r.body.draft.question.startsWith('빈칸에 알맞은 말은?')).toBe(true);
    expect(r.body.draft.kind).toBe('single');
    expect(r.body.draft.options).toHaveLength(4);
    expect(r.body.draft.note.ko).toContain('슬라이드');
    expect((await api('POST', `/api/slides/${first.id}/draft`, undefined, otherTeacher)).status).toBe(403);
  });

  it("shows the latest slide in the teacher's console and opens the quiz editor with its draft (Chromium)", async () => {
    const browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
    const WAIT = { timeout: 30_000 };
    try {
      const page = await browser.newPage();
      await page.goto(`${t.http}/login?lang=ko`);
      await page.fill('#email', 'teacher@school.test');
      await page.fill('#password', 'teacher-password');
      await page.click('#submit');
      await page.waitForURL(/\/console/, WAIT);
      await page.goto(`${t.http}/console?class=${classId}&lang=ko`);
      await page.waitForSelector('#slide-latest', WAIT);
      const latest = (
        await api<{ slides: SlideView[] }>('GET', `/api/lessons/${lessonId}/slides`, undefined, teacher)
      ).body.slides.at(-1)!;
      expect(await page.getAttribute('#slide-latest', 'data-id')).toBe(latest.id);
      expect(await page.textContent('#slide-text')).toContain('세포');
      expect(await page.textContent('#slide-latest')).toContain('OCR로 읽음');
      // The image loaded with the session cookie.
      const shown = await page.$eval('#slide-latest img', (img) => (img as HTMLImageElement).naturalWidth);
      expect(shown).toBe(1280);
      await page.click('#slide-draft');
      await page.waitForSelector('#quiz-editor', WAIT);
      expect(await page.inputValue('#quiz-question')).toContain('___');
      expect(await page.textContent('#quiz-draft-note')).toContain('슬라이드');
      expect(await page.getAttribute('#quiz-draft-note .ai-by', 'data-provider')).toBe('builtin');
      const options = await page.$$eval('.quiz-option-text', (els) =>
        els.map((e) => (e as HTMLInputElement).value),
      );
      expect(options).toHaveLength(4);
      expect(
        await page.$$eval(
          '.quiz-correct',
          (els) => els.filter((e) => (e as HTMLInputElement).checked).length,
        ),
      ).toBe(1);
      // The teacher edits the question and saves it to the bank.
      await page.fill('#quiz-question', (await page.inputValue('#quiz-question')) + ' (수정)');
      await page.click('#quiz-save');
      await page.waitForSelector('#quiz-editor', { state: 'detached', ...WAIT });
      const bank = await api<{ quizzes: { question: string; options: string[] }[] }>(
        'GET',
        `/api/classes/${classId}/quizzes`,
        undefined,
        teacher,
      );
      expect(bank.body.quizzes).toHaveLength(1);
      expect(bank.body.quizzes[0]!.question).toContain('(수정)');
      expect(bank.body.quizzes[0]!.options).toEqual(options);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('reads the next slide with Gemini once the class has it on, and drafts the quiz with Gemini', async () => {
    gemini.reply((req) =>
      askedFields(req).includes('question')
        ? {
            json: {
              question: '세포는 무엇의 기본 단위인가?',
              options: ['생명', '에너지', '물질', '빛'],
              correct: 0,
              note_ko: '세포의 정의를 확인합니다.',
              note_en: 'Checks what a cell is.',
            },
          }
        : { json: { text: '세포는 생명의 기본 단위\n(Gemini가 읽음)' } },
    );
    expect((await api('PUT', '/api/ai/keys/gemini', { key: 'AIzaSlides-key-7788' }, admin)).status).toBe(200);
    expect(
      (await api('PUT', `/api/classes/${classId}/ai`, { enabled: true, provider: 'gemini' }, teacher)).status,
    ).toBe(200);
    const before = (await slidesUntil(() => true)).length;
    setText('body.txt', '물은 수소와 산소로 되어 있다');
    const slides = await slidesUntil((s) => s.length > before);
    const read = slides.at(-1)!;
    expect(read.reader).toBe('gemini');
    expect(read.text).toContain('(Gemini가 읽음)');
    const sent = gemini.requests.find((r) => askedFields(r).includes('text'))!;
    const part = sent.body?.contents?.[0]?.parts?.find((p) => p.inlineData);
    expect(part?.inlineData?.mimeType).toBe('image/png');
    expect(Buffer.from(part!.inlineData!.data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    expect(sent.raw).not.toContain('AIzaSlides-key-7788');
    const r = await api<{ provider: string; draft: { question: string; correct: number[] } }>(
      'POST',
      `/api/slides/${read.id}/draft`,
      undefined,
      teacher,
    );
    expect(r.status).toBe(200);
    expect(r.body.provider).toBe('gemini');
    expect(r.body.draft).toMatchObject({ question: '세포는 무엇의 기본 단위인가?', correct: [0] });
    const listed = await api<{ readers: { gemini: boolean } }>(
      'GET',
      `/api/lessons/${lessonId}/slides`,
      undefined,
      teacher,
    );
    expect(listed.body.readers.gemini).toBe(true);
  }, 60_000);
});
