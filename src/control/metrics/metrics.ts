/**
 * The node's Prometheus metrics (prom-client): one `Registry` per node, made by the composition
 * root (src/main.ts, src/sub.ts) and handed to whatever records or reports figures. Never the
 * global default registry, so several nodes in one process (tests, `airclass cluster`) keep
 * their figures apart. What other parts already count is read at scrape time by `collect()`
 * callbacks (media.ts, control.ts); only events nothing counts yet (HTTP requests, WHEP set-up
 * time, quiz answers, WebSocket frames) are recorded here as they happen.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'airclass_';

/** HTTP methods kept as label values; anything else is counted as "OTHER" (bounded labels). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The metrics of one node and the registry that exposes them. */
export class Metrics {
  readonly registry = new Registry();
  /** HTTP request duration by method, route pattern (never the raw URL) and status class. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  /** WHEP POST → SDP answer, seconds (successful set-ups). */
  readonly whepSetup: Histogram;
  /** Quiz answers stored (a repeated answerId is not counted again). */
  readonly quizAnswers: Counter;
  /** WebSocket frames, by direction (in = from clients, out = to clients). */
  readonly wsMessages: Counter<'direction'>;
  private readonly closers: (() => void)[] = [];
  private closed = false;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    // prom-client's gauges named *_total break the Prometheus naming rules (promtool check
    // metrics flags them); the same figures remain by type in nodejs_active_{handles,requests,resources}.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      this.registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_${name}`);
    }
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration in seconds, by method, route pattern and status class (2xx, 4xx, …).',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.whepSetup = new Histogram({
      name: `${METRIC_PREFIX}whep_setup_duration_seconds`,
      help: 'Time from a WHEP POST (SDP offer) to its 201 answer, in seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.quizAnswers = new Counter({
      name: `${METRIC_PREFIX}quiz_answers_total`,
      help: 'Quiz answers stored (first submission of each answer; resubmissions are not counted).',
      registers,
    });
    this.wsMessages = new Counter({
      name: `${METRIC_PREFIX}ws_messages_total`,
      help: 'WebSocket messages (frames), by direction: in from clients, out to clients.',
      labelNames: ['direction'],
      registers,
    });
    // Both series exist from the start (a rate over a series that appears later misses its start).
    this.wsMessages.inc({ direction: 'in' }, 0);
    this.wsMessages.inc({ direction: 'out' }, 0);
  }

  /** Records one HTTP request; `route` is the matched pattern (undefined: no route matched). */
  observeHttp(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpDuration.observe(
      {
        method: METHODS.has(method) ? method : 'OTHER',
        route: route ?? 'unmatched',
        status_class: `${Math.floor(status / 100)}xx`,
      },
      seconds,
    );
  }

  /** Runs `fn` on `close()` (timers and listeners of the sources). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  /** The exposition text (Prometheus text format) and its content type. */
  async expose(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /** Stops every source's timer and forgets the metrics. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closers.splice(0)) fn();
    this.registry.clear();
  }
}

/** Makes a node's metrics (call once per node, in the composition root). */
export function createMetrics(): Metrics {
  return new Metrics();
}
