/**
 * What the watch page reads from its `?jwt=` token without verifying it (the server verifies):
 * whether it is a class token from POST /api/join (then the page opens the class channel, chat,
 * quiz and hands) or a media-only token (`airclass token`: just the video).
 */

/** The payload of a JWT, or null when it is not one. */
export function jwtPayload(jwt: string): Record<string, unknown> | null {
  const part = jwt.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** True when the token opens the class channel (a student's or monitor's class token). */
export function isClassToken(payload: Record<string, unknown> | null): boolean {
  if (!payload || typeof payload.cls !== 'string') return false;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return aud.includes('airclass-api');
}

/** A random v4 UUID, also on plain-http pages where `crypto.randomUUID` is missing. */
export function uuid(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
