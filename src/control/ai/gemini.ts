/**
 * The Gemini client (issue 10): structured JSON answers from `generateContent` through the
 * official `@google/genai` SDK, with the safety a lesson needs around it:
 *
 * - a timeout per attempt (`timeoutMs`, the SDK's `httpOptions.timeout`);
 * - retries with backoff (500 ms × 2^n, jittered) only for 429, 5xx and network errors; a
 *   timeout or a 4xx is final;
 * - a token budget per instance (one instance per lesson): once spent, calls throw `BUDGET`
 *   without reaching the network;
 * - every failure is one `AiUnavailable` (the caller falls back to the built-in analyzer) and
 *   one warn line with model, reason and status. The API key is never in a message or a log
 *   line, and neither is the prompt (it holds student text).
 *
 * Names are not this module's job: callers pass text through `Pseudonyms.hide` first.
 */
import { ApiError, GoogleGenAI, type GenerateContentResponse, type Part, type Schema } from '@google/genai';
import type { Logger } from '../../shared/logger.ts';

/** Why Gemini did not answer. */
export type AiUnavailableReason = 'TIMEOUT' | 'HTTP' | 'BAD_RESPONSE' | 'BUDGET' | 'KEY';

/** Gemini did not give a usable answer; use the built-in analyzer instead. */
export class AiUnavailable extends Error {
  readonly reason: AiUnavailableReason;
  /** The last HTTP status, when there was one. */
  readonly status: number | undefined;

  constructor(reason: AiUnavailableReason, message: string, status?: number) {
    super(message);
    this.name = 'AiUnavailable';
    this.reason = reason;
    this.status = status;
  }
}

export interface GeminiClientOptions {
  apiKey: string;
  /** Default `gemini-2.5-flash`. */
  model?: string;
  /** Default the SDK's (https://generativelanguage.googleapis.com); tests point it at a local server. */
  baseUrl?: string;
  /** Per attempt; default 15000. */
  timeoutMs?: number;
  /** Retries after the first attempt, for 429/5xx/network errors; default 2. */
  retries?: number;
  /** Base of the backoff, default 500 ms (×2 per retry, jittered). */
  retryDelayMs?: number;
  logger: Logger;
  /** Tokens this instance may spend (prompt + answer, as Gemini reports them). */
  budget?: { maxTokens: number };
}

/** Extra parts of one request. */
export interface GenerateOptions {
  /** The system instruction. */
  system?: string;
  /** An image sent inline (base64) after the prompt. */
  image?: { data: Uint8Array; mimeType: string };
}

const DEFAULT_MODEL = 'gemini-2.5-flash';

/** One failed attempt, classified. */
interface Failure {
  reason: AiUnavailableReason;
  status?: number;
  retryable: boolean;
}

/** Asks Gemini for JSON that follows a schema; see the module comment. */
export class GeminiClient {
  readonly model: string;
  private readonly ai: GoogleGenAI;
  private readonly hasKey: boolean;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  private readonly maxTokens: number;
  private used = 0;

  constructor(opts: GeminiClientOptions) {
    this.model = opts.model ?? DEFAULT_MODEL;
    this.hasKey = opts.apiKey.trim().length > 0;
    this.retries = Math.max(0, opts.retries ?? 2);
    this.retryDelayMs = opts.retryDelayMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.log = opts.logger;
    this.maxTokens = opts.budget?.maxTokens ?? Infinity;
    this.ai = new GoogleGenAI({
      apiKey: opts.apiKey.trim() || 'unset',
      vertexai: false,
      httpOptions: {
        ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
        // The version Gemini's REST reference documents for responseSchema and systemInstruction.
        apiVersion: 'v1beta',
        timeout: this.timeoutMs,
      },
    });
  }

  /** Tokens spent so far by this instance. */
  usedTokens(): number {
    return this.used;
  }

  /**
   * Sends `prompt` (with an optional system instruction and image) and parses the answer as JSON
   * shaped by `schema` (Gemini's OpenAPI-subset `responseSchema`). The value is not checked
   * against the schema here: callers validate what they use. Throws `AiUnavailable`.
   */
  async generateJson<T>(
    prompt: string,
    schema: object,
    opts: GenerateOptions = {},
  ): Promise<{ value: T; tokens: number }> {
    if (!this.hasKey) throw this.fail({ reason: 'KEY', retryable: false }, 0);
    if (this.used >= this.maxTokens) throw this.fail({ reason: 'BUDGET', retryable: false }, 0);
    const parts: Part[] = [{ text: prompt }];
    if (opts.image) {
      parts.push({
        inlineData: {
          data: Buffer.from(opts.image.data).toString('base64'),
          mimeType: opts.image.mimeType,
        },
      });
    }
    let res: GenerateContentResponse;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        res = await this.ai.models.generateContent({
          model: this.model,
          contents: [{ role: 'user', parts }],
          config: {
            responseMimeType: 'application/json',
            responseSchema: schema as Schema,
            ...(opts.system ? { systemInstruction: opts.system } : {}),
          },
        });
        break;
      } catch (e) {
        const f = classify(e);
        if (!f.retryable || attempts > this.retries) throw this.fail(f, attempts);
        await sleep(this.retryDelayMs * 2 ** (attempts - 1) * (0.75 + Math.random() / 2));
      }
    }
    const text = res.text;
    const u = res.usageMetadata;
    // Without usage metadata, a rough count (4 characters a token) keeps the budget honest.
    const tokens =
      u?.totalTokenCount ??
      ((u?.promptTokenCount ?? 0) + (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0) ||
        Math.ceil((prompt.length + (text ?? '').length) / 4));
    this.used += tokens;
    try {
      if (!text) throw new Error('empty');
      return { value: JSON.parse(text) as T, tokens };
    } catch {
      throw this.fail({ reason: 'BAD_RESPONSE', retryable: false }, attempts);
    }
  }

  /** Logs one warn line (no key, no prompt) and makes the error to throw. */
  private fail(f: Failure, attempts: number): AiUnavailable {
    this.log.warn({ model: this.model, reason: f.reason, status: f.status, attempts }, 'gemini unavailable');
    return new AiUnavailable(f.reason, MESSAGES[f.reason](this.model, f.status), f.status);
  }
}

const MESSAGES: Record<AiUnavailableReason, (model: string, status?: number) => string> = {
  TIMEOUT: (m) => `Gemini (${m}) did not answer in time.`,
  HTTP: (m, s) => `Gemini (${m}) answered HTTP ${s ?? '?'}.`,
  BAD_RESPONSE: (m) => `Gemini (${m}) gave an answer that is not the JSON asked for.`,
  BUDGET: (m) => `The lesson's Gemini (${m}) token budget is spent.`,
  KEY: (m, s) => (s ? `Gemini (${m}) refused the API key (HTTP ${s}).` : 'No Gemini API key is set.'),
};

/** Sorts an SDK error into a reason; only its status and kind are read, never its text out. */
function classify(e: unknown): Failure {
  if (e instanceof ApiError) {
    const s = e.status;
    if (s === 401 || s === 403 || (s === 400 && /API_KEY_INVALID|API key not valid/i.test(e.message))) {
      return { reason: 'KEY', status: s, retryable: false };
    }
    return { reason: 'HTTP', status: s, retryable: s === 429 || s >= 500 };
  }
  const name = e instanceof Error || e instanceof DOMException ? e.name : '';
  if (name === 'AbortError' || name === 'TimeoutError') {
    return { reason: 'TIMEOUT', retryable: false };
  }
  // fetch's network failures (refused, reset, DNS) are `TypeError: fetch failed`.
  if (e instanceof TypeError && e.message === 'fetch failed') {
    return { reason: 'HTTP', retryable: true };
  }
  return { reason: 'BAD_RESPONSE', retryable: false };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
