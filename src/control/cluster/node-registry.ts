/**
 * The node registry: the sub nodes the main knows of, their last reported load and whether they
 * are alive. A sub registers, then heartbeats every `heartbeatMs` (5 s) with its load; after
 * `missed` (3) silent periods it is dead. A dead node stays listed `forgetAfterMs` (10 min)
 * after its last heartbeat (or after it was marked dead), then disappears. One in-process
 * version and one in Redis, shared by every control-plane process on the same prefix.
 */
import type { Redis } from 'ioredis';
import { AirError } from '../../shared/errors.ts';

/** What a node reports on each heartbeat. */
export interface NodeLoad {
  /** WebRTC viewers it serves now. */
  viewers: number;
  /** CPU use in percent of one machine, 0–100. */
  cpu: number;
  /** Live paths the node relays. */
  paths: string[];
  /** Its viewers on each path it relays (the teacher's console counts the whole class's). */
  pathViewers?: Record<string, number>;
}

/** A registered node, as stored. */
export interface NodeRecord extends NodeLoad {
  id: string;
  name: string;
  /** Public base URL, e.g. http://10.0.0.5:8001 */
  httpUrl: string;
  /** Its HTTPS base URL when it serves HTTPS, e.g. https://10.0.0.5:8444 */
  httpsUrl?: string;
  rtspUrl?: string;
  /** Viewers it may take. */
  capacity: number;
  /** When the node process started (ms epoch). */
  startedAt: number;
  /** Its last register or heartbeat (ms epoch, the registry's clock). */
  lastSeen: number;
}

/** A node as listed: its record and whether it is alive. */
export interface NodeView extends NodeRecord {
  /** Dead when silent longer than heartbeatMs × missed, or marked dead. */
  state: 'alive' | 'dead';
}

/** The registry of nodes; every method is safe to call from several processes (Redis). */
export interface NodeRegistry {
  /** Adds a node or replaces it (a restart), alive, seen now. */
  register(r: Omit<NodeRecord, 'lastSeen'>): Promise<void>;
  /**
   * Records a node's load, seen now; a node dead only by silence comes back alive. False when
   * the id is unknown (never registered, removed or forgotten) or was marked dead: the node
   * must register again.
   */
  heartbeat(id: string, load: NodeLoad): Promise<boolean>;
  /** Marks a node dead until it registers again (no-op for an unknown id). */
  markDead(id: string): Promise<void>;
  /** Forgets a node at once. */
  remove(id: string): Promise<void>;
  /** Every node not yet forgotten, sorted by name (then id). */
  list(): Promise<NodeView[]>;
  /** One node, or undefined when unknown or forgotten. */
  get(id: string): Promise<NodeView | undefined>;
  /** Idempotent; the registry may not be used afterwards. */
  close(): Promise<void>;
}

/** Timing options shared by both registries. */
export interface NodeRegistryOptions {
  /** How often nodes heartbeat (ms, default 5000). */
  heartbeatMs?: number;
  /** Heartbeats missed before a node is dead (default 3). */
  missed?: number;
  /** A dead or silent node is forgotten this long after it was last seen or marked (ms, default 600 000). */
  forgetAfterMs?: number;
  /** The clock (ms epoch), for tests. */
  now?: () => number;
}

/** Options of {@link RedisNodeRegistry}. */
export interface RedisNodeRegistryOptions extends NodeRegistryOptions {
  /** The caller owns the connection and closes it. */
  redis: Redis;
  /** Put before every key, e.g. "airclass:". */
  prefix: string;
}

/** A record with its marked-dead flag, as kept in memory or as JSON in Redis. */
interface Stored extends NodeRecord {
  dead: boolean;
}

interface Timing {
  deadAfterMs: number;
  forgetAfterMs: number;
  now: () => number;
}

function timing(o: NodeRegistryOptions): Timing {
  const heartbeatMs = o.heartbeatMs ?? 5000;
  const missed = o.missed ?? 3;
  const forgetAfterMs = o.forgetAfterMs ?? 600_000;
  if (!(heartbeatMs > 0) || !Number.isInteger(missed) || missed < 1) {
    throw new AirError('CONFIG_INVALID', 'heartbeatMs must be > 0 and missed an integer ≥ 1');
  }
  if (!Number.isSafeInteger(forgetAfterMs) || forgetAfterMs < heartbeatMs * missed) {
    throw new AirError('CONFIG_INVALID', 'forgetAfterMs must be an integer ≥ heartbeatMs × missed');
  }
  return { deadAfterMs: heartbeatMs * missed, forgetAfterMs, now: o.now ?? Date.now };
}

/** A finite number ≥ 0, rounded to an integer; anything else is 0. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** A finite number clamped to 0–100; anything else is 0. */
function percent(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : 0;
}

/** The strings of `v`, each once. */
function pathList(v: unknown): string[] {
  return Array.isArray(v) ? [...new Set(v.filter((p): p is string => typeof p === 'string'))] : [];
}

/** Viewer counts by path: string keys, counts ≥ 0; anything else left out. */
function pathCounts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [k, n] of Object.entries(v as Record<string, unknown>).slice(0, 1000)) out[k] = count(n);
  return out;
}

function load(l: NodeLoad): NodeLoad {
  return {
    viewers: count(l.viewers),
    cpu: percent(l.cpu),
    paths: pathList(l.paths),
    pathViewers: pathCounts(l.pathViewers),
  };
}

function stored(r: Omit<NodeRecord, 'lastSeen'>, lastSeen: number): Stored {
  if (typeof r.id !== 'string' || r.id === '') throw new AirError('BAD_REQUEST', 'node id is empty');
  const s: Stored = {
    id: r.id,
    name: String(r.name),
    httpUrl: String(r.httpUrl),
    capacity: count(r.capacity),
    startedAt: count(r.startedAt),
    lastSeen,
    ...load(r),
    dead: false,
  };
  if (typeof r.rtspUrl === 'string') s.rtspUrl = r.rtspUrl;
  if (typeof r.httpsUrl === 'string') s.httpsUrl = r.httpsUrl;
  return s;
}

/** Reads back what Redis holds for `id`: undefined unless it is a well-formed record of it. */
function parse(text: string | null, id: string): Stored | undefined {
  if (text === null) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const finite = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]);
  if (
    id === '' ||
    o.id !== id ||
    typeof o.name !== 'string' ||
    typeof o.httpUrl !== 'string' ||
    (o.rtspUrl !== undefined && typeof o.rtspUrl !== 'string') ||
    (o.httpsUrl !== undefined && typeof o.httpsUrl !== 'string') ||
    !['capacity', 'startedAt', 'lastSeen', 'viewers', 'cpu'].every(finite) ||
    !Array.isArray(o.paths) ||
    typeof o.dead !== 'boolean'
  ) {
    return undefined;
  }
  const s = stored(o as unknown as NodeRecord, o.lastSeen as number);
  s.dead = o.dead;
  return s;
}

function view(s: Stored, t: Timing): NodeView {
  const dead = s.dead || t.now() - s.lastSeen > t.deadAfterMs;
  const v: NodeView = {
    id: s.id,
    name: s.name,
    httpUrl: s.httpUrl,
    capacity: s.capacity,
    startedAt: s.startedAt,
    lastSeen: s.lastSeen,
    viewers: s.viewers,
    cpu: s.cpu,
    paths: [...s.paths],
    pathViewers: { ...s.pathViewers },
    state: dead ? 'dead' : 'alive',
  };
  if (s.rtspUrl !== undefined) v.rtspUrl = s.rtspUrl;
  if (s.httpsUrl !== undefined) v.httpsUrl = s.httpsUrl;
  return v;
}

function byName(a: NodeView, b: NodeView): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function closedError(): AirError {
  return new AirError('INTERNAL', 'the node registry is closed');
}

/** {@link NodeRegistry} in this process (one control plane, or tests with a fake clock). */
export class MemoryNodeRegistry implements NodeRegistry {
  private readonly t: Timing;
  /** id → record and when it was last written (register, heartbeat, markDead). */
  private readonly nodes = new Map<string, { s: Stored; touched: number }>();
  private closed = false;

  constructor(opts: NodeRegistryOptions = {}) {
    this.t = timing(opts);
  }

  /** The live entry of `id`, dropping it when forgotten. */
  private entry(id: string): { s: Stored; touched: number } | undefined {
    if (this.closed) throw closedError();
    const e = this.nodes.get(id);
    if (e && this.t.now() - e.touched > this.t.forgetAfterMs) {
      this.nodes.delete(id);
      return undefined;
    }
    return e;
  }

  async register(r: Omit<NodeRecord, 'lastSeen'>): Promise<void> {
    if (this.closed) throw closedError();
    const now = this.t.now();
    this.nodes.set(r.id, { s: stored(r, now), touched: now });
  }

  async heartbeat(id: string, l: NodeLoad): Promise<boolean> {
    const e = this.entry(id);
    if (!e || e.s.dead) return false;
    const now = this.t.now();
    e.s = { ...e.s, ...load(l), lastSeen: now };
    e.touched = now;
    return true;
  }

  async markDead(id: string): Promise<void> {
    const e = this.entry(id);
    if (!e || e.s.dead) return;
    e.s = { ...e.s, dead: true };
    e.touched = this.t.now();
  }

  async remove(id: string): Promise<void> {
    if (this.closed) throw closedError();
    this.nodes.delete(id);
  }

  async list(): Promise<NodeView[]> {
    if (this.closed) throw closedError();
    const out: NodeView[] = [];
    for (const id of [...this.nodes.keys()]) {
      const e = this.entry(id);
      if (e) out.push(view(e.s, this.t));
    }
    return out.sort(byName);
  }

  async get(id: string): Promise<NodeView | undefined> {
    const e = this.entry(id);
    return e && view(e.s, this.t);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.nodes.clear();
  }
}

/** Writes a node key with its TTL and puts the id in the index (whose TTL only grows). */
const PUT = `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1`;

/** {@link PUT} only while the key still holds ARGV[4] (compare and set). */
const SWAP = `if redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end\n${PUT}`;

/** Drops from the index (KEYS[1]) each id ARGV[i] whose key KEYS[i + 1] has expired. */
const PRUNE = `
local n = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call('SREM', KEYS[1], ARGV[i - 1]); n = n + 1 end
end
return n`;

/**
 * Attempts of a compare-and-set before giving up (only other processes' writes of the same node
 * race it; the random waits between attempts add up to at most about a quarter of a second).
 */
const SWAP_TRIES = 8;

/**
 * {@link NodeRegistry} in Redis. Keys: `<prefix>cluster:node:<id>` (the record as JSON, with
 * the marked-dead flag; PX TTL forgetAfterMs, renewed by each heartbeat) and
 * `<prefix>cluster:nodes` (set of ids; entries whose key expired are dropped by list()).
 * Heartbeat and markDead are compare-and-set scripts, so a heartbeat racing a markDead from
 * another process cannot bring the node back. Liveness compares the reader's clock with the
 * writer's `lastSeen`: keep the control-plane machines' clocks in sync (NTP).
 */
export class RedisNodeRegistry implements NodeRegistry {
  private readonly t: Timing;
  private readonly redis: Redis;
  private readonly prefix: string;
  /** Per node id, the tail of this process's updates of it, run one at a time. */
  private readonly queues = new Map<string, Promise<void>>();
  private closed = false;

  constructor(opts: RedisNodeRegistryOptions) {
    this.t = timing(opts);
    this.redis = opts.redis;
    this.prefix = opts.prefix;
  }

  private key(id: string): string {
    return `${this.prefix}cluster:node:${id}`;
  }

  private get index(): string {
    return `${this.prefix}cluster:nodes`;
  }

  private check(): void {
    if (this.closed) throw closedError();
  }

  async register(r: Omit<NodeRecord, 'lastSeen'>): Promise<void> {
    this.check();
    const s = stored(r, this.t.now());
    await this.redis.eval(PUT, 2, this.key(s.id), this.index, s.id, JSON.stringify(s), this.t.forgetAfterMs);
  }

  /**
   * Reads `id`, lets `change` make its new value (undefined: leave it) and writes that back
   * unless another writer changed the key in between (then again). False when nothing was
   * written. This process's updates of one node are queued, so only other processes race.
   */
  private swap(id: string, change: (s: Stored) => Stored | undefined): Promise<boolean> {
    this.check();
    const run = (this.queues.get(id) ?? Promise.resolve()).then(() => this.trySwap(id, change));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, tail);
    void tail.then(() => this.queues.get(id) === tail && this.queues.delete(id));
    return run;
  }

  private async trySwap(id: string, change: (s: Stored) => Stored | undefined): Promise<boolean> {
    const key = this.key(id);
    for (let i = 0; i < SWAP_TRIES; i++) {
      const text = await this.redis.get(key);
      const s = parse(text, id);
      const next = s && change(s);
      if (text === null || next === undefined) return false;
      const ok = await this.redis.eval(
        SWAP,
        2,
        key,
        this.index,
        id,
        JSON.stringify(next),
        this.t.forgetAfterMs,
        text,
      );
      if (ok === 1) return true;
      // Another process wrote in between: wait a random 0–2^i ms so a burst of writes drains.
      await new Promise((r) => setTimeout(r, Math.random() * 2 ** i));
    }
    throw new AirError('CONFLICT', `node ${id} kept changing while being updated`);
  }

  async heartbeat(id: string, l: NodeLoad): Promise<boolean> {
    return this.swap(id, (s) => (s.dead ? undefined : { ...s, ...load(l), lastSeen: this.t.now() }));
  }

  async markDead(id: string): Promise<void> {
    await this.swap(id, (s) => (s.dead ? undefined : { ...s, dead: true }));
  }

  async remove(id: string): Promise<void> {
    this.check();
    await this.redis.multi().del(this.key(id)).srem(this.index, id).exec();
  }

  async list(): Promise<NodeView[]> {
    this.check();
    const ids = (await this.redis.smembers(this.index)).sort();
    if (ids.length === 0) return [];
    const keys = ids.map((id) => this.key(id));
    const texts = await this.redis.mget(...keys);
    const gone = ids.filter((_, i) => texts[i] === null);
    if (gone.length > 0) {
      await this.redis.eval(PRUNE, gone.length + 1, this.index, ...gone.map((id) => this.key(id)), ...gone);
    }
    const out: NodeView[] = [];
    ids.forEach((id, i) => {
      const s = parse(texts[i] ?? null, id);
      if (s) out.push(view(s, this.t));
    });
    return out.sort(byName);
  }

  async get(id: string): Promise<NodeView | undefined> {
    this.check();
    const s = parse(await this.redis.get(this.key(id)), id);
    return s && view(s, this.t);
  }

  /** Leaves the connection open (the caller owns it) and the nodes in Redis (others share them). */
  async close(): Promise<void> {
    this.closed = true;
  }
}
