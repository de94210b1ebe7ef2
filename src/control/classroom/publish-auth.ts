/**
 * RTMP publish authorization (the RtmpServer `authorize` hook). Two ways in:
 *
 * 1. Stream key — what OBS and Android apps send: server `rtmp://HOST:1935/live`, stream key
 *    `<key>`. App `live` + name = a class's stream key → the class path `live/<classId>`. A
 *    scheduled class starts its next lesson, unless its last lesson ended within the restart
 *    cooldown (LESSON_ENDED: an encoder's auto-reconnect must not undo an end); an archived
 *    class's key is refused (CLASS_ARCHIVED); an unknown key with TOKEN_INVALID.
 * 2. Media token — `rtmp://HOST:1935/live/<name>?token=<jwt>` with publish on `live/<name>`
 *    (`airclass token`, `POST /api/classes/:id/media-token`, the legacy `POST /api/token`),
 *    through the token gate: a token of an ended lesson is refused (LESSON_ENDED).
 *
 * The answer tags the publisher with how it authenticated, so a key rotation disconnects a
 * key publisher only. Keys never reach the log.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RtmpAuthorize } from '../../media/servers/rtmp/rtmp-options.ts';
import type { MediaClaims, TokenService } from '../auth/tokens.ts';
import type { ClassService } from './class-service.ts';

/** What the publish authorizer needs. */
export interface PublishAuthDeps {
  classes: Pick<ClassService, 'publishWithKey'>;
  tokens: Pick<TokenService, 'authorize'>;
  /** The token gate's media check (ended lessons, revoked tokens); default: none. */
  admit?: (claims: MediaClaims, path: string) => Promise<void>;
  logger?: Logger;
}

/** The RTMP app stream keys are published to. */
export const STREAM_KEY_APP = 'live';

/** Stream keys are long random strings; anything else is not looked up. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{32,128}$/;

/** Builds the RtmpServer `authorize` hook: stream key first, else the `?token=` media token. */
export function createPublishAuthorizer(deps: PublishAuthDeps): RtmpAuthorize {
  return async ({ app, name, query, remote }) => {
    const token = query.get('token') ?? query.get('jwt') ?? undefined;
    if (app === STREAM_KEY_APP && KEY_SHAPE.test(name)) {
      const c = await deps.classes.publishWithKey(name);
      if (c) {
        deps.logger?.info({ classId: c.id, remote }, 'publishing with the class stream key');
        return { path: `live/${c.id}`, auth: 'key' };
      }
    }
    if (!token) {
      // The app may hold a key pasted into the server URL: never log one.
      const shown = app.replace(/[A-Za-z0-9_-]{32,}/g, '[redacted]');
      deps.logger?.warn({ app: shown, remote }, 'publish refused: unknown stream key and no token');
      throw new AirError('TOKEN_INVALID', 'Unknown stream key.');
    }
    const path = `${app}/${name}`;
    const claims = await deps.tokens.authorize(token, path, 'publish');
    await deps.admit?.(claims, path);
    return { path, auth: 'token' };
  };
}
