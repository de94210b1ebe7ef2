/**
 * Security headers (@fastify/helmet) for every response, with a Content-Security-Policy that
 * the pages need and nothing more:
 *
 * - scripts only from this origin (`/web/…` modules, swagger-ui's files), no inline scripts;
 * - `connect-src` open to http(s)/ws(s): WHEP may be served by a sub node on another port or
 *   host, and the WebSocket lives at `/ws`;
 * - `media-src`/`worker-src` allow blob: and mediastream: (WebRTC, hls.js with MSE);
 * - no `upgrade-insecure-requests` and no HSTS: AirClass is often reached over plain http on
 *   a school LAN, where either would break every page. Put HSTS on the TLS proxy instead.
 */
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import cookie from '@fastify/cookie';

/** The Content-Security-Policy directives of every page. */
export const CSP_DIRECTIVES: Readonly<Record<string, string[]>> = Object.freeze({
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'media-src': ["'self'", 'blob:', 'mediastream:'],
  'connect-src': ["'self'", 'http:', 'https:', 'ws:', 'wss:'],
  'worker-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'self'"],
});

/** Registers helmet (headers on every route) and the cookie parser (session cookie). */
export async function registerSecurity(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { ...CSP_DIRECTIVES } },
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
    // The join QR PNG/SVG may be shown by pages of other origins (slides, school portals).
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'sameorigin' },
  });
  await app.register(cookie);
}
