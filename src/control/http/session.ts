/**
 * Who is calling: the API takes `Authorization: Bearer <token>`; the web UI keeps its sign-in
 * session in an httpOnly cookie (SameSite=Lax, Secure over https). Every token goes through
 * the token gate (classroom/token-gate.ts) on every request: a deleted or disabled account, a
 * signed-out token, an ended lesson or a removed student stop at once.
 * Cookie-authenticated writes from a foreign Origin are refused (ORIGIN_FORBIDDEN), on top of
 * SameSite=Lax, since another port on the same host is the same "site".
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AirError } from '../../shared/errors.ts';
import type { Principal } from '../auth/policy.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { TokenGate } from '../classroom/token-gate.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'airclass_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the authenticator needs. */
export interface AuthenticatorDeps {
  tokens: Pick<TokenService, 'verifyAccess'>;
  gate: Pick<TokenGate, 'admitAccess'>;
  /** Origins besides the request's own that may write with the cookie (config corsOrigins). */
  allowedOrigins: readonly string[];
}

/** True when the request came over https (directly or, as the proxy says, through one). */
export function isHttps(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

/** Reads and checks the caller's token. */
export class Authenticator {
  private readonly deps: AuthenticatorDeps;
  private readonly cache = new WeakMap<FastifyRequest, Promise<Principal | undefined>>();

  constructor(deps: AuthenticatorDeps) {
    this.deps = deps;
  }

  /** Verifies a token (API audience), then the gate (account, revocation, lesson, removal). */
  async authenticateToken(token: string): Promise<Principal> {
    return this.deps.gate.admitAccess(await this.deps.tokens.verifyAccess(token));
  }

  /** The raw token a request carries (Bearer first, else the session cookie). */
  tokenOf(req: FastifyRequest): string | undefined {
    const h = req.headers.authorization;
    if (h && /^Bearer\s+\S/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
    return req.cookies?.[SESSION_COOKIE] || undefined;
  }

  /** The caller, or undefined when the request carries no token. TOKEN_INVALID for a bad one. */
  principal(req: FastifyRequest): Promise<Principal | undefined> {
    let p = this.cache.get(req);
    if (!p) {
      p = this.resolve(req);
      this.cache.set(req, p);
    }
    return p;
  }

  /** The caller; TOKEN_MISSING without a token. */
  async require(req: FastifyRequest): Promise<Principal> {
    const p = await this.principal(req);
    if (!p) throw new AirError('TOKEN_MISSING');
    return p;
  }

  private async resolve(req: FastifyRequest): Promise<Principal | undefined> {
    const h = req.headers.authorization;
    if (h && /^Bearer\s+\S/i.test(h)) return this.authenticateToken(h.replace(/^Bearer\s+/i, '').trim());
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (!cookie) return undefined;
    if (!SAFE_METHODS.has(req.method)) this.checkOrigin(req);
    return this.authenticateToken(cookie);
  }

  /** Refuses a cookie-authenticated write whose Origin is neither ours nor allowed. */
  private checkOrigin(req: FastifyRequest): void {
    const origin = req.headers.origin;
    if (!origin) return;
    const host = req.headers.host;
    if (host && (origin === `http://${host}` || origin === `https://${host}`)) return;
    if (this.deps.allowedOrigins.includes(origin)) return;
    throw new AirError('ORIGIN_FORBIDDEN');
  }
}

/** Sets the session cookie (httpOnly, SameSite=Lax, Secure over https). */
export function setSessionCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAge: number,
): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isHttps(req),
    maxAge,
  });
}

/** Removes the session cookie. */
export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isHttps(req),
  });
}
