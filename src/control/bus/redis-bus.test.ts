/** RedisBus against the real Redis at 127.0.0.1:6379 (TEST_REDIS_URL), with a per-run prefix. */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import { RedisBus } from './redis-bus.ts';

const URL_ = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
const logger = createLogger({ level: 'silent' });

function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (pred()) resolve();
      else if (Date.now() > until) reject(new Error('timed out'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('RedisBus', () => {
  const open: RedisBus[] = [];
  const connect = async (prefix: string, connectionName?: string) => {
    const b = await RedisBus.connect({ url: URL_, prefix, logger, connectionName });
    open.push(b);
    return b;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it('carries JSON messages between two buses (two replicas) on the same prefix only', async () => {
    const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
    const a = await connect(prefix);
    const b = await connect(prefix);
    const stranger = await connect(`${prefix}other:`);
    const got: unknown[] = [];
    const strangerGot: unknown[] = [];
    const sub = b.subscribe('class:42', (m) => got.push(m));
    stranger.subscribe('class:42', (m) => strangerGot.push(m));
    await sub.ready;
    await a.publish('class:42', { type: 'chat.message', text: '안녕', seq: 1 });
    await a.publish('class:43', { type: 'nope' });
    await waitFor(() => got.length === 1);
    expect(got).toEqual([{ type: 'chat.message', text: '안녕', seq: 1 }]);
    expect(strangerGot).toEqual([]);

    sub();
    expect(b.channelCount()).toBe(0);
    await a.publish('class:42', { seq: 2 });
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(1);
  });

  it('counts subscribers per channel and delivers to each until its own unsubscribe', async () => {
    const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
    const bus = await connect(prefix);
    const x: unknown[] = [];
    const y: unknown[] = [];
    const offX = bus.subscribe('c', (m) => x.push(m));
    const offY = bus.subscribe('c', (m) => y.push(m));
    await Promise.all([offX.ready, offY.ready]);
    await bus.publish('c', 1);
    await waitFor(() => x.length === 1 && y.length === 1);
    offX();
    await bus.publish('c', 2);
    await waitFor(() => y.length === 2);
    expect(x).toEqual([1]);
    offY();
  });

  it('resubscribes by itself after its connection is killed', async () => {
    const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
    const name = `airclass-test-${randomBytes(4).toString('hex')}`;
    const bus = await connect(prefix, name);
    let back = 0;
    bus.on('resubscribed', () => back++);
    const got: unknown[] = [];
    await bus.subscribe('c', (m) => got.push(m)).ready;
    const admin = new Redis(URL_);
    try {
      // Only this bus's subscriber: other runs may share this Redis.
      const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const id = list
        .split('\n')
        .find((l) => l.includes(` name=${name}-sub `))
        ?.match(/^id=(\d+)/)?.[1];
      expect(id).toBeDefined();
      await admin.call('CLIENT', 'KILL', 'ID', id!);
      await waitFor(() => back > 0);
      // Publish until a message gets through (the resubscription may lag the ready event).
      await waitFor(() => {
        void bus.publish('c', 'again');
        return got.length > 0;
      });
      expect(got[0]).toBe('again');
    } finally {
      admin.disconnect();
    }
  });

  it('fails to connect with a clear error and closes idempotently', async () => {
    await expect(
      RedisBus.connect({ url: 'redis://:secret@127.0.0.1:1', prefix: 'x:', logger, connectTimeoutMs: 500 }),
    ).rejects.toThrow(/Cannot connect to Redis at redis:\/\/:\[redacted\]@127\.0\.0\.1:1/);
    const bus = await connect('x:');
    await bus.close();
    await bus.close();
    await expect(bus.publish('c', 1)).rejects.toThrow(/closed/);
  });
});
