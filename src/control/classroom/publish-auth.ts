/**
 * RTMP publish authorization (the RtmpServer `authorize` hook). Two ways in:
 *
 * 1. Stream key — what OBS and Android apps send: server `rtmp://HOST:1935/live`, stream key
 *    `<key>`. App `live` + name = a class's stream key → the class path `live/<classId>`. A
 *    scheduled class goes live (and `class.started` is published). An ended class's key is
 *    refused with CLASS_ENDED; an unknown key with TOKEN_INVALID.
 * 2. Media token — `rtmp://HOST:1935/live/<name>?token=<jwt>` with publish on `live/<name>`
 *    (`airclass token`, the legacy `POST /api/token`). Checked as before.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RtmpAuthorize } from '../../media/servers/rtmp/rtmp-options.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { ClassService } from './class-service.ts';

/** What the publish authorizer needs. */
export interface PublishAuthDeps {
  classes: Pick<ClassService, 'byStreamKey' | 'start'>;
  tokens: Pick<TokenService, 'authorize'>;
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
      const c = await deps.classes.byStreamKey(name);
      if (c) {
        if (c.status === 'ended') throw new AirError('CLASS_ENDED');
        if (c.status === 'scheduled') await deps.classes.start(c);
        deps.logger?.info({ classId: c.id, remote }, 'publishing with the class stream key');
        return { path: `live/${c.id}` };
      }
    }
    if (!token) {
      deps.logger?.warn({ app, remote }, 'publish refused: unknown stream key and no token');
      throw new AirError('TOKEN_INVALID', 'Unknown stream key.');
    }
    const path = `${app}/${name}`;
    await deps.tokens.authorize(token, path, 'publish');
    return { path };
  };
}
