import { randomUUID } from 'node:crypto';
import {
  SignJWT,
  jwtVerify,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
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
  /** The class's epoch when issued (claim `ep`): a lesson end refuses the token. */
  epoch?: number;
  /** Read back from a verified token: id (`jti`), issue time in ms, expiry in s. */
  jti?: string;
  issuedAtMs?: number;
  exp?: number;
}

/**
 * Claims of an API/session token (audience `airclass-api`): who the caller is, for the HTTP API
 * and the WebSocket. Teachers and admins get one from sign-in (sub = user id); a student gets
 * one from `POST /api/join` (sub = participant id, class, name); a monitor from a share link.
 * A student's and a monitor's token also carry `media` — read on `live/<classId>` — and then
 * hold both audiences, so the one token plays WHEP and calls the API and /ws.
 */
export interface AccessClaims {
  sub: string;
  role: Role;
  /** The one class a student or monitor token is for. */
  classId?: string;
  /** Display name (students). */
  name?: string;
  /** Media scope carried in the same token: read on the class path. */
  media?: { path: string; actions: MediaAction[] };
  /** The class's epoch when issued (claim `ep`; students, monitors). */
  epoch?: number;
  /** The monitor link a monitor token belongs to (claim `lnk`), so it can be revoked. */
  link?: string;
  /** Read back from a verified token: id (`jti`), issue time in ms, expiry in s. */
  jti?: string;
  issuedAtMs?: number;
  exp?: number;
}

/** The claims every AirClass token carries for revocation checks (see TokenGate). */
function commonClaims(payload: JWTPayload, claims: { epoch?: number }): void {
  payload.jti = randomUUID();
  // Issue time in ms: a session reset within the same second must not spare a later sign-in.
  payload.ims = Date.now();
  if (claims.epoch !== undefined) payload.ep = claims.epoch;
}

/** The revocation fields of a verified payload. */
function readCommon(payload: JWTPayload): Pick<AccessClaims, 'epoch' | 'jti' | 'issuedAtMs' | 'exp'> {
  const out: Pick<AccessClaims, 'epoch' | 'jti' | 'issuedAtMs' | 'exp'> = {};
  if (Number.isInteger(payload.ep)) out.epoch = payload.ep as number;
  if (typeof payload.jti === 'string') out.jti = payload.jti;
  if (typeof payload.ims === 'number') out.issuedAtMs = payload.ims;
  else if (typeof payload.iat === 'number') out.issuedAtMs = payload.iat * 1000;
  if (typeof payload.exp === 'number') out.exp = payload.exp;
  return out;
}

const ISSUER = 'airclass';
const AUDIENCE = 'airclass-media';
/** Audience of API/session tokens. */
export const API_AUDIENCE = 'airclass-api';
/** Audience of media tokens (WHEP, WHIP, RTMP `?token=`). */
export const MEDIA_AUDIENCE = AUDIENCE;

/** Seconds in a lifetime such as "30m", "12h" or "7d" (the config's TTL format). */
export function ttlSeconds(ttl: string): number {
  const m = /^([0-9]+)\s*(s|m|h|d)$/.exec(ttl.trim());
  if (!m) throw new AirError('CONFIG_INVALID', `Bad lifetime "${ttl}".`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Audience of node tokens: a sub registering with the main and pulling its RTSP. */
export const NODE_AUDIENCE = 'airclass-node';

/** Claims of a node token. */
export interface NodeClaims {
  /** The node's name (e.g. "sub-1"). */
  sub: string;
  jti?: string;
  exp?: number;
}

/**
 * Verifies tokens against a key set: the node's own (TokenService) or, on a sub, the main's
 * JWKS fetched over HTTP (see remote-jwks.ts). Holds no private key.
 */
export class TokenVerifier {
  protected readonly keySet: JWTVerifyGetKey;

  constructor(keySet: JWTVerifyGetKey) {
    this.keySet = keySet;
  }

  /** Verifies a node token (audience `airclass-node`); TOKEN_INVALID otherwise. */
  async verifyNode(token: string): Promise<NodeClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: ISSUER,
        audience: NODE_AUDIENCE,
        algorithms: ['EdDSA'],
      }));
    } catch {
      throw new AirError('TOKEN_INVALID');
    }
    if (typeof payload.sub !== 'string' || payload.role !== 'node') throw new AirError('TOKEN_INVALID');
    const out: NodeClaims = { sub: payload.sub };
    if (typeof payload.jti === 'string') out.jti = payload.jti;
    if (typeof payload.exp === 'number') out.exp = payload.exp;
    return out;
  }

  /** Verifies a token's signature, issuer, audience and expiry; TOKEN_INVALID otherwise. */
  async verify(token: string): Promise<MediaClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
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
      ...readCommon(payload),
    };
  }

  /**
   * Verifies an API/session token (signature, issuer, audience `airclass-api`, expiry, claims);
   * TOKEN_INVALID otherwise. A media-only token is not an API token.
   */
  async verifyAccess(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet, {
        issuer: ISSUER,
        audience: API_AUDIENCE,
        algorithms: ['EdDSA'],
      }));
    } catch {
      throw new AirError('TOKEN_INVALID');
    }
    const role = payload.role as Role;
    const cls = typeof payload.cls === 'string' ? payload.cls : undefined;
    if (typeof payload.sub !== 'string' || !ROLES.includes(role)) throw new AirError('TOKEN_INVALID');
    if ((role === 'student' || role === 'monitor') && !cls) throw new AirError('TOKEN_INVALID');
    const claims: AccessClaims = { sub: payload.sub, role };
    if (cls) claims.classId = cls;
    if (typeof payload.name === 'string') claims.name = payload.name;
    if (typeof payload.lnk === 'string') claims.link = payload.lnk;
    Object.assign(claims, readCommon(payload));
    const act = payload.act;
    if (typeof payload.path === 'string' && Array.isArray(act)) {
      claims.media = {
        path: payload.path,
        actions: act.filter((a): a is MediaAction => ACTIONS.includes(a as MediaAction)),
      };
    }
    return claims;
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

/** Signs and verifies tokens with the node's Ed25519 key; verifies locally against the JWKS. */
export class TokenService extends TokenVerifier {
  private readonly keys: SigningKeys;

  constructor(keys: SigningKeys) {
    super(createLocalJWKSet({ keys: [{ ...keys.publicJwk, kid: keys.kid }] }));
    this.keys = keys;
  }

  /** The public key set served at /.well-known/jwks.json. */
  jwksDocument(): JSONWebKeySet {
    return { keys: [{ ...this.keys.publicJwk, kid: this.keys.kid }] };
  }

  /** Signs a media token valid for `ttl` (e.g. "2h"). */
  async sign(claims: MediaClaims, ttl: string): Promise<string> {
    const payload: JWTPayload = { role: claims.role, path: claims.path, act: claims.actions };
    if (claims.classId) payload.cls = claims.classId;
    commonClaims(payload, claims);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keys.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(ttl)
      .sign(this.keys.privateKey);
  }

  /**
   * Signs an API/session token valid for `ttl`. With `media`, the token also holds the media
   * audience and the path/actions claims that `verify`/`authorize` check.
   */
  async signAccess(claims: AccessClaims, ttl: string): Promise<string> {
    const payload: JWTPayload = { role: claims.role };
    if (claims.classId) payload.cls = claims.classId;
    if (claims.name) payload.name = claims.name;
    if (claims.link) payload.lnk = claims.link;
    commonClaims(payload, claims);
    if (claims.media) {
      payload.path = claims.media.path;
      payload.act = claims.media.actions;
    }
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keys.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(claims.media ? [API_AUDIENCE, AUDIENCE] : API_AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt()
      .setExpirationTime(ttl)
      .sign(this.keys.privateKey);
  }

  /** Signs a node token (a sub's credential with the main: register, heartbeat, RTSP pulls). */
  async signNode(name: string, ttl: string): Promise<string> {
    const payload: JWTPayload = { role: 'node' };
    commonClaims(payload, {});
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.keys.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(NODE_AUDIENCE)
      .setSubject(name)
      .setIssuedAt()
      .setExpirationTime(ttl)
      .sign(this.keys.privateKey);
  }
}
