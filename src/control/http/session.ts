/**
 * Who is calling: the API takes `Authorization: Bearer <token>`; the web UI keeps its sign-in
 * session in an httpOnly cookie (SameSite=Lax, Secure over https). Teacher and admin tokens
 * are checked against the account on every request, so a deleted account stops at once.
 * Cookie-authenticated writes from a foreign Origin are refused (ORIGIN_FORBIDDEN), on top of
 * SameSite=Lax, since another port on the same host is the same "site".
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AirError } from '../../shared/errors.ts';
import type { Principal } from '../auth/policy.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { UserRepo } from '../store/types.ts';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'airclass_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the authenticator needs. */
export interface AuthenticatorDeps {
  tokens: Pick<TokenService, 'verifyAccess'>;
  users: Pick<UserRepo, 'byId'>;
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

  /** Verifies a token (API audience) and, for accounts, that the account still exists. */
  async authenticateToken(token: string): Promise<Principal> {
    const p = await this.deps.tokens.verifyAccess(token);
    if (p.role === 'admin' || p.role === 'teacher') {
      const user = await this.deps.users.byId(p.sub);
      if (!user || user.role !== p.role) throw new AirError('TOKEN_INVALID');
      return { ...p, name: user.name };
    }
    return p;
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
