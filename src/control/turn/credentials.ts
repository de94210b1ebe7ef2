/**
 * Time-limited TURN credentials, the "TURN REST API" scheme coturn implements with
 * `use-auth-secret` + `static-auth-secret` (draft-uberti-behave-turn-rest-00):
 *
 *   username   = "<expiry, unix seconds>:<id>"
 *   credential = base64(HMAC-SHA1(shared secret, username))
 *
 * coturn recomputes the credential from the username with the same secret and refuses an
 * allocation (401) once the expiry has passed, so nothing is stored and a leaked credential
 * dies by itself. The id part names the viewer and the class (`<viewer>@<classId>`): coturn
 * logs it with every allocation, so an operator can tell which student relayed what.
 *
 * The secret and the credentials are secrets: never logged, never put in an error message.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import { ttlSeconds } from '../auth/tokens.ts';
import { AirError } from '../../shared/errors.ts';

/** An ICE server as a browser takes it (RTCIceServer; the same shape as the config's). */
export interface TurnIceServer {
  urls: string[];
  username: string;
  credential: string;
}

/** The configuration keys TURN reads. */
export type TurnConfig = Pick<Config, 'turnUrls' | 'turnSecret' | 'turnTtl'>;

/** `turn:` / `turns:` URL (RFC 7065), e.g. turn:turn.school.kr:3478?transport=tcp. */
const TURN_URL = /^turns?:[^\s?#/]+(\?transport=(udp|tcp))?$/;

/** Characters kept in the id part of a username; anything else becomes "_". */
const ID_CHARS = /[^A-Za-z0-9._~@-]/g;
/** The id part is cut to this many characters (STUN usernames are < 513 bytes). */
const ID_MAX = 200;

/** The id part of a username for one viewer of one class: `<viewer>@<classId>`, sanitized. */
export function turnId(viewer: string, classId: string): string {
  const clean = (s: string) => s.replace(ID_CHARS, '_');
  return `${clean(viewer)}@${clean(classId)}`.slice(0, ID_MAX);
}

/** The TURN REST username: `<expiry unix seconds>:<id>`. */
export function turnUsername(expiresAt: number, id: string): string {
  return `${Math.floor(expiresAt)}:${id}`;
}

/** The TURN REST credential of a username: base64(HMAC-SHA1(secret, username)). */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** A new random shared secret (32 bytes, hex), for `static-auth-secret` and `turnSecret`. */
export function newTurnSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Options of {@link TurnCredentials}. */
export interface TurnOptions {
  urls: readonly string[];
  secret: string;
  /** Lifetime of a credential, seconds. */
  ttlSeconds: number;
  /** The clock, ms (tests). */
  now?: () => number;
}

/** Issues time-limited credentials for the configured TURN servers. */
export class TurnCredentials {
  readonly urls: readonly string[];
  readonly ttlSeconds: number;
  readonly #secret: string;
  readonly #now: () => number;

  constructor(o: TurnOptions) {
    if (o.urls.length === 0) throw new AirError('CONFIG_INVALID', 'TURN needs at least one URL.');
    if (!o.secret) throw new AirError('CONFIG_INVALID', 'TURN needs a shared secret.');
    this.urls = [...o.urls];
    this.ttlSeconds = o.ttlSeconds;
    this.#secret = o.secret;
    this.#now = o.now ?? Date.now;
  }

  /** The TURN servers with a fresh credential for `viewer` in class `classId`. */
  forViewer(viewer: string, classId: string): TurnIceServer[] {
    const expiry = Math.floor(this.#now() / 1000) + this.ttlSeconds;
    const username = turnUsername(expiry, turnId(viewer, classId));
    return [{ urls: [...this.urls], username, credential: turnCredential(this.#secret, username) }];
  }

  /** Never the secret (a TurnCredentials that ends up in a log line shows only its URLs). */
  toJSON(): { urls: readonly string[]; ttlSeconds: number } {
    return { urls: this.urls, ttlSeconds: this.ttlSeconds };
  }
}

/**
 * The TURN issuer of a configuration: undefined when `turnUrls` is empty. CONFIG_INVALID for a
 * URL that is not turn:/turns:, for `turnUrls` without `turnSecret` (a TURN server with fixed
 * credentials goes into `iceServers` instead) and for a bad `turnTtl`. The error names the key,
 * never the secret.
 */
export function turnFromConfig(cfg: TurnConfig): TurnCredentials | undefined {
  if (cfg.turnUrls.length === 0) return undefined;
  for (const u of cfg.turnUrls) {
    if (!TURN_URL.test(u))
      throw new AirError(
        'CONFIG_INVALID',
        `turnUrls: "${u}" is not a TURN URL (turn:host:port or turns:host:port, optionally ?transport=tcp).`,
      );
  }
  if (!cfg.turnSecret)
    throw new AirError(
      'CONFIG_INVALID',
      'turnUrls is set but turnSecret is empty: set turnSecret to the TURN server’s static-auth-secret ' +
        '(airclass turn-config prints both), or put a TURN server with a fixed username and credential in iceServers.',
    );
  return new TurnCredentials({
    urls: cfg.turnUrls,
    secret: cfg.turnSecret,
    ttlSeconds: ttlSeconds(cfg.turnTtl),
  });
}
