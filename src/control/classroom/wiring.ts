/**
 * Builds the classroom's parts — class service, access issuer, links, authenticator, the RTMP
 * publish authorizer and the API dependencies — from the config, the store and the token
 * service. Called by the composition root (src/main.ts) and by tests, so both wire alike.
 */
import type { Config } from '../../config/schema.ts';
import type { RtmpAuthorize } from '../../media/servers/rtmp/rtmp-options.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ScryptParams } from '../auth/passwords.ts';
import type { MediaAction, MediaClaims, TokenService } from '../auth/tokens.ts';
import type { ApiDeps } from '../http/api.ts';
import { Authenticator } from '../http/session.ts';
import type { Store } from '../store/types.ts';
import { ClassAccess } from './access.ts';
import { ClassService } from './class-service.ts';
import { NO_CLASS_EVENTS, type ClassEvents } from './events.ts';
import { ClassLinks, type PublicUrls } from './links.ts';
import type { ClassMedia } from './media.ts';
import { createPublishAuthorizer } from './publish-auth.ts';
import { TokenGate } from './token-gate.ts';

/** The configuration keys the classroom reads. */
export type ClassroomConfig = Pick<
  Config,
  | 'sessionTtl'
  | 'studentTokenTtl'
  | 'monitorLinkTtl'
  | 'tokenTtl'
  | 'joinRateLimit'
  | 'loginRateLimit'
  | 'corsOrigins'
  | 'lessonRestartCooldownMs'
>;

/** What `createClassroom` is built from. */
export interface ClassroomOptions {
  cfg: ClassroomConfig;
  store: Store;
  tokens: TokenService;
  urls: PublicUrls;
  /** Where class events go (the WebSocket hub); default: dropped. */
  events?: ClassEvents;
  /** The media plane (publisher, viewers) as the classroom controls it; default: none. */
  media?: ClassMedia;
  /** The stream of a class path on this node, for ClassView `stream` (see stream-watch.ts). */
  streamInfo?: ApiDeps['streamInfo'];
  logger: Logger;
  passwordParams?: ScryptParams;
}

/** The classroom's parts. */
export interface Classroom {
  classes: ClassService;
  access: ClassAccess;
  links: ClassLinks;
  authenticator: Authenticator;
  /** The checks of a verified token against the database (ended lesson, removed, revoked …). */
  gate: TokenGate;
  /** Media tokens for WHEP: scope (path, action), then the gate. */
  authorizeMedia(token: string | undefined, path: string, action: MediaAction): Promise<MediaClaims>;
  /** The RtmpServer `authorize` hook: class stream keys, else `?token=`. */
  publishAuthorizer: RtmpAuthorize;
  /** What `buildApp` needs for /api. */
  api: ApiDeps;
}

/** Constructs the classroom's parts (no I/O). */
export function createClassroom(o: ClassroomOptions): Classroom {
  const { cfg, store, tokens } = o;
  const links = new ClassLinks(o.urls);
  const classes = new ClassService({
    classes: store.classes,
    lessons: store.lessons,
    participants: store.participants,
    events: o.events ?? NO_CLASS_EVENTS,
    media: o.media,
    logger: o.logger.child({ part: 'classes' }),
    lessonRestartCooldownMs: cfg.lessonRestartCooldownMs,
  });
  const gate = new TokenGate({ facts: (q) => store.gate.facts(q) });
  const authorizeMedia = async (
    token: string | undefined,
    path: string,
    action: MediaAction,
  ): Promise<MediaClaims> => {
    const claims = await tokens.authorize(token, path, action);
    await gate.admitMedia(claims, path);
    return claims;
  };
  const access = new ClassAccess({
    classes: store.classes,
    participants: store.participants,
    monitorLinks: store.monitorLinks,
    tokens,
    links,
    studentTokenTtl: cfg.studentTokenTtl,
    monitorLinkTtl: cfg.monitorLinkTtl,
  });
  const authenticator = new Authenticator({ tokens, gate, allowedOrigins: cfg.corsOrigins });
  const publishAuthorizer = createPublishAuthorizer({
    classes,
    tokens,
    admit: (claims, path) => gate.admitMedia(claims, path),
    logger: o.logger.child({ part: 'publish-auth' }),
  });
  const api: ApiDeps = {
    store,
    tokens,
    authenticator,
    classes,
    access,
    links,
    gate,
    authorizeMedia,
    streamInfo: o.streamInfo,
    sessionTtl: cfg.sessionTtl,
    mediaTokenTtl: cfg.tokenTtl,
    joinRateLimit: cfg.joinRateLimit,
    loginRateLimit: cfg.loginRateLimit,
    corsOrigins: cfg.corsOrigins,
    passwordParams: o.passwordParams,
  };
  return { classes, access, links, authenticator, gate, authorizeMedia, publishAuthorizer, api };
}
