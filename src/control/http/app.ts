import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { registerApi, type ApiDeps } from './api.ts';
import { installErrorHandler } from './errors.ts';
import { registerDocs } from './plugins/docs.ts';
import { registerSecurity } from './plugins/security.ts';
import { trackRoutes } from './route-table.ts';
import { statusRoutes, type StatusRouteDeps } from './routes/status.ts';
import { webRoutes } from './routes/web.ts';
import { whepRoutes, type WhepRouteDeps } from './routes/whep.ts';
import { wsRoutes, type WsRouteDeps } from '../ws/routes.ts';

/** Everything the HTTP app is built from (constructed by the composition root). */
export interface AppDeps extends StatusRouteDeps, WhepRouteDeps {
  logger: Logger;
  bodyLimit: number;
  webDir?: string;
  /** The JSON API under /api (accounts, classes, join). */
  api: ApiDeps;
  /** Version shown on the /docs page. */
  version?: string;
  /** The class channel at /ws (presence, chat, class events); absent = no /ws. */
  ws?: WsRouteDeps;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** The error of a request past its rate limit: 429 RATE_LIMITED with Retry-After. */
function rateLimited(_req: unknown, ctx: { ttl: number }): AirError {
  const retry = String(Math.max(1, Math.ceil(ctx.ttl / 1000)));
  return new AirError('RATE_LIMITED', 'Too many requests; try again later.', { 'Retry-After': retry });
}

/** Builds the Fastify app without listening, so tests can use `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ part: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    return503OnClosing: true,
  });
  trackRoutes(app);
  installErrorHandler(app);
  for (const type of ['application/sdp', 'application/trickle-ice-sdpfrag']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
  }
  await registerSecurity(app);
  await app.register(rateLimit, { global: false, errorResponseBuilder: rateLimited });
  await registerDocs(app, deps.version ?? '0.1.0');
  if (deps.ws) await wsRoutes(app, deps.ws);
  statusRoutes(app, deps);
  whepRoutes(app, deps);
  await registerApi(app, deps.api);
  await webRoutes(app, deps.webDir ?? DEFAULT_WEB_DIR);
  return app;
}
