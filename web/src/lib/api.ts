/**
 * The JSON API from the browser: one fetch wrapper that turns the server's error bodies
 * (`{ error: { code, message } }`) into {@link ApiError} with the stable code, and the text a
 * person should read for one.
 */
import type { Translate } from './i18n.ts';

/**
 * A failed API call: `status` (0 = network error), the catalogue `code` (src/shared/errors.ts),
 * the server's message and Retry-After in seconds when sent (429, 409).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | undefined;
  constructor(status: number, code: string, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Options of {@link api}: `token` adds `Authorization: Bearer` (students, monitors). */
export interface ApiOptions {
  token?: string;
  signal?: AbortSignal;
}

/** Retry-After as whole seconds (seconds or an HTTP date), undefined when absent or bad. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - Date.now()) / 1000));
}

/**
 * Calls the API: the session cookie goes along (same origin), `body` is sent as JSON.
 * Resolves with the parsed JSON (undefined for 204); throws {@link ApiError}.
 */
export async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  opts: ApiOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', e instanceof Error ? e.message : String(e));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text().catch(() => '');
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new ApiError(
      res.status,
      typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`,
      typeof err?.message === 'string' ? err.message : res.statusText,
      parseRetryAfter(res.headers.get('Retry-After')),
    );
  }
  return data as T;
}

/**
 * What to show for an error: the translation of `error.<CODE>` when there is one (with `{s}` =
 * Retry-After), else the server's message, else a generic line.
 */
export function errorText(t: Translate, e: unknown): string {
  if (!(e instanceof ApiError)) return t('error.generic');
  const id = `error.${e.code}`;
  const text = t(id, { s: e.retryAfter ?? 60 });
  if (text !== id) return text;
  return e.message || t('error.generic');
}
