/**
 * The teacher's analyses over the API, in process, with the built-in analyzer (issue 10, no
 * key): a short-answer quiz's wrong answers come back as misconception clusters with a re-teach
 * note, a choice quiz's most chosen distractor first, a lesson's chat questions about one step
 * (Korean and English) as one group; only the class's teacher and admins may ask.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './helpers/api.ts';
import { startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';

let a: TestApi;
let gemini: GeminiServer;
const KEY = 'AIzaTest-key-for-contract-7731';
let teacher = '';
let other = '';
let classId = '';
let lessonId = '';
const students: { name: string; token: string; id: string }[] = [];

const post = (url: string, token: string, payload?: object) =>
  a.call({ method: 'POST', url, token, ...(payload ? { payload } : {}) });

async function quiz(body: object): Promise<string> {
  const res = await post(`/api/classes/${classId}/quizzes`, teacher, body);
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

beforeAll(async () => {
  gemini = await startGeminiServer();
  a = await startTestApi({ geminiBaseUrl: gemini.url, geminiTimeoutMs: 2000 });
  teacher = await a.session(await a.user('teacher'));
  other = await a.session(await a.user('teacher'));
  const c = await a.createClass(teacher, '과학');
  classId = c.id;
  expect((await post(`/api/classes/${classId}/start`, teacher)).statusCode).toBe(200);
  lessonId = (await a.store.lessons.current(classId))!.id;
  for (const name of ['김민지', '이서준', '박하은', '최도윤', '정유나', '강지호', 'Alex', 'Sam', 'Kim']) {
    const res = await post('/api/join', '', { code: c.joinCode, name });
    const body = res.json() as { token: string; participantId: string };
    students.push({ name, token: body.token, id: body.participantId });
  }
});

afterAll(async () => {
  await a?.close();
  await gemini?.close();
});

describe('analyses by the built-in analyzer', () => {
  it('clusters the wrong short answers of a quiz into misconceptions with a re-teach note', async () => {
    const id = await quiz({
      kind: 'short',
      question: '광합성이 일어나려면 무엇이 필요할까요?',
      correct: ['빛', '햇빛'],
      timeLimitSec: 60,
    });
    expect((await post(`/api/quizzes/${id}/open`, teacher)).statusCode).toBe(200);
    const texts = [
      '광합성은 빛이 없어도 일어난다',
      '빛 없이도 광합성이 일어나요',
      '광합성에 빛은 필요없다',
      '빛이없어도 광합성이 일어난다',
      '광합성은 뿌리에서 일어난다',
      '뿌리에서 광합성을 해요',
      '빛',
      '햇빛',
      '빛',
    ];
    for (const [i, s] of students.entries()) {
      const res = await post(`/api/quizzes/${id}/answers`, s.token, { answerId: `a${i}`, text: texts[i]! });
      expect(res.statusCode, res.body).toBe(201);
    }
    const res = await a.call({ method: 'GET', url: `/api/quizzes/${id}/analysis`, token: teacher });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as {
      provider: string;
      answered: number;
      difficulty: number;
      clusters: { kind: string; count: number; answers: string[]; note: { ko: string; en: string } }[];
    };
    expect(body.provider).toBe('builtin');
    expect(body.answered).toBe(9);
    expect(body.difficulty).toBeCloseTo(3 / 9, 5);
    const [light, roots] = body.clusters;
    expect(light).toMatchObject({ kind: 'misconception', count: 4 });
    expect(light!.answers).toContain('광합성에 빛은 필요없다');
    expect(light!.note.ko).toContain('빛');
    expect(light!.note.en.length).toBeGreaterThan(10);
    expect(roots).toMatchObject({ kind: 'misconception', count: 2 });
    expect(roots!.answers.every((t) => t.includes('뿌리'))).toBe(true);
  });

  it('names the most chosen distractor of a choice quiz first', async () => {
    await post(`/api/classes/${classId}/end`, teacher);
    await post(`/api/classes/${classId}/start`, teacher);
    lessonId = (await a.store.lessons.current(classId))!.id;
    const c = (await a.call({ method: 'GET', url: `/api/classes/${classId}`, token: teacher })).json() as {
      joinCode: string;
    };
    students.length = 0;
    for (const name of ['김민지', '이서준', '박하은', '최도윤', 'Alex', 'Sam']) {
      const body = (await post('/api/join', '', { code: c.joinCode, name })).json() as {
        token: string;
        participantId: string;
      };
      students.push({ name, token: body.token, id: body.participantId });
    }
    const id = await quiz({
      kind: 'single',
      question: '달이 빛나는 이유는?',
      options: ['스스로 빛을 낸다', '햇빛을 반사한다', '지구의 빛을 반사한다'],
      correct: [1],
      timeLimitSec: 60,
    });
    await post(`/api/quizzes/${id}/open`, teacher);
    const picks = [0, 0, 0, 1, 2, 1];
    for (const [i, s] of students.entries()) {
      await post(`/api/quizzes/${id}/answers`, s.token, { answerId: `b${i}`, choices: [picks[i]!] });
    }
    const body = (
      await a.call({ method: 'GET', url: `/api/quizzes/${id}/analysis`, token: teacher })
    ).json() as {
      difficulty: number;
      distractors: { option: string; count: number; correct: boolean }[];
    };
    expect(body.difficulty).toBeCloseTo(2 / 6, 5);
    expect(body.distractors[0]).toEqual({ option: '스스로 빛을 낸다', count: 3, correct: false });
  });

  it("groups the lesson's chat questions about one step, in Korean and English", async () => {
    const ask = async (s: { name: string; id: string }, text: string) =>
      a.store.chat.add({
        classId,
        seq: await a.store.classes.nextSeq(classId),
        senderId: s.id,
        senderName: s.name,
        senderRole: 'student',
        text,
      });
    const [s1, s2, s3, s4, s5, s6] = students as [
      (typeof students)[0],
      (typeof students)[0],
      (typeof students)[0],
      (typeof students)[0],
      (typeof students)[0],
      (typeof students)[0],
    ];
    await ask(s1, '3번 단계가 이해가 안 돼요');
    await ask(s5, "I don't understand step 3");
    await ask(s2, '세 번째 단계 어떻게 해요?');
    await ask(s6, 'what do we do in step 3?');
    await ask(s3, '3단계에서 왜 음수가 나와요?');
    await ask(s4, '숙제는 언제까지예요?');
    await ask(s1, '오늘 재밌었어요');
    const res = await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token: teacher });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as {
      provider: string;
      groups: { label: string; count: number; messages: string[] }[];
    };
    expect(body.provider).toBe('builtin');
    expect(body.groups[0]).toMatchObject({ count: 5 });
    expect(body.groups[0]!.label).toContain('step');
    expect(body.groups.flatMap((g) => g.messages)).not.toContain('오늘 재밌었어요');
    expect(body.groups.some((g) => g.messages.includes('숙제는 언제까지예요?') && g.count === 1)).toBe(true);
  });

  it("reads a long lesson's latest chat lines, not its first ones", async () => {
    // 5000 lines (the most one analysis reads) after the questions above, then a new question:
    // it must be among the groups.
    await a.store.db.execute(sql`
      WITH s AS (UPDATE classes SET seq = seq + 5000 WHERE id = ${classId} RETURNING seq)
      INSERT INTO chat_messages (class_id, lesson_id, seq, sender_id, sender_name, sender_role, text)
      SELECT ${classId}, ${lessonId}, (SELECT seq FROM s) - 5000 + g, ${students[0]!.id}, ${students[0]!.name},
             'student', '네 알겠습니다 ' || g
        FROM generate_series(1, 5000) AS g`);
    const s = students[1]!;
    await a.store.chat.add({
      classId,
      seq: await a.store.classes.nextSeq(classId),
      senderId: s.id,
      senderName: s.name,
      senderRole: 'student',
      text: '광합성은 어디에서 일어나요?',
    });
    const res = await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token: teacher });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { groups: { messages: string[] }[] };
    expect(body.groups.flatMap((g) => g.messages)).toContain('광합성은 어디에서 일어나요?');
  });

  it('answers only the class teacher and admins', async () => {
    const admin = await a.session(await a.user('admin'));
    const id = (
      await a.call({ method: 'GET', url: `/api/classes/${classId}/quizzes`, token: teacher })
    ).json() as {
      quizzes: { id: string }[];
    };
    const quizId = id.quizzes[0]!.id;
    for (const [token, status] of [
      [other, 403],
      [students[0]!.token, 403],
      [admin, 200],
      ['', 401],
    ] as const) {
      const r1 = await a.call({ method: 'GET', url: `/api/quizzes/${quizId}/analysis`, token });
      const r2 = await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token });
      expect([r1.statusCode, r2.statusCode]).toEqual([status, status]);
    }
  });

  it("uses Gemini only where the teacher turned it on, with the admin's key, names hidden, and falls back", async () => {
    const admin = await a.session(await a.user('admin'));
    // The key: admins only, answered masked, never in clear.
    const put = (token: string, key: string) =>
      a.call({ method: 'PUT', url: '/api/ai/keys/gemini', token, payload: { key } });
    expect((await put(teacher, KEY)).statusCode).toBe(403);
    const set = await put(admin, KEY);
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ provider: 'gemini', configured: true, key: '••••7731' });
    expect(set.body).not.toContain(KEY);
    const got = await a.call({ method: 'GET', url: '/api/ai/keys/gemini', token: admin });
    expect(got.body).not.toContain(KEY);
    expect((await a.store.secrets.get('gemini'))!.sealed).not.toContain(KEY);

    // Off by default: the built-in analyzer answers and nothing reaches Gemini.
    const quizId = (
      (await a.call({ method: 'GET', url: `/api/classes/${classId}/quizzes`, token: teacher })).json() as {
        quizzes: { id: string; kind: string }[];
      }
    ).quizzes.find((q) => q.kind === 'short')!.id;
    const before = gemini.requests.length;
    expect(
      (await a.call({ method: 'GET', url: `/api/quizzes/${quizId}/analysis`, token: teacher })).json(),
    ).toMatchObject({ provider: 'builtin' });
    expect(gemini.requests.length).toBe(before);
    expect(
      (await a.call({ method: 'GET', url: `/api/classes/${classId}/ai`, token: teacher })).json(),
    ).toEqual({ enabled: false, provider: 'builtin', active: 'builtin' });

    const on = await a.call({
      method: 'PUT',
      url: `/api/classes/${classId}/ai`,
      token: teacher,
      payload: { enabled: true, provider: 'gemini' },
    });
    expect(on.json()).toEqual({ enabled: true, provider: 'gemini', active: 'gemini' });
    expect(
      (
        await a.call({
          method: 'PUT',
          url: `/api/classes/${classId}/ai`,
          token: other,
          payload: { enabled: true, provider: 'gemini' },
        })
      ).statusCode,
    ).toBe(403);

    gemini.reply(() => ({
      json: {
        clusters: [
          {
            label: '빛이 필요 없다는 오해',
            answers: [1, 2, 3, 4],
            note_ko: '광합성에는 빛이 꼭 필요하다는 것을 다시 보여 주세요.',
            note_en: 'Show again that light is needed.',
          },
          {
            label: '뿌리에서 일어난다는 오해',
            answers: [5, 6],
            note_ko: '잎의 엽록체를 다시 설명하세요.',
            note_en: 'Explain chloroplasts in leaves.',
          },
        ],
      },
    }));
    const res = await a.call({ method: 'GET', url: `/api/quizzes/${quizId}/analysis`, token: teacher });
    const body = res.json() as {
      provider: string;
      clusters: { label: string; count: number; note: { ko: string } }[];
    };
    expect(body.provider).toBe('gemini');
    expect(body.clusters[0]).toMatchObject({ label: '빛이 필요 없다는 오해', count: 4 });
    const req = gemini.requests.at(-1)!;
    expect(req.headers['x-goog-api-key']).toBe(KEY);
    expect(req.path).toMatch(/models\/[\w.-]+:generateContent/);
    // Student names never leave the school (the quiz's answerers were 김민지, 이서준, …).
    for (const name of ['김민지', '이서준', '박하은', 'Alex']) expect(req.raw).not.toContain(name);
    expect(req.raw).toContain('광합성');

    // Chat questions through Gemini, with a name inside a message hidden.
    await a.store.chat.add({
      classId,
      seq: await a.store.classes.nextSeq(classId),
      senderId: students[1]!.id,
      senderName: students[1]!.name,
      senderRole: 'student',
      text: '김민지가 말한 3단계가 뭐예요?',
    });
    gemini.reply((r) => {
      const text = r.body?.contents?.[0]?.parts?.[0]?.text ?? '';
      const n = text.split('\n').filter((l) => /^\d+\. /.test(l)).length;
      return {
        json: { groups: [{ label: 'step 3', messages: Array.from({ length: n }, (_, i) => i + 1) }] },
      };
    });
    const q = (
      await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token: teacher })
    ).json() as {
      provider: string;
      groups: { label: string; messages: string[] }[];
    };
    expect(q.provider).toBe('gemini');
    expect(q.groups[0]!.messages).toContain('김민지가 말한 3단계가 뭐예요?');
    expect(gemini.requests.at(-1)!.raw).not.toContain('김민지');

    // Gemini failing: the closed quiz keeps the analysis Gemini made (stored with the lesson), and
    // what has to be asked again is answered by the built-in analyzer, which says so.
    gemini.reply(() => ({ status: 500 }));
    const asked = gemini.requests.length;
    const again = (
      await a.call({ method: 'GET', url: `/api/quizzes/${quizId}/analysis`, token: teacher })
    ).json() as { provider: string; clusters: { label: string }[] };
    expect(again.provider).toBe('gemini');
    expect(again.clusters[0]!.label).toBe('빛이 필요 없다는 오해');
    expect(gemini.requests.length).toBe(asked);
    const stored = (await a.store.db.execute(
      sql`SELECT provider FROM ai_results WHERE kind = 'quiz' AND subject = ${quizId}`,
    )) as unknown as { rows: { provider: string }[] };
    expect(stored.rows).toEqual([{ provider: 'gemini' }]);
    expect(
      (await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token: teacher })).json(),
    ).toMatchObject({ provider: 'builtin' });
    gemini.reply(() => ({ delayMs: 5000, json: {} }));
    expect(
      (await a.call({ method: 'GET', url: `/api/lessons/${lessonId}/questions`, token: teacher })).json(),
    ).toMatchObject({ provider: 'builtin' });
  }, 60_000);
});
