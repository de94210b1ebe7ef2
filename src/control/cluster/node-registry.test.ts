/**
 * The node registry, in memory (fake clock) and in the real Redis at 127.0.0.1:6379 (real time,
 * 200 ms heartbeats, a per-test prefix, two connections standing for two control planes).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import {
  MemoryNodeRegistry,
  RedisNodeRegistry,
  type NodeLoad,
  type NodeRecord,
  type NodeRegistry,
} from './node-registry.ts';

const URL_ = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const base = `airclass-test-${randomBytes(4).toString('hex')}:`;
const HB = 200;
const MISSED = 3;
const FORGET = 1500;
const timing = { heartbeatMs: HB, missed: MISSED, forgetAfterMs: FORGET };

const redisA = new Redis(URL_);
const redisB = new Redis(URL_);

afterAll(async () => {
  const keys = await redisA.keys(`${base}*`);
  if (keys.length) await redisA.del(...keys);
  redisA.disconnect();
  redisB.disconnect();
});

/** One registry, another view of it (another process for Redis), and a way to let time pass. */
interface Harness {
  reg: NodeRegistry;
  peer: NodeRegistry;
  prefix?: string;
  advance(ms: number): Promise<void>;
}

function memory(): Harness {
  let t = 1_700_000_000_000;
  const reg = new MemoryNodeRegistry({ ...timing, now: () => t });
  return {
    reg,
    peer: reg,
    advance: async (ms) => {
      t += ms;
    },
  };
}

function redis(): Harness {
  const prefix = `${base}${randomBytes(3).toString('hex')}:`;
  return {
    reg: new RedisNodeRegistry({ redis: redisA, prefix, ...timing }),
    peer: new RedisNodeRegistry({ redis: redisB, prefix, ...timing }),
    prefix,
    advance: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

function node(id: string, over: Partial<NodeRecord> = {}): Omit<NodeRecord, 'lastSeen'> {
  return {
    id,
    name: `sub ${id}`,
    httpUrl: `http://10.0.0.5:800${id.length}`,
    rtspUrl: 'rtsp://10.0.0.5:8554',
    capacity: 200,
    startedAt: 1_700_000_000_000,
    viewers: 0,
    cpu: 0,
    paths: [],
    ...over,
  };
}

const idle: NodeLoad = { viewers: 0, cpu: 1, paths: [] };

describe.each([
  ['memory', memory],
  ['redis', redis],
])('%s node registry', (_name, make) => {
  it('lists a registered node alive with its record; unknown ids are undefined', async () => {
    const { reg, peer } = make();
    const before = Date.now();
    await reg.register(node('a', { paths: ['live/math'] }));
    const [v] = await peer.list();
    expect(v).toMatchObject({
      id: 'a',
      name: 'sub a',
      httpUrl: 'http://10.0.0.5:8001',
      rtspUrl: 'rtsp://10.0.0.5:8554',
      capacity: 200,
      startedAt: 1_700_000_000_000,
      viewers: 0,
      cpu: 0,
      paths: ['live/math'],
      state: 'alive',
    });
    expect(v!.lastSeen).toBeGreaterThanOrEqual(reg instanceof RedisNodeRegistry ? before : 0);
    expect(await peer.get('a')).toEqual(v);
    expect(await reg.get('nope')).toBeUndefined();
    expect(await reg.list()).toHaveLength(1);
  });

  it('records the load of each heartbeat, clamping wrong numbers', async () => {
    const { reg, peer } = make();
    await reg.register(node('a'));
    expect(await reg.heartbeat('a', { viewers: 41.6, cpu: 37.5, paths: ['p1', 'p2', 'p1'] })).toBe(true);
    expect(await peer.get('a')).toMatchObject({ viewers: 42, cpu: 37.5, paths: ['p1', 'p2'] });
    const bad = { viewers: -3, cpu: 250, paths: ['ok', 7, null] } as unknown as NodeLoad;
    expect(await reg.heartbeat('a', bad)).toBe(true);
    expect(await peer.get('a')).toMatchObject({ viewers: 0, cpu: 100, paths: ['ok'] });
    expect(await reg.heartbeat('a', { viewers: NaN, cpu: NaN, paths: [] })).toBe(true);
    expect(await peer.get('a')).toMatchObject({ viewers: 0, cpu: 0 });
    expect(await reg.heartbeat('never-registered', idle)).toBe(false);
    expect(await reg.get('never-registered')).toBeUndefined();
  });

  it('keeps the viewers per path a heartbeat reports (the console counts the whole class)', async () => {
    const { reg, peer } = make();
    await reg.register(node('a'));
    const l = { viewers: 5, cpu: 1, paths: ['live/x', 'live/y'], pathViewers: { 'live/x': 3, 'live/y': 2 } };
    expect(await reg.heartbeat('a', l)).toBe(true);
    expect((await peer.get('a'))!.pathViewers).toEqual({ 'live/x': 3, 'live/y': 2 });
    const bad = { ...l, pathViewers: { 'live/x': -4, 'live/y': 'many' } } as unknown as NodeLoad;
    expect(await reg.heartbeat('a', bad)).toBe(true);
    expect((await peer.get('a'))!.pathViewers).toEqual({ 'live/x': 0, 'live/y': 0 });
  });

  it('clamps the registered capacity and viewers', async () => {
    const { reg } = make();
    await reg.register(node('a', { capacity: -10, viewers: -1, cpu: -5 }));
    expect(await reg.get('a')).toMatchObject({ capacity: 0, viewers: 0, cpu: 0 });
  });

  it('is dead after heartbeatMs × missed of silence, and alive again on a heartbeat', async () => {
    const { reg, peer, advance } = make();
    await reg.register(node('a'));
    await advance(300);
    expect((await peer.get('a'))!.state).toBe('alive');
    expect(await reg.heartbeat('a', idle)).toBe(true);
    await advance(350);
    expect((await peer.get('a'))!.state).toBe('alive');
    await advance(450);
    expect((await peer.get('a'))!.state).toBe('dead');
    expect((await peer.list())[0]!.state).toBe('dead');
    expect(await reg.heartbeat('a', idle)).toBe(true);
    expect((await peer.get('a'))!.state).toBe('alive');
  });

  it('marks a node dead for every process until it registers again', async () => {
    const { reg, peer } = make();
    await reg.register(node('a'));
    await reg.register(node('b'));
    await peer.markDead('a');
    expect((await reg.get('a'))!.state).toBe('dead');
    expect((await reg.get('b'))!.state).toBe('alive');
    expect(await reg.heartbeat('a', idle)).toBe(false);
    expect(await peer.heartbeat('a', idle)).toBe(false);
    expect((await reg.list()).map((n) => [n.id, n.state])).toEqual([
      ['a', 'dead'],
      ['b', 'alive'],
    ]);
    await peer.markDead('a');
    await peer.markDead('unknown');
    await reg.register(node('a', { name: 'sub a again' }));
    expect(await reg.get('a')).toMatchObject({ state: 'alive', name: 'sub a again' });
    expect(await peer.heartbeat('a', idle)).toBe(true);
  });

  it('replaces a node that registers again (a restart)', async () => {
    const { reg, peer } = make();
    await reg.register(node('a', { capacity: 100, startedAt: 1 }));
    await reg.heartbeat('a', { viewers: 50, cpu: 60, paths: ['x'] });
    await peer.register(node('a', { capacity: 300, startedAt: 2, rtspUrl: undefined }));
    const v = await reg.get('a');
    expect(v).toMatchObject({ capacity: 300, startedAt: 2, viewers: 0, paths: [] });
    expect(v).not.toHaveProperty('rtspUrl');
    expect(await reg.list()).toHaveLength(1);
  });

  it('lists by name, then id', async () => {
    const { reg, peer } = make();
    await reg.register(node('z', { name: 'alpha' }));
    await reg.register(node('c', { name: 'gamma' }));
    await reg.register(node('b', { name: 'beta' }));
    await reg.register(node('a', { name: 'beta' }));
    expect((await peer.list()).map((n) => n.id)).toEqual(['z', 'a', 'b', 'c']);
  });

  it('forgets a silent node forgetAfterMs after its last heartbeat, keeping the live ones', async () => {
    const { reg, peer, advance } = make();
    await reg.register(node('live'));
    await reg.register(node('silent'));
    for (let i = 0; i < 3; i++) {
      await advance(400);
      expect(await reg.heartbeat('live', idle)).toBe(true);
    }
    expect((await peer.list()).map((n) => [n.id, n.state])).toEqual([
      ['live', 'alive'],
      ['silent', 'dead'],
    ]);
    await advance(500);
    expect(await reg.heartbeat('live', idle)).toBe(true);
    expect((await peer.list()).map((n) => n.id)).toEqual(['live']);
    expect(await peer.get('silent')).toBeUndefined();
    expect(await reg.heartbeat('silent', idle)).toBe(false);
  });

  it('forgets a marked node forgetAfterMs after it was marked', async () => {
    const { reg, peer, advance } = make();
    await reg.register(node('a'));
    await advance(900);
    await peer.markDead('a');
    await advance(900);
    expect((await reg.get('a'))?.state).toBe('dead');
    await advance(800);
    expect(await reg.get('a')).toBeUndefined();
    expect(await reg.list()).toEqual([]);
  });

  it('removes a node at once', async () => {
    const { reg, peer } = make();
    await reg.register(node('a'));
    await reg.register(node('b'));
    await peer.remove('a');
    await peer.remove('unknown');
    expect(await reg.get('a')).toBeUndefined();
    expect((await reg.list()).map((n) => n.id)).toEqual(['b']);
    expect(await reg.heartbeat('a', idle)).toBe(false);
  });

  it('hands out copies: changing a view changes nothing stored', async () => {
    const { reg } = make();
    await reg.register(node('a', { paths: ['x'] }));
    const v = (await reg.get('a'))!;
    v.paths.push('y');
    v.viewers = 99;
    expect(await reg.get('a')).toMatchObject({ paths: ['x'], viewers: 0 });
  });

  it('closes idempotently and refuses work afterwards', async () => {
    const { reg } = make();
    await reg.register(node('a'));
    await reg.close();
    await reg.close();
    await expect(reg.list()).rejects.toThrow(/closed/);
    await expect(reg.heartbeat('a', idle)).rejects.toThrow(/closed/);
  });
});

describe('node registry options', () => {
  it('refuses a forgetAfterMs shorter than the time to die, and bad heartbeat settings', () => {
    const bad = [
      { heartbeatMs: 5000, missed: 3, forgetAfterMs: 10_000 },
      { heartbeatMs: 0 },
      { missed: 0 },
      { missed: 1.5 },
    ];
    for (const o of bad) {
      expect(() => new MemoryNodeRegistry(o)).toThrow();
      try {
        new RedisNodeRegistry({ redis: redisA, prefix: base, ...o });
        expect.unreachable();
      } catch (e) {
        expect(isAirError(e, 'CONFIG_INVALID')).toBe(true);
      }
    }
    expect(() => new MemoryNodeRegistry()).not.toThrow();
  });
});

describe('RedisNodeRegistry in Redis', () => {
  it('keeps one JSON key per node with a TTL of forgetAfterMs, and an index of ids', async () => {
    const { reg, prefix } = redis();
    await reg.register(node('a'));
    const ttl = await redisA.pttl(`${prefix}cluster:node:a`);
    expect(ttl).toBeGreaterThan(FORGET - 300);
    expect(ttl).toBeLessThanOrEqual(FORGET);
    expect(JSON.parse((await redisA.get(`${prefix}cluster:node:a`))!)).toMatchObject({
      id: 'a',
      dead: false,
    });
    expect(await redisA.smembers(`${prefix}cluster:nodes`)).toEqual(['a']);
    expect(await redisA.pttl(`${prefix}cluster:nodes`)).toBeGreaterThan(0);
  });

  it('drops index entries whose key expired', async () => {
    const { reg, prefix } = redis();
    await reg.register(node('a'));
    await reg.register(node('b'));
    await redisA.del(`${prefix}cluster:node:a`); // as if its TTL ran out
    expect((await reg.list()).map((n) => n.id)).toEqual(['b']);
    expect(await redisA.smembers(`${prefix}cluster:nodes`)).toEqual(['b']);
  });

  it('skips corrupt or foreign values instead of failing', async () => {
    const { reg, peer, prefix } = redis();
    await reg.register(node('good'));
    const put = async (id: string, text: string) => {
      await redisA.set(`${prefix}cluster:node:${id}`, text, 'PX', 10_000);
      await redisA.sadd(`${prefix}cluster:nodes`, id);
    };
    await put('garbage', '{not json');
    await put('null', 'null');
    await put('other', JSON.stringify({ ...node('someone-else'), lastSeen: 1, dead: false }));
    await put('shape', JSON.stringify({ id: 'shape', name: 'x', capacity: 'lots' }));
    expect((await peer.list()).map((n) => n.id)).toEqual(['good']);
    for (const id of ['garbage', 'null', 'other', 'shape']) {
      expect(await peer.get(id)).toBeUndefined();
      expect(await peer.heartbeat(id, idle)).toBe(false);
      await peer.markDead(id);
    }
    expect(await redisA.get(`${prefix}cluster:node:garbage`)).toBe('{not json');
  });

  it('lets no heartbeat racing a markDead bring the node back', async () => {
    for (let round = 0; round < 10; round++) {
      const { reg, peer } = redis();
      await reg.register(node('a'));
      const beats = Array.from({ length: 20 }, (_, i) =>
        reg.heartbeat('a', { viewers: i, cpu: 1, paths: [] }),
      );
      await Promise.all([...beats, peer.markDead('a')]);
      expect((await reg.get('a'))!.state).toBe('dead');
      expect(await reg.heartbeat('a', idle)).toBe(false);
    }
  });

  it('takes concurrent heartbeats of one node from two processes, each in order', async () => {
    const { reg, peer } = redis();
    await reg.register(node('a'));
    const all = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? reg : peer).heartbeat('a', { viewers: i, cpu: 1, paths: [] }),
      ),
    );
    expect(all.every((ok) => ok)).toBe(true);
    // Each process writes its own in order, so the last write is the last of one of them.
    expect([28, 29]).toContain((await reg.get('a'))!.viewers);
  });

  it('keeps prefixes apart', async () => {
    const one = redis();
    const two = redis();
    await one.reg.register(node('a'));
    expect(await two.reg.list()).toEqual([]);
    expect(await two.reg.heartbeat('a', idle)).toBe(false);
  });
});
