/** The roster, in memory and in the real Redis (per-run prefix), with a crashed replica. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import type { RosterEntry } from './messages.ts';
import { MemoryPresence, type PresenceStore } from './presence.ts';
import { RedisPresence } from './redis-presence.ts';

const redis = new Redis(process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379');
const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
const logger = createLogger({ level: 'silent' });
const opened: PresenceStore[] = [];

afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function entry(id: string, joinedAt: string, name = id): RosterEntry {
  return { id, name, role: 'student', joinedAt };
}

function redisPresence(p: string, nodeTtlMs = 30_000): RedisPresence {
  const r = new RedisPresence({
    redis,
    prefix: p,
    nodeId: randomBytes(4).toString('hex'),
    logger,
    nodeTtlMs,
  });
  opened.push(r);
  return r;
}

describe.each([
  ['memory', () => new MemoryPresence()],
  ['redis', () => redisPresence(`${prefix}${randomBytes(3).toString('hex')}:`)],
] as Array<[string, () => PresenceStore]>)('%s presence', (_name, make) => {
  it('adds, lists by join time, and removes', async () => {
    const p = make();
    await p.add('c', entry('b', '2025-01-01T09:00:01.000Z'));
    await p.add('c', entry('a', '2025-01-01T09:00:00.000Z', '민지'));
    await p.add('other', entry('z', '2025-01-01T09:00:00.000Z'));
    expect((await p.list('c')).map((e) => e.name)).toEqual(['민지', 'b']);
    expect(await p.has('c', 'a')).toBe(true);
    expect(await p.remove('c', 'a')).toBe(true);
    expect(await p.remove('c', 'a')).toBe(false);
    expect(await p.has('c', 'a')).toBe(false);
    expect((await p.list('c')).map((e) => e.id)).toEqual(['b']);
    expect(await p.list('empty')).toEqual([]);
  });
});

describe('redis presence across replicas', () => {
  it('shows every replica’s sockets and drops those of a replica that stopped beating', async () => {
    const p = `${prefix}x:`;
    const a = redisPresence(p);
    const b = redisPresence(p, 300);
    await a.add('c', entry('from-a', '2025-01-01T09:00:00.000Z'));
    await b.add('c', entry('from-b', '2025-01-01T09:00:01.000Z'));
    expect((await a.list('c')).map((e) => e.id)).toEqual(['from-a', 'from-b']);
    await b.close(); // as if it crashed: its entry stays, its heartbeat is gone
    expect((await a.list('c')).map((e) => e.id)).toEqual(['from-a']);
    expect(await redis.hexists(`${p}presence:c`, 'from-b')).toBe(0); // cleaned up
  });
});
