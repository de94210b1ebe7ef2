/**
 * A local stand-in for the Gemini API (issue 10): a node:http server that speaks the REST wire
 * format of `POST /v1beta/models/{model}:generateContent`, so contract tests run the real
 * `@google/genai` client (pointed here with `httpOptions.baseUrl`) without network. Every request
 * is recorded (method, path, headers, parsed body); each answer is scripted by `reply()`: a JSON
 * text part with usage metadata, an error status in Google's error format, or a delay.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it. */
export interface GeminiRequest {
  method: string;
  /** Path with query, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  /** The model named in the path (`models/<model>:generateContent`), or undefined. */
  model: string | undefined;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: GeminiRequestBody | undefined;
  /** The body exactly as sent. */
  raw: string;
}

/** The parts of a generateContent body the tests look at. */
export interface GeminiRequestBody {
  contents?: {
    role?: string;
    parts?: { text?: string; inlineData?: { data: string; mimeType: string } }[];
  }[];
  systemInstruction?: { role?: string; parts?: { text?: string }[] };
  generationConfig?: { responseMimeType?: string; responseSchema?: unknown } & Record<string, unknown>;
  [k: string]: unknown;
}

/** What the server answers to one request. */
export interface GeminiReply {
  /** An error status (400, 429, 500, …), answered in Google's `{ error: { code, message, status } }` form. */
  status?: number;
  /** The candidate's text part; `json` is stringified into it when given. */
  text?: string;
  json?: unknown;
  /** Tokens reported in usageMetadata (default 10 prompt + 5 candidates). */
  promptTokens?: number;
  candidatesTokens?: number;
  /** Leave usageMetadata out. */
  noUsage?: boolean;
  /** Wait this long before answering (the client may give up first). */
  delayMs?: number;
}

/** The top-level fields of the answer a request asks for (its responseSchema): which operation it is. */
export function askedFields(req: GeminiRequest): string[] {
  const schema = req.body?.generationConfig?.responseSchema as { properties?: object } | undefined;
  return Object.keys(schema?.properties ?? {});
}

/** Decides the reply to the n-th request (0-based). */
export type GeminiScript = (req: GeminiRequest, n: number) => GeminiReply;

export interface GeminiServer {
  /** `http://127.0.0.1:<port>`, for `httpOptions.baseUrl`. */
  url: string;
  /** Every request received so far, in order. */
  requests: GeminiRequest[];
  /** Replaces the script (the default answers `{}` with 15 tokens). */
  reply(fn: GeminiScript): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Starts the server on a free port of 127.0.0.1. */
export async function startGeminiServer(): Promise<GeminiServer> {
  const requests: GeminiRequest[] = [];
  let script: GeminiScript = () => ({ json: {} });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: GeminiRequestBody | undefined;
      try {
        body = JSON.parse(raw) as GeminiRequestBody;
      } catch {
        body = undefined;
      }
      const path = req.url ?? '';
      const recorded: GeminiRequest = {
        method: req.method ?? '',
        path,
        model: /\/models\/([^/:?]+):generateContent/.exec(path)?.[1],
        headers: req.headers,
        body,
        raw,
      };
      const n = requests.length;
      requests.push(recorded);
      const r = script(recorded, n);
      const send = (): void => {
        if (res.destroyed) return;
        if (!recorded.model || req.method !== 'POST') {
          answer(404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
        } else if (r.status && r.status >= 400) {
          const status = STATUS_NAMES[r.status] ?? 'UNKNOWN';
          answer(r.status, { error: { code: r.status, message: `scripted ${r.status}`, status } });
        } else {
          const text = r.text ?? JSON.stringify(r.json ?? {});
          const prompt = r.promptTokens ?? 10;
          const cand = r.candidatesTokens ?? 5;
          answer(200, {
            candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
            ...(r.noUsage
              ? {}
              : {
                  usageMetadata: {
                    promptTokenCount: prompt,
                    candidatesTokenCount: cand,
                    totalTokenCount: prompt + cand,
                  },
                }),
            modelVersion: recorded.model,
            responseId: `resp-${n}`,
          });
        }
      };
      const answer = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(json));
      };
      if (r.delayMs) {
        const t = setTimeout(send, r.delayMs);
        res.on('close', () => clearTimeout(t));
      } else {
        send();
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(fn) {
      script = fn;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
