import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { recordingDeps, registerApi, type ApiDeps } from './api.ts';
import { vodRoutes } from './routes/recordings.ts';
import { liveHlsRoutes, type LiveHlsRouteDeps } from './routes/live-hls.ts';
import { installErrorHandler } from './errors.ts';
import { registerDocs } from './plugins/docs.ts';
import { registerSecurity } from './plugins/security.ts';
import { trackRoutes } from './route-table.ts';
import { statusRoutes, type StatusRouteDeps } from './routes/status.ts';
import { webRoutes } from './routes/web.ts';
import { tlsRoutes, type TlsRouteDeps } from './routes/tls.ts';
import { whepRoutes, type WhepRouteDeps } from './routes/whep.ts';
import { whipRoutes, type WhipRouteDeps } from './routes/whip.ts';
import { wsRoutes, type WsRouteDeps } from '../ws/routes.ts';
import { instrumentHttp, metricsRoutes, type MetricsRouteDeps } from '../metrics/routes.ts';

/** Everything the HTTP app is built from (constructed by the composition root). */
export interface AppDeps extends StatusRouteDeps, WhepRouteDeps {
  logger: Logger;
  bodyLimit: number;
  /** Longest a request may take to arrive in full (ms; 408 past it; 0 or absent = no limit). */
  requestTimeoutMs?: number;
  webDir?: string;
  /** The JSON API under /api (accounts, classes, join). */
  api: ApiDeps;
  /** Version shown on the /docs page. */
  version?: string;
  /** The class channel at /ws (presence, chat, class events); absent = no /ws. */
  ws?: WsRouteDeps;
  /** Live HLS for students whose WebRTC cannot connect (`/live/<name>/hls/…`); absent = none. */
  liveHls?: LiveHlsRouteDeps;
  /** The local CA's download and install pages, and the HTTP → HTTPS redirect; absent = none. */
  tls?: TlsRouteDeps;
  /** WHIP ingest (browser screen sharing) at `/<path>/whip`; absent = none. */
  whip?: Pick<WhipRouteDeps, 'whip' | 'authorizePublish'>;
  /** Prometheus metrics: every request timed, `GET /metrics`; absent = neither. */
  metrics?: MetricsRouteDeps;
}

/** The built pages (`npm run build:web` makes dist/web from web/). */
const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** The error of a request past its rate limit: 429 RATE_LIMITED with Retry-After. */
function rateLimited(_req: unknown, ctx: { ttl: number }): AirError {
  const retry = String(Math.max(1, Math.ceil(ctx.ttl / 1000)));
  return new AirError('RATE_LIMITED', 'Too many requests; try again later.', { 'Retry-After': retry });
}

/**
 * A request whose body has not fully arrived `ms` after its headers is answered 408
 * REQUEST_TIMEOUT and its connection closed (Node's own requestTimeout does not reach a body
 * that trickles in once the handler has started reading it).
 */
function cutSlowBodies(app: FastifyInstance, ms: number): void {
  app.addHook('onRequest', (req, reply, done) => {
    const raw = req.raw;
    // Only requests with a body to wait for (a WebSocket upgrade or a plain GET has none).
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (raw.complete || !hasBody || req.headers.upgrade !== undefined) return done();
    const timer = setTimeout(() => {
      if (raw.complete) return;
      req.log.info({ method: req.method, url: req.routeOptions.url, ms }, 'request body too slow; cut off');
      const res = reply.raw;
      if (!res.headersSent) {
        const err = new AirError('REQUEST_TIMEOUT');
        res.writeHead(err.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
      }
      raw.socket.destroySoon();
    }, ms);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
    done();
  });
}

/** What every node's HTTP app has: logging, errors, limits, security headers, SDP bodies. */
async function baseApp(
  deps: Pick<AppDeps, 'logger' | 'bodyLimit' | 'requestTimeoutMs' | 'metrics'>,
): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger.child({ part: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    // Slow headers are cut by Node itself; a slow body by `cutSlowBodies` below.
    requestTimeout: deps.requestTimeoutMs ?? 0,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    return503OnClosing: true,
  });
  trackRoutes(app);
  if (deps.metrics) instrumentHttp(app, deps.metrics.metrics);
  installErrorHandler(app);
  if (deps.requestTimeoutMs) cutSlowBodies(app, deps.requestTimeoutMs);
  for (const type of ['application/sdp', 'application/trickle-ice-sdpfrag']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
  }
  await registerSecurity(app);
  await app.register(rateLimit, { global: false, errorResponseBuilder: rateLimited });
  return app;
}

/** Builds the Fastify app without listening, so tests can use `inject()`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = await baseApp(deps);
  if (deps.tls) tlsRoutes(app, deps.tls);
  await registerDocs(app, deps.version ?? '0.1.0');
  if (deps.ws) await wsRoutes(app, deps.ws);
  if (deps.metrics) metricsRoutes(app, deps.metrics);
  statusRoutes(app, deps);
  whepRoutes(app, { ...deps, authorizeMedia: deps.authorizeMedia ?? deps.api.authorizeMedia });
  if (deps.whip) whipRoutes(app, { ...deps.whip, iceServers: deps.iceServers, rateLimit: deps.rateLimit });
  await registerApi(app, deps.api);
  const rec = recordingDeps(deps.api);
  if (rec) vodRoutes(app, rec);
  if (deps.liveHls) await liveHlsRoutes(app, deps.liveHls);
  await webRoutes(app, deps.webDir ?? DEFAULT_WEB_DIR);
  return app;
}

/** What a sub node's HTTP app is built from: status and WHEP, no database, no API. */
export type EdgeAppDeps = StatusRouteDeps &
  WhepRouteDeps &
  Pick<AppDeps, 'logger' | 'bodyLimit' | 'requestTimeoutMs' | 'metrics'>;

/** The HTTP app of a sub node: `/health`, `/ready` and WHEP (tokens checked against the main's JWKS). */
export async function buildEdgeApp(deps: EdgeAppDeps): Promise<FastifyInstance> {
  const app = await baseApp(deps);
  statusRoutes(app, deps);
  whepRoutes(app, deps);
  if (deps.metrics) metricsRoutes(app, deps.metrics);
  return app;
}
