/**
 * The page to go to after sign-in (`?next=`): only a path of this site. Refuses other origins,
 * protocol-relative URLs (`//x`, `/\x`), schemes (`javascript:`), and control characters or
 * backslashes anywhere, also percent-encoded (`/%09/other-host`: browsers drop tabs and
 * newlines from URLs, which would turn it into `//other-host`).
 */

/** Decodes percent escapes repeatedly (a few rounds); null when malformed. */
function decodeAll(s: string): string | null {
  let cur = s;
  for (let i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(cur);
    } catch {
      return null;
    }
    if (next === cur) return cur;
    cur = next;
  }
  return cur;
}

/**
 * `next` when it is a same-origin path (`/console?x=1#y`), else `fallback`. `origin` is the
 * page's own (location.origin in the browser).
 */
export function safeNext(
  next: string | null | undefined,
  fallback: string,
  origin = location.origin,
): string {
  if (!next || next.length > 2000) return fallback;
  const decoded = decodeAll(next);
  if (decoded === null) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || decoded.startsWith('//')) return fallback;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return fallback;
  }
  if (url.origin !== new URL(origin).origin) return fallback;
  return url.pathname + url.search + url.hash;
}
