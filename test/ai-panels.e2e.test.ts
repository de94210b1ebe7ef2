/**
 * The AI panels as a teacher sees them (issue 10), in real Chromium against a real `airclass
 * start` with no Gemini key: after a short-answer quiz closes, the console shows the wrong
 * answers grouped into misconceptions with a re-teach note and says the built-in analyzer made
 * them; the questions panel groups the students' chat questions about one step (Korean and
 * English) as they arrive; the dashboard's lesson report shows the lesson summary; the slides
 * card says that nothing can read slide text (this server has no tesseract and no key). Then the
 * admin sets a Gemini key (a local server speaking Gemini's REST format), the teacher turns
 * Gemini on for the class, and the same panels — quiz clusters, questions, slides' reader, the
 * summary — say Gemini answered, with no student's name in what was sent.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { askedFields, startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';
import { REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';

const ADMIN = { email: 'admin@school.example', password: 'ai-panels-admin-1' };
const TEACHER = { name: '한선생', email: 'han@school.example', password: 'teacher-pass-1' };
const WAIT = { timeout: 30_000 };
const SHOTS = join(REPO_ROOT, 'test-artifacts', 'ai-panels');

let server: TestServer;
let gemini: GeminiServer;
let browser: TestBrowser;
let page: Page;
let teacherToken = '';
let adminToken = '';
let classId = '';
let joinCode = '';
const students: { name: string; token: string }[] = [];

async function api<T>(method: string, path: string, body?: unknown, token = teacherToken): Promise<T> {
  const res = await fetch(`${server.httpUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A short-answer quiz pushed, answered by every student, closed; returns its id. */
async function runQuiz(question: string, answers: string[]): Promise<string> {
  const q = await api<{ id: string }>('POST', `/api/classes/${classId}/quizzes`, {
    kind: 'short',
    question,
    correct: ['빛', '햇빛'],
    timeLimitSec: 120,
  });
  await api('POST', `/api/quizzes/${q.id}/open`);
  for (const [i, s] of students.entries())
    await api(
      'POST',
      `/api/quizzes/${q.id}/answers`,
      { answerId: `${q.id}-${i}`, text: answers[i] },
      s.token,
    );
  return q.id;
}

/** A student's chat line, sent over the class socket from the teacher's page; resolves once it is posted. */
async function say(token: string, text: string): Promise<void> {
  await page.evaluate(
    async ([token, text]) => {
      await new Promise<void>((done, fail) => {
        const u = new URL('/ws', location.href);
        u.protocol = 'ws:';
        u.searchParams.set('token', token!);
        const ws = new WebSocket(u);
        ws.onmessage = (ev) => {
          const m = JSON.parse(String(ev.data)) as { type: string };
          if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'chat.send', text }));
          if (m.type === 'chat.message') {
            ws.close();
            done();
          }
        };
        ws.onerror = () => fail(new Error('ws failed'));
      });
    },
    [token, text],
  );
}

/** Ends the running lesson and opens its report on the dashboard (the newest lesson is first). */
async function endAndOpenReport(): Promise<void> {
  await api('POST', `/api/classes/${classId}/end`);
  const lessonId = (await api<{ lessons: { id: string }[] }>('GET', `/api/classes/${classId}/lessons`))
    .lessons[0]!.id;
  await page.goto(`${server.httpUrl}/console?view=dashboard&report=${classId}&lesson=${lessonId}&lang=ko`);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  gemini = await startGeminiServer();
  server = await startServer({
    env: {
      AIRCLASS_ADMIN_EMAIL: ADMIN.email,
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      AIRCLASS_GEMINI_BASE_URL: gemini.url,
      AIRCLASS_GEMINI_TIMEOUT_MS: '3000',
      // No OCR on this server: the slides card must say that nothing reads slide text.
      AIRCLASS_TESSERACT_PATH: '/nonexistent/tesseract',
      DATABASE_URL: '',
      REDIS_URL: '',
    },
  });
  adminToken = (await api<{ token: string }>('POST', '/api/auth/login', ADMIN, '')).token;
  await api('POST', '/api/users', { ...TEACHER, role: 'teacher' }, adminToken);
  teacherToken = (
    await api<{ token: string }>(
      'POST',
      '/api/auth/login',
      { email: TEACHER.email, password: TEACHER.password },
      '',
    )
  ).token;
  const c = await api<{ id: string; joinCode: string }>('POST', '/api/classes', { title: '과학 3반' });
  classId = c.id;
  joinCode = c.joinCode;
  await api('POST', `/api/classes/${classId}/start`);
  for (const name of ['김민지', '이서준', '박하은', '최도윤', '정유나', '강지호', 'Alex']) {
    const j = await api<{ token: string }>('POST', '/api/join', { code: joinCode, name }, '');
    students.push({ name, token: j.token });
  }
  browser = await launchBrowser({ viewport: { width: 1440, height: 1000 } });
  page = await browser.newPage();
  await page.goto(`${server.httpUrl}/login?lang=ko`);
  await page.fill('#email', TEACHER.email);
  await page.fill('#password', TEACHER.password);
  await page.click('#submit');
  await page.waitForURL(/\/console/, WAIT);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await gemini?.close();
});

describe('the AI panels in the console (real Chromium, no key, then Gemini)', () => {
  it('shows misconception clusters with a re-teach note after a quiz closes, by the built-in analyzer', async () => {
    await page.goto(`${server.httpUrl}/console?class=${classId}&lang=ko`);
    await page.waitForSelector('#questions-card', WAIT);
    const noReader = page.locator('#slides-no-reader');
    await noReader.waitFor(WAIT);
    expect(await noReader.textContent()).toMatch(/OCR|tesseract/i);
    await page.locator('#slides-card').screenshot({ path: join(SHOTS, 'slides-no-reader.png') });
    await runQuiz('광합성에 꼭 필요한 것은?', [
      '광합성은 빛이 없어도 일어난다',
      '빛 없이도 광합성이 일어나요',
      '광합성에 빛은 필요없다',
      '광합성은 뿌리에서 일어난다',
      '뿌리에서 광합성을 해요',
      '빛',
      '햇빛',
    ]);
    await page.waitForSelector('#quiz-live[data-status="open"]', WAIT);
    await page.click('#quiz-close');
    const insight = page.locator('#quiz-insight[data-provider="builtin"]');
    await insight.waitFor(WAIT);
    await page.locator('#quiz-clusters .ai-cluster').first().waitFor(WAIT);
    const clusters = await page.locator('#quiz-clusters .ai-cluster').evaluateAll((els) =>
      els.map((e) => ({
        count: Number(e.getAttribute('data-count')),
        answers: e.querySelector('.answers')?.textContent ?? '',
        note: e.querySelector('.reteach')?.textContent ?? '',
      })),
    );
    expect(clusters[0]!.count).toBe(3);
    expect(clusters[0]!.answers).toContain('광합성에 빛은 필요없다');
    expect(clusters[0]!.note.length).toBeGreaterThan(5);
    expect(clusters[1]!.answers).toContain('뿌리');
    expect(await page.textContent('#quiz-insight-difficulty')).toContain('29%');
    expect(await insight.locator('.ai-by').textContent()).toContain('기본 분석기');
    await page.locator('#quiz-insight').screenshot({ path: join(SHOTS, 'quiz-insight.png') });
  });

  it('groups the chat questions about one step as students ask them', async () => {
    for (const [i, text] of [
      '3단계가 이해가 안 돼요',
      '3단계 다시 설명해 주실 수 있나요?',
      'what happens in step 3?',
    ].entries())
      await say(students[i + 1]!.token, text);
    const group = page.locator('#question-groups > li[data-count="3"]');
    await group.waitFor(WAIT);
    expect(await group.textContent()).toContain('what happens in step 3?');
    await page.locator('#questions-card').screenshot({ path: join(SHOTS, 'questions.png') });
  });

  it('shows the lesson summary on the dashboard after the lesson', async () => {
    await endAndOpenReport();
    const card = page.locator('#ai-summary[data-provider="builtin"]');
    await card.waitFor(WAIT);
    expect(await page.textContent('#ai-summary-hard')).toContain('광합성에 꼭 필요한 것은?');
    expect(await page.textContent('#ai-summary-open')).toContain('3');
    await card.screenshot({ path: join(SHOTS, 'summary.png') });
  });

  it('the same panels come from Gemini once the admin set a key and the teacher turned it on', async () => {
    await api('PUT', '/api/ai/keys/gemini', { key: 'AIzaPanels-key-5521' }, adminToken);
    await api('POST', `/api/classes/${classId}/start`);
    // A new lesson: the students join it again.
    for (const s of students)
      s.token = (
        await api<{ token: string }>('POST', '/api/join', { code: joinCode, name: s.name }, '')
      ).token;
    gemini.reply((req) => {
      const fields = askedFields(req);
      if (fields.includes('clusters'))
        return {
          json: {
            clusters: [
              {
                label: '빛이 필요 없다는 오해',
                answers: [1, 2, 3],
                note_ko: '빛을 가린 잎의 실험을 다시 보여 주세요.',
                note_en: 'Show the covered-leaf experiment again.',
              },
            ],
          },
        };
      if (fields.includes('groups'))
        return { json: { groups: [{ label: '엽록체의 역할 (Gemini)', messages: [1, 2] }] } };
      if (fields.includes('text_ko'))
        return {
          json: {
            covered: ['광합성과 빛'],
            hard: [
              {
                n: 1,
                why_ko: '빛이 필요 없다고 답한 학생이 많았습니다.',
                why_en: 'Many said light is not needed.',
              },
            ],
            text_ko: 'Gemini 요약: 빛과 광합성의 관계를 다시 짚어 주세요.',
            text_en: 'Gemini summary: go over light and photosynthesis again.',
          },
        };
      return { json: {} };
    });
    await page.goto(`${server.httpUrl}/console?class=${classId}&lang=ko`);
    const toggle = page.locator('#class-ai-gemini');
    await toggle.waitFor(WAIT);
    expect(await toggle.isChecked()).toBe(false);
    await page.locator('#slides-no-reader').waitFor(WAIT);
    await toggle.click();
    await page.waitForSelector('#class-ai-active[data-active="gemini"]', WAIT);
    // Gemini can read slides now: the card stops saying that nothing can.
    await page.locator('#slides-no-reader').waitFor({ state: 'detached', ...WAIT });

    await runQuiz('광합성이 일어나려면?', [
      '빛이 없어도 된다',
      '빛은 필요없다',
      '빛 없이 된다',
      '빛',
      '햇빛',
      '빛',
      '햇빛',
    ]);
    await page.waitForSelector('#quiz-live[data-status="open"]', WAIT);
    await page.click('#quiz-close');
    await page.waitForSelector('#quiz-insight[data-provider="gemini"]', WAIT);
    expect(await page.textContent('#quiz-clusters')).toContain('빛을 가린 잎의 실험을 다시 보여 주세요.');
    expect(await page.textContent('#quiz-insight .ai-by')).toContain('Gemini');

    await say(students[0]!.token, '엽록체는 무슨 일을 하나요?');
    await say(students[1]!.token, 'what does the chloroplast do?');
    const groups = page.locator('#question-groups[data-provider="gemini"]');
    await groups.waitFor(WAIT);
    expect(await groups.textContent()).toContain('엽록체의 역할 (Gemini)');
    expect(await page.textContent('#questions-card .ai-by')).toContain('Gemini');
    await page.locator('#questions-card').screenshot({ path: join(SHOTS, 'questions-gemini.png') });

    await endAndOpenReport();
    const card = page.locator('#ai-summary[data-provider="gemini"]');
    await card.waitFor(WAIT);
    expect(await page.textContent('#ai-summary-text')).toContain('Gemini 요약');
    expect(await page.textContent('#ai-summary-hard')).toContain('빛이 필요 없다고 답한 학생이 많았습니다.');
    await card.screenshot({ path: join(SHOTS, 'summary-gemini.png') });

    // Clusters, questions and the summary each asked Gemini; no request named a student.
    const kinds = gemini.requests.map((r) => askedFields(r).join(','));
    expect(kinds.some((k) => k.includes('clusters'))).toBe(true);
    expect(kinds.some((k) => k.includes('groups'))).toBe(true);
    expect(kinds.some((k) => k.includes('text_ko'))).toBe(true);
    for (const r of gemini.requests) for (const s of students) expect(r.raw).not.toContain(s.name);
  });
});
