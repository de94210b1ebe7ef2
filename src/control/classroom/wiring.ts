/**
 * Builds the classroom's parts — class service, access issuer, links, authenticator, the RTMP
 * publish authorizer and the API dependencies — from the config, the store and the token
 * service. Called by the composition root (src/main.ts) and by tests, so both wire alike.
 */
import type { Config } from '../../config/schema.ts';
import type { RtmpAuthorize } from '../../media/servers/rtmp/rtmp-options.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ScryptParams } from '../auth/passwords.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { ApiDeps } from '../http/api.ts';
import { Authenticator } from '../http/session.ts';
import { endedByJoinCode } from '../store/ended-join-code.ts';
import type { Db } from '../store/sql.ts';
import type { Store } from '../store/types.ts';
import { ClassAccess } from './access.ts';
import { ClassService } from './class-service.ts';
import { NO_CLASS_EVENTS, type ClassEvents } from './events.ts';
import { ClassLinks, type PublicUrls } from './links.ts';
import { createPublishAuthorizer } from './publish-auth.ts';

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
>;

/** What `createClassroom` is built from. */
export interface ClassroomOptions {
  cfg: ClassroomConfig;
  /** The store; with `db` (the Drizzle store) a join of an ended class says CLASS_ENDED. */
  store: Store & { db?: Db };
  tokens: TokenService;
  urls: PublicUrls;
  /** Where class events go (the WebSocket hub); default: dropped. */
  events?: ClassEvents;
  logger: Logger;
  passwordParams?: ScryptParams;
}

/** The classroom's parts. */
export interface Classroom {
  classes: ClassService;
  access: ClassAccess;
  links: ClassLinks;
  authenticator: Authenticator;
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
    events: o.events ?? NO_CLASS_EVENTS,
    logger: o.logger.child({ part: 'classes' }),
  });
  const access = new ClassAccess({
    classes: store.classes,
    endedByJoinCode: store.db ? endedByJoinCode(store.db, store.classes) : undefined,
    participants: store.participants,
    tokens,
    links,
    studentTokenTtl: cfg.studentTokenTtl,
    monitorLinkTtl: cfg.monitorLinkTtl,
  });
  const authenticator = new Authenticator({ tokens, users: store.users, allowedOrigins: cfg.corsOrigins });
  const publishAuthorizer = createPublishAuthorizer({
    classes,
    tokens,
    logger: o.logger.child({ part: 'publish-auth' }),
  });
  const api: ApiDeps = {
    store,
    tokens,
    authenticator,
    classes,
    access,
    links,
    sessionTtl: cfg.sessionTtl,
    mediaTokenTtl: cfg.tokenTtl,
    joinRateLimit: cfg.joinRateLimit,
    loginRateLimit: cfg.loginRateLimit,
    corsOrigins: cfg.corsOrigins,
    passwordParams: o.passwordParams,
  };
  return { classes, access, links, authenticator, publishAuthorizer, api };
}
