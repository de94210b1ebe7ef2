/**
 * What a failed `fetch` of another node says to an operator. Node's fetch throws a bare
 * "fetch failed" and keeps the reason in `cause` (ECONNREFUSED, a certificate it does not
 * trust…); this names it, and for a certificate adds what to do about it.
 */
const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;

export function describeFetchError(e: unknown, url: string): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const cause = (err as { cause?: unknown }).cause;
  const code =
    cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string' ? cause.code : '';
  const detail = cause instanceof Error && cause.message !== err.message ? cause.message : '';
  const base = [err.message, code, detail && detail !== code ? detail : ''].filter(Boolean).join(': ');
  if (CERT_CODES.test(code) && url.startsWith('https:'))
    return (
      `${base}. This node does not trust the HTTPS certificate of ${new URL(url).origin} (the main's ` +
      `local CA): give it the main's http:// URL (http://MAIN:8000), or trust that CA with ` +
      `NODE_EXTRA_CA_CERTS=<the main's /tls/ca.pem saved to a file>`
    );
  return base;
}
