/**
 * The lesson summary over the API (issue 10, "after the lesson"), on the node as `airclass
 * start` builds it: with no key the built-in analyzer writes it from the lesson's slides, quizzes,
 * chat questions and attendance — what was covered, the item most students missed with its most
 * chosen wrong option, the open question, who may need help — and stores it with the lesson; with
 * Gemini on for the class (a local server speaking its REST format) Gemini writes it from
 * pseudonymised facts and the names come back on return.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';
import { startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';

let a: TestApi;
let gemini: GeminiServer;
let teacher = '';
let admin = '';
let classId = '';
let lessonId = '';
let hardQuiz = '';
const students: { name: string; token: string; id: string }[] = [];

interface Summary {
  provider: string;
  at: string;
  covered: string[];
  hardItems: { quizId: string; question: string; difficulty: number; why: { ko: string; en: string } }[];
  openQuestions: { label: string; count: number }[];
  needHelp: { name: string; reasons: string[]; note: { ko: string } }[];
  text: { ko: string; en: string };
}

const post = (url: string, token: string, payload?: object) =>
  a.call({ method: 'POST', url, token, ...(payload ? { payload } : {}) });
const summary = async (q = '') => {
  const res = await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/summary${q}`, token: teacher });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Summary;
};

beforeAll(async () => {
  gemini = await startGeminiServer();
  a = await startTestApi({ geminiBaseUrl: gemini.url, geminiTimeoutMs: 2000 });
  teacher = await a.session(await a.user('teacher'));
  admin = await a.session(await a.user('admin'));
  const c = await a.createClass(teacher, '과학 2반');
  classId = c.id;
  expect((await post(`/api/classes/${classId}/start`, teacher)).statusCode).toBe(200);
  lessonId = (await a.store.lessons.current(classId))!.id;
  for (const name of ['김민지', '이서준', '박하은', '최도윤', '정유나']) {
    const body = (await post('/api/join', '', { code: c.joinCode, name })).json() as {
      token: string;
      participantId: string;
    };
    students.push({ name, token: body.token, id: body.participantId });
  }
  // Slides as the slide watcher stores them.
  for (const [i, text] of [
    '광합성의 원리\n빛 에너지를 화학 에너지로',
    '엽록체의 구조\n틸라코이드와 스트로마',
  ].entries()) {
    await a.store.db.execute(sql`
      INSERT INTO slides (class_id, lesson_id, taken_at, width, height, text, reader)
      VALUES (${classId}, ${lessonId}, now() - ${`${10 - i} minutes`}::interval, 1280, 720, ${text}, 'tesseract')`);
  }
  // Two quizzes: an easy one, and one that 4 of 5 missed, 3 of them with the same wrong option.
  const quiz = async (body: object, picks: number[]) => {
    const res = await post(`/api/classes/${classId}/quizzes`, teacher, body);
    const id = (res.json() as { id: string }).id;
    await post(`/api/quizzes/${id}/open`, teacher);
    for (const [i, s] of students.entries())
      await post(`/api/quizzes/${id}/answers`, s.token, { answerId: `${id}-${i}`, choices: [picks[i]!] });
    await post(`/api/quizzes/${id}/close`, teacher);
    return id;
  };
  await quiz(
    {
      kind: 'single',
      question: '광합성이 일어나는 곳은?',
      options: ['잎', '뿌리'],
      correct: [0],
      timeLimitSec: 60,
    },
    [0, 0, 0, 0, 1],
  );
  hardQuiz = await quiz(
    {
      kind: 'single',
      question: '광합성에 꼭 필요한 것은?',
      options: ['빛', '흙', '바람'],
      correct: [0],
      timeLimitSec: 60,
    },
    [0, 1, 1, 1, 2],
  );
  for (const [i, text] of ['3단계가 뭐예요?', '3단계 다시 설명해 주세요?', 'what is step 3?'].entries()) {
    const s = students[i + 1]!;
    await a.store.chat.add({
      classId,
      seq: await a.store.classes.nextSeq(classId),
      senderId: s.id,
      senderName: s.name,
      senderRole: 'student',
      text,
    });
  }
});

afterAll(async () => {
  await a?.close();
  await gemini?.close();
});

describe('the lesson summary', () => {
  it('is written by the built-in analyzer with no key, from the slides, quizzes, questions and answers', async () => {
    const s = await summary();
    expect(s.provider).toBe('builtin');
    expect(s.covered).toEqual(['광합성의 원리', '엽록체의 구조']);
    expect(s.hardItems).toHaveLength(1);
    expect(s.hardItems[0]).toMatchObject({
      quizId: hardQuiz,
      question: '광합성에 꼭 필요한 것은?',
      difficulty: 0.2,
    });
    expect(s.hardItems[0]!.why.ko).toContain('3명이 오답 "흙"');
    expect(s.openQuestions[0]).toMatchObject({ count: 3 });
    // 이서준, 박하은 and 최도윤 got 1 of 2 right and asked; 정유나 got none of 2.
    expect(s.needHelp.map((h) => h.name)).toContain('정유나');
    expect(s.needHelp.find((h) => h.name === '정유나')!.reasons).toContain('low-accuracy');
    expect(s.needHelp.map((h) => h.name)).not.toContain('김민지');
    expect(s.text.ko).toContain('광합성의 원리');
    const stored = (await a.store.db.execute(
      sql`SELECT provider FROM ai_results WHERE lesson_id = ${lessonId} AND kind = 'summary'`,
    )) as unknown as { rows: { provider: string }[] };
    expect(stored.rows).toEqual([{ provider: 'builtin' }]);
  });

  it('answers only the class teacher and admins', async () => {
    const other = await a.session(await a.user('teacher'));
    const url = `/api/lessons/${lessonId}/summary`;
    expect((await a.call({ method: 'GET', url, token: other })).statusCode).toBe(403);
    expect((await a.call({ method: 'GET', url, token: students[0]!.token })).statusCode).toBe(403);
    expect((await a.call({ method: 'GET', url })).statusCode).toBe(401);
    expect((await a.call({ method: 'GET', url, token: admin })).statusCode).toBe(200);
  });

  it('comes from Gemini when the class has it on, names hidden on the way out and back on return', async () => {
    expect(
      (
        await a.call({
          method: 'PUT',
          url: '/api/ai/keys/gemini',
          token: admin,
          payload: { key: 'AIzaSummary-key-0042' },
        })
      ).statusCode,
    ).toBe(200);
    await a.call({
      method: 'PUT',
      url: `/api/classes/${classId}/ai`,
      token: teacher,
      payload: { enabled: true, provider: 'gemini' },
    });
    gemini.reply((req) => {
      const text = req.body?.contents?.[0]?.parts?.[0]?.text ?? '';
      if (text.startsWith('Summarise this lesson')) {
        const facts = JSON.parse(text.split('\n').at(-1)!) as {
          studentsWhoMayNeedHelp: { student: string }[];
        };
        const who = facts.studentsWhoMayNeedHelp.map((h) => h.student).join(', ');
        return {
          json: {
            covered: ['광합성', '엽록체'],
            hard: [{ n: 2, why_ko: '흙을 고른 학생이 많았습니다.', why_en: 'Many chose soil.' }],
            text_ko: `광합성을 배웠습니다. ${who} 학생을 살펴 주세요.`,
            text_en: `Photosynthesis. Check on ${who}.`,
          },
        };
      }
      return { json: { groups: [] } };
    });
    const s = await summary();
    expect(s.provider).toBe('gemini');
    expect(s.covered).toEqual(['광합성', '엽록체']);
    expect(s.hardItems[0]).toMatchObject({ quizId: hardQuiz, why: { en: 'Many chose soil.' } });
    expect(s.text.ko).toContain('정유나');
    const sent = gemini.requests.find((r) => r.raw.includes('Summarise this lesson'))!;
    for (const st of students) expect(sent.raw).not.toContain(st.name);
    expect(sent.raw).toMatch(/(Student|학생) \d/);
    // Gemini failing: the built-in analyzer writes it again, and says so.
    gemini.reply(() => ({ status: 503 }));
    expect((await summary()).provider).toBe('builtin');
  }, 60_000);

  it('keeps the summary of an ended lesson until asked to make it again', async () => {
    await a.call({
      method: 'PUT',
      url: `/api/classes/${classId}/ai`,
      token: teacher,
      payload: { enabled: false, provider: 'builtin' },
    });
    await post(`/api/classes/${classId}/end`, teacher);
    const first = await summary();
    const again = await summary();
    expect(again.at).toBe(first.at);
    const fresh = await summary('?refresh=true');
    expect(fresh.at >= first.at).toBe(true);
    expect(fresh.provider).toBe('builtin');
  });
});
