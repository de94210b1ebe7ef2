/**
 * `GET /metrics` (Prometheus text exposition) and the HTTP hook that times every request. The
 * hook also records what is best seen at the HTTP edge: a WHEP set-up (POST → 201 answer) and
 * a stored quiz answer (201 from the answer route).
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocketServer } from 'ws';
import { metricsGuard, type MetricsAccessConfig } from './access.ts';
import { watchSockets } from './control.ts';
import type { Metrics } from './metrics.ts';

/** What the metrics routes are built from. */
export interface MetricsRouteDeps {
  metrics: Metrics;
  /** Who may scrape (loopback always; `metricsAllow`; `metricsToken`). */
  access: MetricsAccessConfig;
  /** Scrapes per minute per address (default 120: a scrape every second with room to spare). */
  rateLimit?: number;
}

/** The WHEP offer route (src/control/http/routes/whep.ts). */
export const WHEP_ROUTE = '/:app/:name/whep';
/** The quiz answer route (src/control/http/routes/quizzes.ts, under /api). */
export const QUIZ_ANSWER_ROUTE = '/api/quizzes/:id/answers';

/** Times every request of `app` (call before its routes are added). */
export function instrumentHttp(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    const seconds = reply.elapsedTime / 1000;
    metrics.observeHttp(req.method, route, reply.statusCode, seconds);
    if (req.method === 'POST' && reply.statusCode === 201) {
      if (route === WHEP_ROUTE) metrics.whepSetup.observe(seconds);
      else if (route === QUIZ_ANSWER_ROUTE) metrics.quizAnswers.inc();
    }
    done();
  });
}

/**
 * Registers `GET /metrics`; counts the app's WebSocket sockets when it has a WebSocket server
 * (register after the /ws routes). 403 FORBIDDEN / 401 TOKEN_MISSING / 401 TOKEN_INVALID for a
 * caller that is neither allowed by address nor holds the metrics token.
 */
export function metricsRoutes(app: FastifyInstance, deps: MetricsRouteDeps): void {
  const guard = metricsGuard(deps.access);
  const wss = (app as FastifyInstance & { websocketServer?: WebSocketServer }).websocketServer;
  if (wss) watchSockets(deps.metrics, wss);
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        description:
          'Open to loopback callers and the addresses of `metricsAllow` (not through a proxy); others send ' +
          '`Authorization: Bearer <metricsToken>`. 401 TOKEN_MISSING / TOKEN_INVALID, 403 FORBIDDEN.',
      },
      config: { rateLimit: { max: deps.rateLimit ?? 120, timeWindow: 60_000 } },
    },
    async (req, reply) => {
      const h = req.headers;
      guard({
        ip: req.ip,
        authorization: h.authorization,
        forwarded: h['x-forwarded-for'] !== undefined || h.forwarded !== undefined,
      });
      const { contentType, text } = await deps.metrics.expose();
      return reply.header('Cache-Control', 'no-store').type(contentType).send(text);
    },
  );
}
