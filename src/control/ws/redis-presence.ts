import type { Logger } from '../../shared/logger.ts';
import type { RosterEntry } from './messages.ts';
import { byJoinTime, type PresenceStore } from './presence.ts';

/** The Redis commands {@link RedisPresence} uses (an ioredis client in production). */
export interface PresenceRedis {
  hset(key: string, field: string, value: string): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hexists(key: string, field: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
  sadd(key: string, member: string): Promise<number>;
  del(...keys: string[]): Promise<number>;
  pexpire(key: string, ms: number): Promise<number>;
}

/** Options of {@link RedisPresence}. */
export interface RedisPresenceOptions {
  redis: PresenceRedis;
  prefix: string;
  /** This replica's id (entries it adds are tied to its heartbeat). */
  nodeId: string;
  logger: Logger;
  /** A replica silent this long is gone and its entries are dropped (ms, default 30 000). */
  nodeTtlMs?: number;
}

interface Stored {
  e: RosterEntry;
  node: string;
}

/**
 * {@link PresenceStore} in Redis, shared by every replica. Keys: `<prefix>presence:<classId>`
 * (hash: participant id → entry and the id of the replica holding its socket),
 * `<prefix>node:<nodeId>` (a heartbeat refreshed every third of its TTL) and
 * `<prefix>claimed:<classId>` (set: attendance records already continued by a socket).
 * Entries of a replica whose heartbeat has expired (it crashed) are left out of the roster and
 * removed.
 */
export class RedisPresence implements PresenceStore {
  private readonly redis: PresenceRedis;
  private readonly prefix: string;
  private readonly nodeId: string;
  private readonly ttlMs: number;
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private beating: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(opts: RedisPresenceOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix;
    this.nodeId = opts.nodeId;
    this.ttlMs = opts.nodeTtlMs ?? 30_000;
    this.log = opts.logger;
    this.beat();
    this.timer = setInterval(() => this.beat(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private key(classId: string): string {
    return `${this.prefix}presence:${classId}`;
  }

  private nodeKey(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  private beat(): void {
    this.beating = this.redis
      .set(this.nodeKey(this.nodeId), '1', 'PX', this.ttlMs)
      .then(() => undefined)
      .catch((e: Error) => this.log.warn({ err: e.message }, 'presence heartbeat failed'));
  }

  async add(classId: string, entry: RosterEntry): Promise<void> {
    const stored: Stored = { e: entry, node: this.nodeId };
    await this.redis.hset(this.key(classId), entry.id, JSON.stringify(stored));
    await this.redis.pexpire(this.key(classId), 24 * 3600_000);
  }

  async remove(classId: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key(classId), id)) > 0;
  }

  async has(classId: string, id: string): Promise<boolean> {
    return (await this.redis.hexists(this.key(classId), id)) > 0;
  }

  async list(classId: string): Promise<RosterEntry[]> {
    const all = await this.redis.hgetall(this.key(classId));
    const entries: Stored[] = [];
    const bad: string[] = [];
    for (const [id, text] of Object.entries(all)) {
      try {
        entries.push(JSON.parse(text) as Stored);
      } catch {
        bad.push(id);
      }
    }
    const nodes = [...new Set(entries.map((s) => s.node))].filter((n) => n !== this.nodeId);
    const alive = new Set([this.nodeId]);
    if (nodes.length > 0) {
      const beats = await this.redis.mget(...nodes.map((n) => this.nodeKey(n)));
      nodes.forEach((n, i) => beats[i] !== null && alive.add(n));
    }
    const gone = entries.filter((s) => !alive.has(s.node)).map((s) => s.e.id);
    if (gone.length + bad.length > 0) {
      await this.redis.hdel(this.key(classId), ...gone, ...bad).catch(() => 0);
    }
    return entries
      .filter((s) => alive.has(s.node))
      .map((s) => s.e)
      .sort(byJoinTime);
  }

  async claim(classId: string, participantId: string): Promise<boolean> {
    const key = `${this.prefix}claimed:${classId}`;
    const added = await this.redis.sadd(key, participantId);
    await this.redis.pexpire(key, 24 * 3600_000);
    return added === 1;
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.timer);
      await this.beating;
      await this.redis.del(this.nodeKey(this.nodeId)).catch(() => 0);
    })());
  }
}
