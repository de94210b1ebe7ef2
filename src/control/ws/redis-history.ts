import type { EventHistory, HistorySlice, SeqEvent } from './history.ts';

/** The Redis commands {@link RedisHistory} uses (an ioredis client in production). */
export interface HistoryRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  zrangebyscore(key: string, min: string | number, max: string | number): Promise<string[]>;
  get(key: string): Promise<string | null>;
  hset(key: string, field: string, value: string): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  pexpire(key: string, ms: number): Promise<number>;
}

/** Options of {@link RedisHistory}. */
export interface RedisHistoryOptions {
  redis: HistoryRedis;
  /** Key prefix of the deployment, e.g. "airclass:". */
  prefix: string;
  /** Events kept per class (default 200). */
  perClass?: number;
  /** Keys of a class expire this long after its last write (ms, default 24 h). */
  ttlMs?: number;
}

/**
 * Adds an event and trims to the bound in one step, remembering the highest trimmed seq.
 * KEYS: events zset, trimmed counter. ARGV: seq, event JSON, bound, ttl ms.
 */
const APPEND = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if excess > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[1], excess)
  local top = tonumber(popped[#popped])
  local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
  if top > cur then redis.call('SET', KEYS[2], top) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`;

/**
 * {@link EventHistory} in Redis, shared by every replica. Keys (with the deployment prefix):
 * `<prefix>events:<classId>` (sorted set, score = seq, member = event JSON),
 * `<prefix>events-trimmed:<classId>` (highest seq dropped by the bound) and
 * `<prefix>flags:<classId>` (hash). All expire a day after the class's last write.
 */
export class RedisHistory implements EventHistory {
  private readonly redis: HistoryRedis;
  private readonly prefix: string;
  private readonly perClass: number;
  private readonly ttlMs: number;

  constructor(opts: RedisHistoryOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix;
    this.perClass = opts.perClass ?? 200;
    this.ttlMs = opts.ttlMs ?? 24 * 3600_000;
  }

  private key(kind: string, classId: string): string {
    return `${this.prefix}${kind}:${classId}`;
  }

  async append(classId: string, event: SeqEvent): Promise<void> {
    await this.redis.eval(
      APPEND,
      2,
      this.key('events', classId),
      this.key('events-trimmed', classId),
      event.seq,
      JSON.stringify(event),
      this.perClass,
      this.ttlMs,
    );
  }

  async since(classId: string, seq: number): Promise<HistorySlice> {
    const [members, trimmed] = await Promise.all([
      this.redis.zrangebyscore(this.key('events', classId), `(${seq}`, '+inf'),
      this.redis.get(this.key('events-trimmed', classId)),
    ]);
    const events: SeqEvent[] = [];
    for (const m of members) {
      try {
        events.push(JSON.parse(m) as SeqEvent);
      } catch {
        // A foreign member under our prefix: skip it.
      }
    }
    return { events, truncated: seq < Number(trimmed ?? 0) };
  }

  async setFlag(classId: string, name: string, value: string): Promise<void> {
    const key = this.key('flags', classId);
    await this.redis.hset(key, name, value);
    await this.redis.pexpire(key, this.ttlMs);
  }

  async flags(classId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key('flags', classId));
  }
}
