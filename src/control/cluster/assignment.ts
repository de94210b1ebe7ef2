/**
 * Which node serves a student's WebRTC: the alive sub with room that ranks first for the
 * student's participant id under rendezvous hashing weighted by capacity, so a student gets the
 * same node back while it lives and only a lost node's students move. The main takes students
 * when no sub can; past that the class is full.
 */
import type { NodeView } from './node-registry.ts';
import { rendezvousPick } from './rendezvous.ts';

/** Where a student goes: a sub node, the main node itself, or nowhere yet (retry later). */
export type Assignment =
  { kind: 'node'; node: NodeView } | { kind: 'main' } | { kind: 'full'; retryAfterS: number };

/** Options of {@link assign}. */
export interface AssignOptions {
  /** Node ids not to use (e.g. the one the student just failed to reach). */
  exclude?: ReadonlySet<string>;
  /** Whether the main node can take one more viewer itself. */
  mainHasRoom: boolean;
}

/** Seconds a student waits before asking again when everything is full. */
const FULL_RETRY_S = 5;

/**
 * Assigns `key` (the student's participant id) among `nodes`: candidates are alive, not
 * excluded and below capacity, weighted by capacity. With no candidate (no alive sub, all
 * excluded or all full) the main takes the student when it has room; else `full`.
 */
export function assign(key: string, nodes: readonly NodeView[], opts: AssignOptions): Assignment {
  const candidates = nodes
    .filter((n) => n.state === 'alive' && !opts.exclude?.has(n.id) && n.viewers < n.capacity)
    .map((node) => ({ id: node.id, weight: node.capacity, node }));
  const picked = rendezvousPick(key, candidates);
  if (picked) return { kind: 'node', node: picked.node };
  return opts.mainHasRoom ? { kind: 'main' } : { kind: 'full', retryAfterS: FULL_RETRY_S };
}

/** The node id {@link AssignmentBook} records for students the main serves itself. */
export const MAIN_NODE = 'main';

/**
 * The last node assigned to each student, for the operator view ("students assigned" per
 * node). Bounded: past `max` keys (default 20 000) the least recently recorded are dropped.
 */
export class AssignmentBook {
  private readonly max: number;
  /** key → node id, least recently recorded first. */
  private readonly byKey = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(max = 20_000) {
    this.max = Math.max(1, Math.floor(max));
  }

  /** Students currently recorded. */
  get size(): number {
    return this.byKey.size;
  }

  /** Records that `key` was assigned to `nodeId` ({@link MAIN_NODE} for the main). */
  record(key: string, nodeId: string): void {
    this.forget(key);
    this.byKey.set(key, nodeId);
    this.bump(nodeId, 1);
    while (this.byKey.size > this.max) {
      const oldest = this.byKey.keys().next().value as string;
      this.forget(oldest);
    }
  }

  /** Students recorded per node id (a copy; nodes with none are absent). */
  countByNode(): Map<string, number> {
    return new Map(this.counts);
  }

  /** The node `key` was last assigned to. */
  nodeOf(key: string): string | undefined {
    return this.byKey.get(key);
  }

  /** Forgets one student (it left); true when it was recorded. */
  forget(key: string): boolean {
    const was = this.byKey.get(key);
    if (was === undefined) return false;
    this.byKey.delete(key);
    this.bump(was, -1);
    return true;
  }

  /** Forgets every student of a node (it died or was removed). */
  forgetNode(nodeId: string): void {
    if (!this.counts.has(nodeId)) return;
    for (const [key, n] of this.byKey) if (n === nodeId) this.byKey.delete(key);
    this.counts.delete(nodeId);
  }

  private bump(nodeId: string, by: number): void {
    const n = (this.counts.get(nodeId) ?? 0) + by;
    if (n > 0) this.counts.set(nodeId, n);
    else this.counts.delete(nodeId);
  }
}
