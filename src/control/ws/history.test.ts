/** The recent history, in memory and in the real Redis (per-run prefix). */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryHistory, type EventHistory } from './history.ts';
import { RedisHistory } from './redis-history.ts';

const redis = new Redis(process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379', { lazyConnect: true });
const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;

afterAll(async () => {
  if (redis.status === 'ready') {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

const kinds: Array<[string, (perClass: number) => EventHistory]> = [
  ['memory', (perClass) => new MemoryHistory({ perClass, maxClasses: 2 })],
  [
    'redis',
    (perClass) =>
      new RedisHistory({ redis, prefix: `${prefix}${randomBytes(3).toString('hex')}:`, perClass }),
  ],
];

describe.each(kinds)('%s history', (_name, make) => {
  it('returns events after a seq in order, bounded, and says when some were dropped', async () => {
    const h = make(3);
    for (const seq of [2, 5, 4, 9])
      await h.append('c1', { seq, type: 'chat.locked', locked: seq > 4 } as never);
    await h.append('c2', { seq: 1, type: 'class.started' });
    const all = await h.since('c1', 0);
    expect(all.events.map((e) => e.seq)).toEqual([4, 5, 9]);
    expect(all.truncated).toBe(true); // seq 2 was dropped
    expect(await h.since('c1', 2)).toMatchObject({ truncated: false });
    const after4 = await h.since('c1', 4);
    expect(after4).toEqual({
      events: [
        { seq: 5, type: 'chat.locked', locked: true },
        { seq: 9, type: 'chat.locked', locked: true },
      ],
      truncated: false,
    });
    expect(await h.since('c1', 9)).toEqual({ events: [], truncated: false });
    expect(await h.since('nobody', 0)).toEqual({ events: [], truncated: false });
    expect((await h.since('c2', 0)).events).toEqual([{ seq: 1, type: 'class.started' }]);
  });

  it('keeps flags per class', async () => {
    const h = make(10);
    expect(await h.flags('c1')).toEqual({});
    await h.setFlag('c1', 'streamLive', '1');
    await h.setFlag('c1', 'streamLive', '0');
    await h.setFlag('c1', 'other', 'x');
    expect(await h.flags('c1')).toEqual({ streamLive: '0', other: 'x' });
    expect(await h.flags('c2')).toEqual({});
  });
});

describe('memory history', () => {
  it('forgets the least recently written class past maxClasses', async () => {
    const h = new MemoryHistory({ perClass: 5, maxClasses: 2 });
    await h.append('a', { seq: 1, type: 'class.started' });
    await h.append('b', { seq: 1, type: 'class.started' });
    await h.append('a', { seq: 2, type: 'class.ended' });
    await h.append('c', { seq: 1, type: 'class.started' });
    expect((await h.since('b', 0)).events).toEqual([]);
    expect((await h.since('a', 0)).events).toHaveLength(2);
  });
});
