/**
 * Control-plane figures as Prometheus metrics: the WebSocket server's open sockets and frames,
 * and the database pool (node-postgres `Pool` counts; PGlite is one in-process connection).
 */
import { Gauge } from 'prom-client';
import type { WebSocket, WebSocketServer } from 'ws';
import type { DrizzleStore } from '../store/db.ts';
import { METRIC_PREFIX as P, type Metrics } from './metrics.ts';

/** What a node-postgres Pool reports of itself. */
interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

function isPool(c: unknown): c is PoolCounts {
  return typeof c === 'object' && c !== null && typeof (c as PoolCounts).totalCount === 'number';
}

/**
 * Counts the sockets of a WebSocket server (@fastify/websocket's `app.websocketServer`): the
 * open ones at scrape time, and every frame in and out. Frames out are counted at the socket's
 * own `send`, so every sender (class events, replies, errors) is included.
 */
export function watchSockets(metrics: Metrics, wss: WebSocketServer): void {
  new Gauge({
    name: `${P}ws_sockets_open`,
    help: 'WebSocket connections open on this node (the class channel, /ws).',
    registers: [metrics.registry],
    collect() {
      this.set(wss.clients.size);
    },
  });
  const onConnection = (ws: WebSocket): void => {
    ws.on('message', () => metrics.wsMessages.inc({ direction: 'in' }));
    const send = ws.send.bind(ws) as (...args: unknown[]) => void;
    ws.send = ((...args: unknown[]) => {
      metrics.wsMessages.inc({ direction: 'out' });
      send(...args);
    }) as WebSocket['send'];
  };
  wss.on('connection', onConnection);
  metrics.onClose(() => wss.off('connection', onConnection));
}

/** Database connection figures of the store: a pg Pool's counts, or PGlite's one connection. */
export function watchStore(metrics: Metrics, store: DrizzleStore): void {
  const client = (store.db as unknown as { $client?: unknown }).$client;
  const pool = isPool(client) ? client : undefined;
  const registers = [metrics.registry];
  new Gauge({
    name: `${P}db_info`,
    help: 'The database in use (always 1): dialect "postgres" (a pg pool) or "pglite" (embedded).',
    labelNames: ['dialect'],
    registers,
    collect() {
      this.set({ dialect: store.dialect }, 1);
    },
  });
  new Gauge({
    name: `${P}db_pool_connections`,
    help: 'Database connections open (PGlite: its one in-process connection).',
    registers,
    collect() {
      this.set(pool ? pool.totalCount : 1);
    },
  });
  new Gauge({
    name: `${P}db_pool_idle_connections`,
    help: 'Database connections open and idle in the pool (PGlite: 1).',
    registers,
    collect() {
      this.set(pool ? pool.idleCount : 1);
    },
  });
  new Gauge({
    name: `${P}db_pool_waiting_clients`,
    help: 'Queries waiting for a free pool connection (PGlite: 0, it queues internally).',
    registers,
    collect() {
      this.set(pool ? pool.waitingCount : 0);
    },
  });
}
