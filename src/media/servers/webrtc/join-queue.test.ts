import { afterEach, describe, expect, it, vi } from 'vitest';
import { AirError } from '../../../shared/errors.ts';
import { JoinQueue, type JoinLimits } from './join-queue.ts';

/**
 * The join queue: first come first served, a bounded number of handshakes at once, and caps
 * per token and per address that refuse with 503 + Retry-After without blocking anyone else.
 */

const limits = (o: Partial<JoinLimits> = {}): JoinLimits => ({
  maxInFlight: 2,
  maxQueued: 100,
  perToken: 100,
  perAddress: 100,
  maxWaitMs: 60_000,
  ...o,
});

/** Lets settled promises run their callbacks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Tracks an acquire: its release once granted, or its error. */
function track(p: Promise<() => void>): { release?: () => void; error?: unknown; readonly done: boolean } {
  const t: { release?: () => void; error?: unknown; done: boolean } = { done: false };
  p.then(
    (r) => {
      t.release = r;
      t.done = true;
    },
    (e: unknown) => {
      t.error = e;
      t.done = true;
    },
  );
  return t;
}

async function expectCapacity(p: Promise<unknown>, message?: RegExp): Promise<AirError> {
  const e = await p.then(
    () => {
      throw new Error('expected CAPACITY');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AirError);
  const a = e as AirError;
  expect(a.code).toBe('CAPACITY');
  expect(a.status).toBe(503);
  expect(Number(a.headers['Retry-After'])).toBeGreaterThan(0);
  if (message) expect(a.message).toMatch(message);
  return a;
}

describe('JoinQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets joins in first come, first served; a newcomer does not pass a waiting join', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 2 }));
    const order: string[] = [];
    const joins = new Map<string, () => void>();
    const join = (name: string): void => {
      void q.acquire(`tok-${name}`, `10.0.0.${name.charCodeAt(0)}`).then((release) => {
        order.push(name);
        joins.set(name, release);
      });
    };
    for (const n of ['a', 'b', 'c', 'd', 'e']) join(n);
    await settle();
    expect(order).toEqual(['a', 'b']);
    expect(q.stats).toEqual({ inFlight: 2, queued: 3 });
    joins.get('b')!();
    await settle();
    expect(order).toEqual(['a', 'b', 'c']);
    // f arrives while d and e wait: it queues behind them even when a slot frees.
    join('f');
    joins.get('a')!();
    await settle();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    joins.get('c')!();
    joins.get('d')!();
    await settle();
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(q.stats).toEqual({ inFlight: 2, queued: 0 });
  });

  it('never has more than maxInFlight handshakes, whatever the release order', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 3 }));
    let held = 0;
    let most = 0;
    let granted = 0;
    const releases: (() => void)[] = [];
    for (let i = 0; i < 100; i++) {
      void q.acquire(`t${i}`, `a${i % 7}`).then((r) => {
        held++;
        granted++;
        most = Math.max(most, held);
        releases.push(() => {
          held--;
          r();
        });
      });
    }
    let seed = 5;
    while (granted < 100 || releases.length) {
      await settle();
      expect(q.stats.inFlight).toBeLessThanOrEqual(3);
      expect(q.stats.inFlight).toBe(held);
      if (releases.length) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        releases.splice(seed % releases.length, 1)[0]!();
      }
    }
    expect(granted).toBe(100);
    expect(most).toBe(3);
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });

  it('caps pending joins per token with CAPACITY and Retry-After, counting queued ones too', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 1, perToken: 2 }));
    const first = await q.acquire('student', '10.0.0.1');
    const second = track(q.acquire('student', '10.0.0.2')); // queued
    await settle();
    expect(second.done).toBe(false);
    await expectCapacity(q.acquire('student', '10.0.0.3'), /token/);
    first();
    await settle();
    expect(second.release).toBeDefined();
    // One of the two is done: the token may join again.
    const third = track(q.acquire('student', '10.0.0.4'));
    await settle();
    expect(third.error).toBeUndefined();
    second.release!();
    await settle();
    expect(third.release).toBeDefined();
    third.release!();
  });

  it('caps pending joins per address with CAPACITY and Retry-After', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 10, perAddress: 3 }));
    const rs = await Promise.all([1, 2, 3].map((i) => q.acquire(`t${i}`, '203.0.113.9')));
    await expectCapacity(q.acquire('t4', '203.0.113.9'), /address/);
    // Another address is not affected.
    const other = await q.acquire('t5', '198.51.100.1');
    rs[0]!();
    const again = await q.acquire('t6', '203.0.113.9');
    for (const r of [...rs, other, again]) r();
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });

  it("a token at its cap does not stop another token's join", async () => {
    const q = new JoinQueue(limits({ maxInFlight: 3, perToken: 2, perAddress: 10 }));
    const mine = await Promise.all([q.acquire('class-a', '10.0.0.1'), q.acquire('class-a', '10.0.0.1')]);
    await expectCapacity(q.acquire('class-a', '10.0.0.1'));
    await expectCapacity(q.acquire('class-a', '10.0.0.2'));
    // Same address, other token: in at once.
    const theirs = await q.acquire('class-b', '10.0.0.1');
    expect(q.stats.inFlight).toBe(3);
    // With every slot taken, the other token still queues (is not refused) and gets the next slot.
    const next = track(q.acquire('class-c', '10.0.0.3'));
    await settle();
    expect(next.done).toBe(false);
    mine[0]!();
    await settle();
    expect(next.release).toBeDefined();
    for (const r of [mine[1]!, theirs, next.release!]) r();
  });

  it('refuses past maxQueued, and the refused join holds nothing', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 1, maxQueued: 2, perToken: 1, perAddress: 1 }));
    const r = await q.acquire('a', 'x');
    const w1 = track(q.acquire('b', 'y'));
    const w2 = track(q.acquire('c', 'z'));
    await expectCapacity(q.acquire('d', 'w'), /at once/);
    // d's token and address counts were given back: once there is room it may queue.
    r();
    await settle();
    const w3 = track(q.acquire('d', 'w'));
    await settle();
    expect(w3.error).toBeUndefined();
    expect(q.stats).toEqual({ inFlight: 1, queued: 2 });
    for (const w of [w1, w2, w3]) {
      await settle();
      expect(w.release).toBeDefined();
      w.release!();
    }
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });

  it('times a queued join out with CAPACITY after maxWaitMs, and gives back its share', async () => {
    vi.useFakeTimers();
    const q = new JoinQueue(limits({ maxInFlight: 1, perToken: 1, perAddress: 1, maxWaitMs: 5000 }));
    const held = await q.acquire('t1', 'a1');
    const waiting = q.acquire('t2', 'a2');
    const refused = expectCapacity(waiting, /at once/);
    await vi.advanceTimersByTimeAsync(4999);
    expect(q.stats).toEqual({ inFlight: 1, queued: 1 });
    await vi.advanceTimersByTimeAsync(1);
    await refused;
    expect(q.stats).toEqual({ inFlight: 1, queued: 0 });
    // t2 and a2 are free again (perToken and perAddress are 1).
    const retry = q.acquire('t2', 'a2');
    held();
    (await retry)();
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });

  it('a join let in before its wait ends is not timed out later', async () => {
    vi.useFakeTimers();
    const q = new JoinQueue(limits({ maxInFlight: 1, maxWaitMs: 1000 }));
    const held = await q.acquire('t1', 'a1');
    const next = track(q.acquire('t2', 'a2'));
    await vi.advanceTimersByTimeAsync(500);
    held();
    await vi.advanceTimersByTimeAsync(5000);
    expect(next.error).toBeUndefined();
    expect(next.release).toBeDefined();
    expect(q.stats).toEqual({ inFlight: 1, queued: 0 });
    next.release!();
  });

  it('release is idempotent and lets exactly the next join in', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 1, perToken: 1 }));
    const r = await q.acquire('t1', 'a');
    const b = track(q.acquire('t2', 'a'));
    const c = track(q.acquire('t3', 'a'));
    r();
    r();
    r();
    await settle();
    expect(b.release).toBeDefined();
    expect(c.done).toBe(false);
    expect(q.stats).toEqual({ inFlight: 1, queued: 1 });
    // t1 released once: it may join again (queued behind t3).
    const d = track(q.acquire('t1', 'a'));
    await settle();
    expect(d.error).toBeUndefined();
    b.release!();
    b.release!();
    await settle();
    expect(c.release).toBeDefined();
    expect(d.done).toBe(false);
    c.release!();
    await settle();
    d.release!();
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });

  it('close() refuses the waiting joins and every later one; in-flight releases stay harmless', async () => {
    const q = new JoinQueue(limits({ maxInFlight: 1 }));
    const held = await q.acquire('t1', 'a');
    const waiting = [q.acquire('t2', 'b'), q.acquire('t3', 'c')];
    q.close();
    for (const w of waiting) await expectCapacity(w, /shutting down/);
    expect(q.stats.queued).toBe(0);
    await expectCapacity(q.acquire('t4', 'd'), /shutting down/);
    held();
    held();
    expect(q.stats).toEqual({ inFlight: 0, queued: 0 });
  });
});
