import { describe, expect, it } from 'vitest';
import { InProcessBus } from './bus.ts';

describe('InProcessBus', () => {
  it('delivers JSON copies to every subscriber of the channel, later, and not to others', async () => {
    const bus = new InProcessBus();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const other: unknown[] = [];
    bus.subscribe('class:1', (m) => a.push(m));
    const offB = bus.subscribe('class:1', (m) => b.push(m));
    bus.subscribe('class:2', (m) => other.push(m));
    const msg = { type: 'chat', at: new Date(0), n: 1 };
    const p = bus.publish('class:1', msg);
    expect(a).toEqual([]); // never synchronously
    await p;
    expect(a).toEqual([{ type: 'chat', at: '1970-01-01T00:00:00.000Z', n: 1 }]);
    expect(a[0]).not.toBe(msg);
    expect(b).toEqual(a);
    expect(other).toEqual([]);
    offB();
    offB(); // idempotent
    await bus.publish('class:1', { n: 2 });
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(1);
    await bus.close();
  });

  it('keeps delivering when a handler throws, reporting the error', async () => {
    const errors: unknown[] = [];
    const bus = new InProcessBus({ onError: (e) => errors.push(e) });
    const got: unknown[] = [];
    bus.subscribe('c', () => {
      throw new Error('boom');
    });
    bus.subscribe('c', (m) => got.push(m));
    await bus.publish('c', 1);
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('forgets a channel with no subscribers and refuses use after close', async () => {
    const bus = new InProcessBus();
    const off = bus.subscribe('c', () => undefined);
    await off.ready;
    expect(bus.channelCount()).toBe(1);
    off();
    expect(bus.channelCount()).toBe(0);
    await bus.close();
    await bus.close();
    await expect(bus.publish('c', 1)).rejects.toThrow(/closed/);
    expect(() => bus.subscribe('c', () => undefined)).toThrow(/closed/);
  });
});
