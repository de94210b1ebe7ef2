/**
 * Weighted rendezvous hashing (highest random weight, Thaler & Ravishankar 1996; weighted form
 * by Schindelhauer & Schomaker 2005): each (key, node) pair gets a score and a key goes to the
 * node with the highest one. Removing a node moves only the keys it held; adding one takes a
 * share from every other node and moves nothing else. With score = -w / ln(h), h uniform in
 * (0, 1), a node wins a key with probability w / Σw.
 */
import { createHash } from 'node:crypto';

/** A node that can take keys; `weight` is its relative share (e.g. its capacity). */
export interface WeightedNode {
  readonly id: string;
  readonly weight: number;
}

/** 2^53: the 53 bits of hash put into a double stay exact. */
const TWO_53 = 2 ** 53;

/**
 * A uniform double in the open interval (0, 1) from SHA-256 of `key` NUL `nodeId` (first 53
 * bits, centred in their cell so neither 0 nor 1 can come out). The NUL keeps ("ab", "c") and
 * ("a", "bc") apart. The same on every process, machine and Node version.
 */
export function rendezvousHash(key: string, nodeId: string): number {
  const d = createHash('sha256').update(`${key}\u0000${nodeId}`, 'utf8').digest();
  const top = d.readUInt32BE(0) * 2 ** 21 + (d.readUInt32BE(4) >>> 11);
  return (top + 0.5) / TWO_53;
}

/**
 * The weighted score of `nodeId` for `key`: -weight / ln(h). Higher wins. A weight that is not
 * a positive finite number scores -Infinity (such a node never wins).
 */
export function rendezvousScore(key: string, nodeId: string, weight: number): number {
  if (!(weight > 0) || !Number.isFinite(weight)) return -Infinity;
  return -weight / Math.log(rendezvousHash(key, nodeId));
}

/**
 * The nodes ordered for `key`, best first; nodes whose weight is not a positive finite number
 * are left out. Equal scores (practically never) are ordered by id so every process agrees.
 */
export function rendezvousRank<N extends WeightedNode>(key: string, nodes: readonly N[]): N[] {
  return nodes
    .filter((n) => n.weight > 0 && Number.isFinite(n.weight))
    .map((n) => ({ n, s: rendezvousScore(key, n.id, n.weight) }))
    .sort((a, b) => b.s - a.s || (a.n.id < b.n.id ? -1 : a.n.id > b.n.id ? 1 : 0))
    .map((x) => x.n);
}

/** The node `key` goes to, or undefined when no node has a positive weight. */
export function rendezvousPick<N extends WeightedNode>(key: string, nodes: readonly N[]): N | undefined {
  let best: N | undefined;
  let bestScore = -Infinity;
  for (const n of nodes) {
    if (!(n.weight > 0) || !Number.isFinite(n.weight)) continue;
    const s = rendezvousScore(key, n.id, n.weight);
    if (best === undefined || s > bestScore || (s === bestScore && n.id < best.id)) {
      best = n;
      bestScore = s;
    }
  }
  return best;
}
