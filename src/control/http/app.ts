import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from '../../shared/logger.ts';
import { installErrorHandler } from './errors.ts';
import { statusRoutes, type StatusRouteDeps } from './routes/status.ts';
import { webRoutes } from './routes/web.ts';
import { whepRoutes, type WhepRouteDeps } from './routes/whep.ts';

/** Everything the HTTP app is built from (constructed by the composition root). */
export interface AppDeps extends StatusRouteDeps, WhepRouteDeps {
  logger: Logger;
  bodyLimit: number;
  webDir?: string;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Builds the Fastify app without listening, so tests can use `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ part: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    return503OnClosing: true,
  });
  installErrorHandler(app);
  for (const type of ['application/sdp', 'application/trickle-ice-sdpfrag']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
  }
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('X-Content-Type-Options', 'nosniff').header('X-Frame-Options', 'SAMEORIGIN');
  });
  await app.register(rateLimit, { global: false });
  statusRoutes(app, deps);
  whepRoutes(app, deps);
  await webRoutes(app, deps.webDir ?? DEFAULT_WEB_DIR);
  return app;
}
