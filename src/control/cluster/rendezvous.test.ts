/** Weighted rendezvous hashing: spread, weights, minimal movement, determinism. */
import { describe, expect, it } from 'vitest';
import {
  rendezvousHash,
  rendezvousPick,
  rendezvousRank,
  rendezvousScore,
  type WeightedNode,
} from './rendezvous.ts';

const ids = Array.from({ length: 3000 }, (_, i) => `student-${i}`);

function tally(nodes: readonly WeightedNode[], keys = ids): Map<string, number> {
  const count = new Map<string, number>(nodes.map((n) => [n.id, 0]));
  for (const k of keys) {
    const n = rendezvousPick(k, nodes);
    if (n) count.set(n.id, (count.get(n.id) ?? 0) + 1);
  }
  return count;
}

describe('rendezvousHash', () => {
  it('is the first 53 bits of SHA-256(key NUL node) as a fraction, fixed across versions', () => {
    // sha256("student-1\0node-a") starts 32d1acd421c7b133; 0x32d1acd4 / 2^32 = 0.198511…
    expect(rendezvousHash('student-1', 'node-a')).toBeCloseTo(0.19851188830378313, 15);
    expect(rendezvousScore('student-1', 'node-a', 1)).toBeCloseTo(0.6184650317808302, 12);
    expect(rendezvousScore('student-1', 'node-a', 3)).toBeCloseTo(3 * 0.6184650317808302, 12);
  });

  it('stays inside (0, 1) and is spread evenly over ten buckets', () => {
    const buckets = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 20_000; i++) {
      const h = rendezvousHash(`k${i}`, 'n');
      min = Math.min(min, h);
      max = Math.max(max, h);
      buckets[Math.floor(h * 10)]!++;
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('keeps ("ab", "c") apart from ("a", "bc")', () => {
    expect(rendezvousHash('ab', 'c')).not.toBe(rendezvousHash('a', 'bc'));
  });
});

describe('rendezvousPick / rendezvousRank', () => {
  const three: WeightedNode[] = [
    { id: 'sub-a', weight: 1 },
    { id: 'sub-b', weight: 1 },
    { id: 'sub-c', weight: 1 },
  ];

  it('spreads 3000 ids over 3 equal nodes within ±15 % of 1000 each', () => {
    const count = tally(three);
    expect([...count.values()].reduce((a, b) => a + b, 0)).toBe(3000);
    for (const c of count.values()) {
      expect(c).toBeGreaterThanOrEqual(850);
      expect(c).toBeLessThanOrEqual(1150);
    }
  });

  it('moves only the removed node’s ids', () => {
    const before = new Map(ids.map((k) => [k, rendezvousPick(k, three)!.id]));
    const two = three.filter((n) => n.id !== 'sub-b');
    let moved = 0;
    for (const k of ids) {
      const now = rendezvousPick(k, two)!.id;
      if (before.get(k) === 'sub-b') {
        expect(now).not.toBe('sub-b');
        moved++;
      } else {
        expect(now).toBe(before.get(k));
      }
    }
    expect(moved).toBeGreaterThan(800);
    // The removed node's ids go to the next node in each id's own ranking.
    for (const k of ids.slice(0, 200)) {
      expect(rendezvousPick(k, two)).toBe(rendezvousRank(k, three).find((n) => n.id !== 'sub-b'));
    }
  });

  it('gives a weight-2 node about half the ids among weights 1:2:1', () => {
    const weighted: WeightedNode[] = [
      { id: 'sub-a', weight: 1 },
      { id: 'sub-b', weight: 2 },
      { id: 'sub-c', weight: 1 },
    ];
    const count = tally(weighted);
    expect(count.get('sub-b')).toBeGreaterThanOrEqual(1275);
    expect(count.get('sub-b')).toBeLessThanOrEqual(1725);
    for (const id of ['sub-a', 'sub-c']) {
      expect(count.get(id)).toBeGreaterThanOrEqual(637);
      expect(count.get(id)).toBeLessThanOrEqual(863);
    }
  });

  it('scales with weights as capacities (100 : 300)', () => {
    const count = tally([
      { id: 'small', weight: 100 },
      { id: 'big', weight: 300 },
    ]);
    expect(count.get('big')! / 3000).toBeGreaterThan(0.7);
    expect(count.get('big')! / 3000).toBeLessThan(0.8);
  });

  it('is deterministic and independent of the order nodes are listed in', () => {
    const reversed = [...three].reverse();
    for (const k of ids.slice(0, 500)) {
      const a = rendezvousPick(k, three);
      expect(rendezvousPick(k, three)).toBe(a);
      expect(rendezvousPick(k, reversed)).toBe(a);
      expect(rendezvousRank(k, reversed).map((n) => n.id)).toEqual(rendezvousRank(k, three).map((n) => n.id));
      expect(rendezvousRank(k, three)[0]).toBe(a);
    }
  });

  it('leaves out nodes whose weight is zero, negative or not finite', () => {
    const nodes: WeightedNode[] = [
      { id: 'zero', weight: 0 },
      { id: 'neg', weight: -5 },
      { id: 'nan', weight: Number.NaN },
      { id: 'inf', weight: Infinity },
      { id: 'ok', weight: 1 },
    ];
    for (const k of ids.slice(0, 100)) {
      expect(rendezvousPick(k, nodes)?.id).toBe('ok');
      expect(rendezvousRank(k, nodes).map((n) => n.id)).toEqual(['ok']);
    }
    expect(rendezvousPick('x', nodes.slice(0, 4))).toBeUndefined();
    expect(rendezvousPick('x', [])).toBeUndefined();
    expect(rendezvousRank('x', [])).toEqual([]);
  });

  it('returns the caller’s own objects, with their extra fields', () => {
    const nodes = [{ id: 'a', weight: 1, url: 'http://a' }];
    expect(rendezvousPick('k', nodes)).toBe(nodes[0]);
    expect(rendezvousRank('k', nodes)[0]!.url).toBe('http://a');
  });
});
