import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { redactUrl, type Logger } from '../../shared/logger.ts';
import { deliver, unsubscriber, type Bus, type BusHandler, type Unsubscribe } from './bus.ts';

/** Options of {@link RedisBus}. */
export interface RedisBusOptions {
  /** e.g. redis://127.0.0.1:6379/0 */
  url: string;
  /** Put before every channel and key name, e.g. "airclass:" (runs and deployments apart). */
  prefix: string;
  logger: Logger;
  /** How long {@link RedisBus.connect} waits for both connections (ms, default 10 000). */
  connectTimeoutMs?: number;
  /** Client name shown by CLIENT LIST, suffixed -pub / -sub (default "airclass"). */
  connectionName?: string;
}

/** Events of {@link RedisBus}. */
export interface RedisBusEvents {
  /** The subscriber connection came back after a drop (messages in between are lost). */
  resubscribed: [];
}

/** Hides the password of a redis:// URL for logs and errors. */
function safeUrl(url: string): string {
  return redactUrl(url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:[redacted]@'));
}

/**
 * The bus over Redis pub/sub (ioredis): one publisher connection (also used for keys, see
 * {@link RedisBus.client}) and one subscriber connection. Messages are JSON text; channel
 * `c` is the Redis channel `<prefix>c`. Both connections reconnect with backoff and the
 * subscriber resubscribes its channels by itself.
 */
export class RedisBus extends EventEmitter<RedisBusEvents> implements Bus {
  /** Channel and key prefix. */
  readonly prefix: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly log: Logger;
  private readonly channels = new Map<string, Set<BusHandler>>();
  private closing: Promise<void> | undefined;

  /** Starts connecting at once; prefer {@link RedisBus.connect}, which waits until ready. */
  constructor(opts: RedisBusOptions) {
    super();
    this.prefix = opts.prefix;
    this.log = opts.logger;
    const common = {
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      maxRetriesPerRequest: 3,
      retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
    };
    const name = opts.connectionName ?? 'airclass';
    this.pub = new Redis(opts.url, { ...common, connectionName: `${name}-pub` });
    this.sub = new Redis(opts.url, { ...common, connectionName: `${name}-sub` });
    let dropped = false;
    for (const [name, conn] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => this.log.warn({ conn: name, err: err.message }, 'redis error'));
      conn.on('reconnecting', () => {
        if (conn === this.sub) dropped = true;
        this.log.warn({ conn: name, url: safeUrl(opts.url) }, 'redis reconnecting');
      });
    }
    this.sub.on('ready', () => {
      if (!dropped) return;
      dropped = false;
      this.log.info('redis subscriber back; channels resubscribed');
      this.emit('resubscribed');
    });
    this.sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
  }

  /** Creates a bus and waits until both connections are ready; rejects (and closes) otherwise. */
  static async connect(opts: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(opts);
    const timeout = opts.connectTimeoutMs ?? 10_000;
    try {
      await Promise.all([bus.pub, bus.sub].map((c) => waitReady(c, timeout)));
    } catch (e) {
      await bus.close();
      throw new Error(`Cannot connect to Redis at ${safeUrl(opts.url)}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return bus;
  }

  /** The publisher connection, for plain keys of this deployment (names start with `prefix`). */
  get client(): Redis {
    return this.pub;
  }

  async publish(channel: string, msg: unknown): Promise<void> {
    if (this.closing) throw new Error('bus closed');
    await this.pub.publish(this.prefix + channel, JSON.stringify(msg));
  }

  subscribe(channel: string, fn: BusHandler): Unsubscribe {
    if (this.closing) throw new Error('bus closed');
    const handler: BusHandler = (m) => fn(m);
    let set = this.channels.get(channel);
    let ready: Promise<void>;
    if (!set) {
      this.channels.set(channel, (set = new Set()));
      ready = this.sub.subscribe(this.prefix + channel).then(() => undefined);
    } else {
      // Same connection, same order: the earlier SUBSCRIBE is confirmed before this resolves.
      ready = this.sub.ping().then(() => undefined);
    }
    ready.catch((e: Error) => this.log.warn({ channel, err: e.message }, 'redis subscribe failed'));
    set.add(handler);
    return unsubscriber(() => {
      const s = this.channels.get(channel);
      if (!s?.delete(handler) || s.size > 0) return;
      this.channels.delete(channel);
      if (!this.closing) {
        this.sub.unsubscribe(this.prefix + channel).catch(() => undefined);
      }
    }, ready);
  }

  /** Channels with at least one local subscriber. */
  channelCount(): number {
    return this.channels.size;
  }

  private onMessage(channel: string, text: string): void {
    if (!channel.startsWith(this.prefix)) return;
    const handlers = this.channels.get(channel.slice(this.prefix.length));
    if (!handlers) return;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.log.warn({ channel }, 'dropped a bus message that is not JSON');
      return;
    }
    deliver(handlers, msg, (e) => this.log.error({ err: e, channel }, 'bus handler failed'));
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      this.channels.clear();
      await Promise.all(
        [this.pub, this.sub].map(async (c) => {
          if (c.status === 'end') return;
          try {
            if (c.status === 'ready') await c.quit();
            else c.disconnect();
          } catch {
            c.disconnect();
          }
        }),
      );
    })());
  }
}

function waitReady(conn: Redis, timeoutMs: number): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (e: Error): void => {
      lastError = e;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(lastError ?? new Error(`not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      conn.off('ready', onReady);
      conn.off('error', onError);
    };
    conn.on('ready', onReady);
    conn.on('error', onError);
  });
}
