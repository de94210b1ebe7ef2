/**
 * Contract tests of the Gemini client (issue 10): the real `@google/genai` SDK against a local
 * server that speaks Gemini's REST format. Request shape, pseudonymised names, the key never in
 * logs or errors, timeouts, retries, the token budget and inline images.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AiUnavailable, GeminiClient, type GeminiClientOptions } from '../src/control/ai/gemini.ts';
import { Pseudonyms } from '../src/control/ai/pseudonyms.ts';
import { REDACT_PATHS } from '../src/shared/logger.ts';
import { startGeminiServer, type GeminiServer } from './helpers/gemini-server.ts';

const KEY = 'AIzaSyTEST-secret-key-0000000000000WXYZ';
const SCHEMA = {
  type: 'OBJECT',
  properties: { summary: { type: 'STRING' }, students: { type: 'ARRAY', items: { type: 'STRING' } } },
  required: ['summary'],
};

let server: GeminiServer;
let lines: string[];

beforeAll(async () => {
  server = await startGeminiServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.reply(() => ({ json: { summary: 'ok' } }));
  lines = [];
});

function client(opts: Partial<GeminiClientOptions> = {}): GeminiClient {
  const logger = pino(
    { level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined },
    { write: (s: string) => lines.push(s) },
  );
  return new GeminiClient({ apiKey: KEY, baseUrl: server.url, logger, retryDelayMs: 50, ...opts });
}

/** The AiUnavailable a call throws (fails the test if it resolves). */
async function failure(p: Promise<unknown>): Promise<AiUnavailable> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AiUnavailable);
    return e as AiUnavailable;
  }
  throw new Error('the call did not fail');
}

/** Asserts the key shows nowhere in the error or the captured log lines. */
function expectNoKey(e?: unknown): void {
  const texts = [...lines];
  if (e) texts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e));
  for (const t of texts) {
    expect(t).not.toContain(KEY);
    expect(t).not.toContain('WXYZ');
  }
}

describe('Gemini client against a Gemini-format server', () => {
  it('sends the model, the key header, the prompt and the schema as the REST API expects', async () => {
    server.reply(() => ({ json: { summary: '분수 덧셈' }, promptTokens: 30, candidatesTokens: 12 }));
    const gemini = client();
    const r = await gemini.generateJson<{ summary: string }>('Summarise the lesson.', SCHEMA, {
      system: 'You help a teacher.',
    });
    expect(r).toEqual({ value: { summary: '분수 덧셈' }, tokens: 42 });
    expect(gemini.usedTokens()).toBe(42);

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(req.headers['x-goog-api-key']).toBe(KEY);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.path).not.toContain(KEY);
    expect(req.body?.contents?.[0]?.parts?.[0]?.text).toBe('Summarise the lesson.');
    expect(req.body?.systemInstruction?.parts?.[0]?.text).toBe('You help a teacher.');
    expect(req.body?.generationConfig?.responseMimeType).toBe('application/json');
    expect(req.body?.generationConfig?.responseSchema).toEqual(SCHEMA);
  });

  it('uses the model it is given', async () => {
    await client({ model: 'gemini-2.5-pro' }).generateJson('x', SCHEMA);
    expect(server.requests[0]!.model).toBe('gemini-2.5-pro');
  });

  it('sends pseudonyms instead of names, and the answer comes back with the names', async () => {
    const names = new Pseudonyms(['김민지', '박서준', 'Alex Park']);
    server.reply((req) => {
      const prompt = req.body?.contents?.[0]?.parts?.[0]?.text ?? '';
      // The model echoes who it saw, in its own words.
      const who = [...prompt.matchAll(/Student \d+/g)].map((m) => m[0]);
      return { json: { summary: `${who[0]}가 두 번 틀렸고 ${who[2]} needs help`, students: who } };
    });
    const prompt = names.hide(
      '김민지가 2번을 틀렸다. 박서준은 맞혔다. Alex Park asked twice. 민지는 다시 틀렸다.',
    );
    const { value } = await client().generateJson<{ summary: string; students: string[] }>(prompt, SCHEMA);
    const sent = server.requests[0]!.raw;
    for (const n of ['김민지', '민지', '박서준', '서준', 'Alex', 'Park']) expect(sent).not.toContain(n);
    expect(names.reveal(value.summary)).toBe('김민지가 두 번 틀렸고 Alex Park needs help');
    expect(value.students.map((s) => names.reveal(s))).toEqual(['김민지', '박서준', 'Alex Park', '김민지']);
  });

  it('sends an image inline as base64 after the prompt', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
    await client().generateJson('Describe this student work.', SCHEMA, {
      image: { data: png, mimeType: 'image/png' },
    });
    const parts = server.requests[0]!.body?.contents?.[0]?.parts ?? [];
    expect(parts[0]?.text).toBe('Describe this student work.');
    expect(parts[1]?.inlineData?.mimeType).toBe('image/png');
    expect(Buffer.from(parts[1]!.inlineData!.data, 'base64')).toEqual(Buffer.from(png));
  });

  it('gives up with TIMEOUT when the server is slow, well before it answers', async () => {
    server.reply(() => ({ delayMs: 10_000 }));
    const started = Date.now();
    const e = await failure(client({ timeoutMs: 300 }).generateJson('x', SCHEMA));
    expect(e.reason).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
    expectNoKey(e);
  });

  it('retries 500s and succeeds when the server recovers', async () => {
    server.reply((_req, n) => (n < 2 ? { status: 500 } : { json: { summary: 'third time' } }));
    const r = await client({ retries: 2 }).generateJson<{ summary: string }>('x', SCHEMA);
    expect(r.value.summary).toBe('third time');
    expect(server.requests).toHaveLength(3);
    expect(lines.filter((l) => l.includes('"level":40'))).toHaveLength(0);
  });

  it('retries 429 too', async () => {
    server.reply((_req, n) => (n < 1 ? { status: 429 } : { json: { summary: 'ok' } }));
    await client().generateJson('x', SCHEMA);
    expect(server.requests).toHaveLength(2);
  });

  it('throws HTTP after the retries when the server keeps failing, and logs one warn line', async () => {
    server.reply(() => ({ status: 500 }));
    const e = await failure(client({ retries: 2 }).generateJson('secret prompt 김민지', SCHEMA));
    expect(e.reason).toBe('HTTP');
    expect(e.status).toBe(500);
    expect(server.requests).toHaveLength(3);
    const warns = lines.filter((l) => l.includes('"level":40'));
    expect(warns).toHaveLength(1);
    expect(JSON.parse(warns[0]!)).toMatchObject({ model: 'gemini-2.5-flash', reason: 'HTTP', status: 500 });
    expect(warns[0]).not.toContain('secret prompt');
    expect(warns[0]).not.toContain('김민지');
    expectNoKey(e);
  });

  it('does not retry a 400', async () => {
    server.reply(() => ({ status: 400 }));
    const e = await failure(client().generateJson('x', SCHEMA));
    expect(e).toMatchObject({ reason: 'HTTP', status: 400 });
    expect(server.requests).toHaveLength(1);
    expectNoKey(e);
  });

  it('reports a refused key as KEY, without the key', async () => {
    server.reply(() => ({ status: 403 }));
    const e = await failure(client().generateJson('x', SCHEMA));
    expect(e).toMatchObject({ reason: 'KEY', status: 403 });
    expect(server.requests).toHaveLength(1);
    expectNoKey(e);
  });

  it('reports a missing key as KEY without calling Gemini', async () => {
    const e = await failure(client({ apiKey: '  ' }).generateJson('x', SCHEMA));
    expect(e.reason).toBe('KEY');
    expect(server.requests).toHaveLength(0);
  });

  it('throws BAD_RESPONSE for an answer that is not JSON, and still counts its tokens', async () => {
    server.reply(() => ({ text: 'Sure! Here is the summary: …', promptTokens: 8, candidatesTokens: 4 }));
    const gemini = client();
    const e = await failure(gemini.generateJson('x', SCHEMA));
    expect(e.reason).toBe('BAD_RESPONSE');
    expect(gemini.usedTokens()).toBe(12);
    expectNoKey(e);
  });

  it('retries when the server cannot be reached, then throws HTTP', async () => {
    const gone = await startGeminiServer();
    await gone.close();
    const e = await failure(client({ baseUrl: gone.url, retries: 1 }).generateJson('x', SCHEMA));
    expect(e.reason).toBe('HTTP');
    expectNoKey(e);
  });

  it('stops calling Gemini once the lesson budget is spent', async () => {
    server.reply(() => ({ json: { summary: 'ok' }, promptTokens: 60, candidatesTokens: 40 }));
    const gemini = client({ budget: { maxTokens: 150 } });
    await gemini.generateJson('first', SCHEMA);
    await gemini.generateJson('second', SCHEMA); // 100 < 150: still allowed, ends at 200
    expect(gemini.usedTokens()).toBe(200);
    const e = await failure(gemini.generateJson('third', SCHEMA));
    expect(e.reason).toBe('BUDGET');
    expect(server.requests).toHaveLength(2);
    expect(JSON.parse(lines.find((l) => l.includes('"level":40'))!)).toMatchObject({
      reason: 'BUDGET',
    });
  });
});
