// The JSON API from the browser: one fetch wrapper that turns error bodies
// (`{ error: { code, message } }`) into ApiError with the stable code, and the text a person
// should read for one.

/**
 * A failed API call: `status` (0 = network error), the catalogue `code`, the server's message
 * and Retry-After in seconds when sent (429).
 */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | null} retryAfter
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * Calls the API. The session cookie goes along (same origin); `token` adds a Bearer header.
 * Resolves with the parsed JSON (null for 204); throws ApiError.
 * @param {string} method
 * @param {string} path e.g. "/api/classes"
 * @param {unknown} [body] sent as JSON when given
 * @param {{ token?: string }} [opts]
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', e instanceof Error ? e.message : String(e));
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && typeof data === 'object' ? data.error : null;
    const retry = res.headers.get('Retry-After');
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? res.statusText,
      retry && /^\d+$/.test(retry.trim()) ? Number(retry) : null,
    );
  }
  return data;
}

/**
 * What to show for an error: the translation of `error.<CODE>` when there is one (with `{s}` =
 * Retry-After), else the server's message, else a generic line.
 * @param {(id: string, vars?: Record<string, string | number>) => string} t
 * @param {unknown} e
 */
export function errorText(t, e) {
  if (!(e instanceof ApiError)) return t('error.generic');
  const id = `error.${e.code}`;
  const text = t(id, { s: e.retryAfter ?? 60 });
  if (text !== id) return text;
  return e.message || t('error.generic');
}
