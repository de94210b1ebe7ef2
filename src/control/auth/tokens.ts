import { SignJWT, jwtVerify, createLocalJWKSet, type JSONWebKeySet, type JWTPayload } from 'jose';
import { AirError } from '../../shared/errors.ts';
import type { SigningKeys } from './keys.ts';

/** Roles of AirClass (DESIGN §4). */
export type Role = 'teacher' | 'student' | 'monitor' | 'admin';
/** What a media token allows on its path. */
export type MediaAction = 'read' | 'publish';

export const ROLES: readonly Role[] = ['teacher', 'student', 'monitor', 'admin'];
export const ACTIONS: readonly MediaAction[] = ['read', 'publish'];

/** The claims AirClass puts in a media token. */
export interface MediaClaims {
  sub: string;
  role: Role;
  /** The one path the token is for, e.g. "live/math1". */
  path: string;
  /** Actions allowed on that path. */
  actions: MediaAction[];
  /** Class id when the token was issued for a class. */
  classId?: string;
}

const ISSUER = 'airclass';
const AUDIENCE = 'airclass-media';

/** Signs and verifies tokens with the node's Ed25519 key; verifies locally against the JWKS. */
export class TokenService {
  private readonly keys: SigningKeys;
  private readonly jwks: ReturnType<typeof createLocalJWKSet>;

  constructor(keys: SigningKeys) {
    this.keys = keys;
    this.jwks = createLocalJWKSet(this.jwksDocument());
  }

  /** The public key set served at /.well-known/jwks.json. */
  jwksDocument(): JSONWebKeySet {
    return { keys: [{ ...this.keys.publicJwk, kid: this.keys.kid }] };
  }

  /** Signs a media token valid for `ttl` (e.g. "2h"). */
  async sign(claims: MediaClaims, ttl: string): Promise<string> {
    const payload: JWTPayload = { role: claims.role, path: claims.path, act: claims.actions };
    if (claims.classId) payload.cls = claims.classId;
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keys.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(ttl)
      .sign(this.keys.privateKey);
  }

  /** Verifies a token's signature, issuer, audience and expiry; TOKEN_INVALID otherwise. */
  async verify(token: string): Promise<MediaClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['EdDSA'],
      }));
    } catch {
      throw new AirError('TOKEN_INVALID');
    }
    const role = payload.role as Role;
    const act = payload.act;
    if (
      typeof payload.sub !== 'string' ||
      !ROLES.includes(role) ||
      typeof payload.path !== 'string' ||
      !Array.isArray(act) ||
      !act.every((a) => ACTIONS.includes(a as MediaAction))
    ) {
      throw new AirError('TOKEN_INVALID');
    }
    return {
      sub: payload.sub,
      role,
      path: payload.path,
      actions: act as MediaAction[],
      classId: typeof payload.cls === 'string' ? payload.cls : undefined,
    };
  }

  /**
   * Checks a token for an action on a path: TOKEN_MISSING without one, TOKEN_INVALID for a
   * bad one, TOKEN_SCOPE for another path or action.
   */
  async authorize(token: string | undefined, path: string, action: MediaAction): Promise<MediaClaims> {
    if (!token) throw new AirError('TOKEN_MISSING');
    const claims = await this.verify(token);
    if (claims.path !== path || !claims.actions.includes(action)) {
      throw new AirError('TOKEN_SCOPE', `The token does not allow ${action} on ${path}.`);
    }
    return claims;
  }
}
