/** Student → node assignment and the book of who went where. */
import { describe, expect, it } from 'vitest';
import { assign, AssignmentBook, MAIN_NODE, type Assignment } from './assignment.ts';
import type { NodeView } from './node-registry.ts';

function sub(id: string, over: Partial<NodeView> = {}): NodeView {
  return {
    id,
    name: `sub ${id}`,
    httpUrl: `http://10.0.0.${id.charCodeAt(0) % 250}:8001`,
    capacity: 100,
    startedAt: 0,
    lastSeen: 0,
    viewers: 0,
    cpu: 0,
    paths: ['live/math'],
    state: 'alive',
    ...over,
  };
}

const keys = Array.from({ length: 300 }, (_, i) => `participant-${i}`);
const nodeId = (a: Assignment) => (a.kind === 'node' ? a.node.id : a.kind);

describe('assign', () => {
  const subs = [sub('a'), sub('b'), sub('c')];

  it('sends a student to the same node each time while it lives', () => {
    for (const k of keys) {
      const first = assign(k, subs, { mainHasRoom: true });
      expect(first.kind).toBe('node');
      expect(assign(k, subs, { mainHasRoom: true })).toEqual(first);
      expect(assign(k, [...subs].reverse(), { mainHasRoom: false })).toEqual(first);
    }
    const used = new Set(keys.map((k) => nodeId(assign(k, subs, { mainHasRoom: true }))));
    expect(used).toEqual(new Set(['a', 'b', 'c']));
  });

  it('moves only the students of a node that died', () => {
    const before = new Map(keys.map((k) => [k, nodeId(assign(k, subs, { mainHasRoom: true }))]));
    const after = subs.map((n) => (n.id === 'b' ? { ...n, state: 'dead' as const } : n));
    let moved = 0;
    for (const k of keys) {
      const now = nodeId(assign(k, after, { mainHasRoom: true }));
      if (before.get(k) === 'b') {
        expect(['a', 'c']).toContain(now);
        moved++;
      } else {
        expect(now).toBe(before.get(k));
      }
    }
    expect(moved).toBeGreaterThan(50);
  });

  it('skips full nodes, moving only their students', () => {
    const before = new Map(keys.map((k) => [k, nodeId(assign(k, subs, { mainHasRoom: true }))]));
    const full = subs.map((n) => (n.id === 'c' ? { ...n, viewers: 100 } : n));
    const over = subs.map((n) => (n.id === 'c' ? { ...n, viewers: 140 } : n));
    for (const nodes of [full, over]) {
      for (const k of keys) {
        const now = nodeId(assign(k, nodes, { mainHasRoom: true }));
        expect(now).not.toBe('c');
        if (before.get(k) !== 'c') expect(now).toBe(before.get(k));
      }
    }
  });

  it('skips excluded nodes', () => {
    const exclude = new Set(['a']);
    const before = new Map(keys.map((k) => [k, nodeId(assign(k, subs, { mainHasRoom: true }))]));
    for (const k of keys) {
      const now = nodeId(assign(k, subs, { exclude, mainHasRoom: true }));
      expect(now).not.toBe('a');
      if (before.get(k) !== 'a') expect(now).toBe(before.get(k));
    }
  });

  it('weights nodes by capacity', () => {
    const nodes = [sub('small', { capacity: 50 }), sub('big', { capacity: 150 })];
    const big = keys.filter((k) => nodeId(assign(k, nodes, { mainHasRoom: true })) === 'big');
    expect(big.length / keys.length).toBeGreaterThan(0.65);
    expect(big.length / keys.length).toBeLessThan(0.85);
  });

  it('hands the node view itself back', () => {
    const a = assign('k', subs, { mainHasRoom: true });
    expect(a.kind === 'node' && subs.includes(a.node)).toBe(true);
  });

  it('uses the main when there is no alive sub, or all are excluded', () => {
    const opts = { mainHasRoom: true };
    expect(assign('k', [], opts)).toEqual({ kind: 'main' });
    const dead = subs.map((n) => ({ ...n, state: 'dead' as const }));
    expect(assign('k', dead, opts)).toEqual({ kind: 'main' });
    expect(assign('k', subs, { ...opts, exclude: new Set(['a', 'b', 'c']) })).toEqual({
      kind: 'main',
    });
    expect(assign('k', [sub('z', { capacity: 0 })], opts)).toEqual({ kind: 'main' });
  });

  it('uses the main when every sub is full and it has room; else full, retry in 5 s', () => {
    const full = subs.map((n) => ({ ...n, viewers: n.capacity }));
    expect(assign('k', full, { mainHasRoom: true })).toEqual({ kind: 'main' });
    expect(assign('k', full, { mainHasRoom: false })).toEqual({ kind: 'full', retryAfterS: 5 });
    expect(assign('k', [], { mainHasRoom: false })).toEqual({ kind: 'full', retryAfterS: 5 });
  });

  it('still picks a sub with room when the main has none', () => {
    const nodes = [sub('a', { viewers: 100 }), sub('b', { viewers: 99 })];
    for (const k of keys.slice(0, 20)) {
      expect(nodeId(assign(k, nodes, { mainHasRoom: false }))).toBe('b');
    }
  });
});

describe('AssignmentBook', () => {
  it('counts students per node and remembers each one’s last node', () => {
    const book = new AssignmentBook();
    book.record('s1', 'a');
    book.record('s2', 'a');
    book.record('s3', 'b');
    book.record('s4', MAIN_NODE);
    expect(book.countByNode()).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
        ['main', 1],
      ]),
    );
    book.record('s2', 'b');
    expect(book.nodeOf('s2')).toBe('b');
    expect(book.countByNode().get('a')).toBe(1);
    expect(book.countByNode().get('b')).toBe(2);
    expect(book.nodeOf('nobody')).toBeUndefined();
    expect(book.size).toBe(4);
  });

  it('forgets a node’s students, and one student', () => {
    const book = new AssignmentBook();
    for (const k of keys) book.record(k, nodeId(assign(k, [sub('a'), sub('b')], { mainHasRoom: true })));
    const onA = keys.filter((k) => book.nodeOf(k) === 'a');
    book.forgetNode('a');
    expect(book.countByNode().has('a')).toBe(false);
    expect(book.countByNode().get('b')).toBe(keys.length - onA.length);
    for (const k of onA) expect(book.nodeOf(k)).toBeUndefined();
    book.forgetNode('unknown');
    const onB = keys.find((k) => book.nodeOf(k) === 'b')!;
    expect(book.forget(onB)).toBe(true);
    expect(book.forget(onB)).toBe(false);
    expect(book.countByNode().get('b')).toBe(keys.length - onA.length - 1);
  });

  it('keeps at most max students, dropping the least recently recorded', () => {
    const book = new AssignmentBook(3);
    book.record('s1', 'a');
    book.record('s2', 'a');
    book.record('s3', 'b');
    book.record('s1', 'a'); // s1 is the newest again
    book.record('s4', 'b');
    expect(book.size).toBe(3);
    expect(book.nodeOf('s2')).toBeUndefined();
    expect(book.nodeOf('s1')).toBe('a');
    expect(book.countByNode()).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    const big = new AssignmentBook();
    for (let i = 0; i < 20_500; i++) big.record(`s${i}`, i % 2 ? 'a' : 'b');
    expect(big.size).toBe(20_000);
    expect([...big.countByNode().values()].reduce((x, y) => x + y, 0)).toBe(20_000);
  });

  it('hands out a copy of the counts', () => {
    const book = new AssignmentBook();
    book.record('s1', 'a');
    book.countByNode().set('a', 99);
    expect(book.countByNode().get('a')).toBe(1);
  });
});
