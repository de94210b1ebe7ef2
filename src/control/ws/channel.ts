import { randomUUID } from 'node:crypto';
import type { Logger } from '../../shared/logger.ts';
import type { Principal } from '../auth/policy.ts';
import { InProcessBus, type Bus } from '../bus/bus.ts';
import { RedisBus } from '../bus/redis-bus.ts';
import type { Store } from '../store/types.ts';
import { ChatActions } from './chat.ts';
import { ClassEvents } from './class-events.ts';
import { MemoryHistory, type EventHistory } from './history.ts';
import type { LiveStateSource } from './class-state.ts';
import { ClassHub } from './hub.ts';
import type { InboundLimits } from './inbound.ts';
import { MemoryPresence, type PresenceStore } from './presence.ts';
import { RedisHistory } from './redis-history.ts';
import { RedisPresence } from './redis-presence.ts';
import type { WsRouteDeps } from './routes.ts';

/** Options of {@link openClassChannel} (from the configuration, plus the store and auth). */
export interface ClassChannelOptions {
  /** Empty = in-process bus, memory presence and history (one replica). */
  redisUrl: string;
  redisPrefix: string;
  historySize: number;
  maxMessageBytes: number;
  limits: InboundLimits;
  store: Pick<Store, 'classes' | 'participants' | 'chat' | 'held'>;
  authenticate(token: string): Promise<Principal>;
  allowedOrigins?: readonly string[];
  logger: Logger;
  /** WebSocket ping interval (ms). */
  heartbeatMs?: number;
  /** Raised hands and the open quiz from the database (so they survive a restart). */
  live?: LiveStateSource;
}

/** The live class channel of this node: its parts and the deps of `wsRoutes`. */
export interface ClassChannel {
  readonly bus: Bus;
  readonly hub: ClassHub;
  /** Lifecycle events (class started/ended, stream live/offline) for the classroom. */
  readonly events: ClassEvents;
  readonly routes: WsRouteDeps;
  /** Closes the sockets (recording departures), then presence and the bus. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the class channel: the bus (Redis when `redisUrl` is set, else in-process), the
 * recent history and presence that go with it (in Redis, shared by replicas; else in memory),
 * the hub, chat and lifecycle events. Rejects if Redis cannot be reached.
 */
export async function openClassChannel(opts: ClassChannelOptions): Promise<ClassChannel> {
  const logger = opts.logger.child({ part: 'ws' });
  let bus: Bus;
  let history: EventHistory;
  let presence: PresenceStore;
  if (opts.redisUrl) {
    const redis = await RedisBus.connect({
      url: opts.redisUrl,
      prefix: opts.redisPrefix,
      logger: opts.logger.child({ part: 'bus' }),
    });
    bus = redis;
    history = new RedisHistory({ redis: redis.client, prefix: opts.redisPrefix, perClass: opts.historySize });
    presence = new RedisPresence({
      redis: redis.client,
      prefix: opts.redisPrefix,
      nodeId: randomUUID(),
      logger,
    });
  } else {
    bus = new InProcessBus({ onError: (e) => logger.error({ err: e }, 'bus handler failed') });
    history = new MemoryHistory({ perClass: opts.historySize });
    presence = new MemoryPresence();
  }
  const { classes, participants, chat, held } = opts.store;
  const hub = new ClassHub({
    bus,
    history,
    classes,
    logger,
    heartbeatMs: opts.heartbeatMs,
    live: opts.live,
  });
  const actions = new ChatActions({ hub, classes, chat, held });
  const events = new ClassEvents({ hub, history, classes, logger });
  const routes: WsRouteDeps = {
    session: {
      hub,
      chat: actions,
      presence,
      history,
      classes,
      participants,
      chatLog: chat,
      logger,
      limits: opts.limits,
    },
    authenticate: opts.authenticate,
    allowedOrigins: opts.allowedOrigins,
    maxMessageBytes: opts.maxMessageBytes,
  };
  let closing: Promise<void> | undefined;
  return {
    bus,
    hub,
    events,
    routes,
    close: () =>
      (closing ??= (async () => {
        await hub.close();
        await presence.close();
        await bus.close();
      })()),
  };
}
