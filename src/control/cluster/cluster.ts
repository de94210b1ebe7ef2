/**
 * The main node's view of its cluster: sub nodes register and heartbeat (node-registry.ts),
 * students are assigned to them (assignment.ts), and a sub a student reports unreachable is
 * probed at once so its students move within seconds rather than after three missed heartbeats.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { assign, AssignmentBook, MAIN_NODE } from './assignment.ts';
import type { NodeLoad, NodeRecord, NodeRegistry, NodeView } from './node-registry.ts';

export interface ClusterOptions {
  registry: NodeRegistry;
  logger: Logger;
  /** Whether the main can take one more viewer itself. */
  mainHasRoom: () => boolean;
  /** The main's own WHEP URL of a path (`secure`: for a page on https). */
  mainWhepUrl: (path: string, secure: boolean) => string;
  /** Heartbeat interval asked of subs, ms. */
  heartbeatMs: number;
  /** Time a probe of a reported sub may take, ms (default 1500). */
  probeTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Where a student's player connects. */
export interface AssignedEndpoint {
  whepUrl: string;
  node: { id: string; name: string };
}

/** The main's record of its own load, shown beside the subs. */
export interface SelfView extends NodeLoad {
  id: string;
  name: string;
  httpUrl: string;
  capacity: number;
  startedAt: number;
}

/** One row of the operator view. */
export interface ClusterNodeRow {
  id: string;
  name: string;
  role: 'main' | 'sub';
  state: 'alive' | 'dead';
  httpUrl: string;
  /** A sub's HTTPS URL, when it serves HTTPS. */
  httpsUrl?: string;
  capacity: number;
  viewers: number;
  cpu: number;
  paths: string[];
  assigned: number;
  startedAt: string;
  lastSeen: string;
}

/** The cluster as the main runs it. */
export class Cluster {
  readonly book = new AssignmentBook();
  readonly registry: NodeRegistry;
  private readonly opts: ClusterOptions;
  private readonly log: Logger;
  /** Students sent to a node since its last heartbeat (its reported load lags behind). */
  private readonly sinceBeat = new Map<string, number>();
  private readonly probing = new Map<string, Promise<boolean>>();
  /** Viewers on alive subs by path, refreshed from the registry every heartbeat period. */
  private subViewers = new Map<string, number>();
  private viewersTimer?: NodeJS.Timeout;

  constructor(opts: ClusterOptions) {
    this.opts = opts;
    this.registry = opts.registry;
    this.log = opts.logger.child({ part: 'cluster' });
  }

  /** Viewers the alive subs reported on `path` (their last heartbeats). */
  viewersOf(path: string): number {
    if (!this.viewersTimer) {
      this.viewersTimer = setInterval(() => void this.refreshViewers(), this.opts.heartbeatMs);
      this.viewersTimer.unref();
      void this.refreshViewers();
    }
    return this.subViewers.get(path) ?? 0;
  }

  private async refreshViewers(): Promise<void> {
    try {
      const sums = new Map<string, number>();
      for (const n of await this.registry.list()) {
        if (n.state !== 'alive') continue;
        for (const [p, v] of Object.entries(n.pathViewers ?? {})) sums.set(p, (sums.get(p) ?? 0) + v);
      }
      this.subViewers = sums;
    } catch {
      // The registry is closed or Redis is away: keep the last figures.
    }
  }

  get heartbeatMs(): number {
    return this.opts.heartbeatMs;
  }

  async register(r: Omit<NodeRecord, 'lastSeen'>): Promise<void> {
    const before = await this.registry.get(r.id);
    await this.registry.register(r);
    this.sinceBeat.delete(r.id);
    if (!before || before.state === 'dead' || before.startedAt !== r.startedAt) {
      this.log.info({ node: r.id, httpUrl: r.httpUrl, capacity: r.capacity }, 'sub node registered');
    }
  }

  /** A heartbeat; false when the node must register again. */
  async heartbeat(id: string, load: NodeLoad): Promise<boolean> {
    const ok = await this.registry.heartbeat(id, load);
    if (ok) this.sinceBeat.delete(id);
    return ok;
  }

  async remove(id: string): Promise<void> {
    await this.registry.remove(id);
    this.book.forgetNode(id);
    this.log.info({ node: id }, 'sub node left');
  }

  /** True when the sub answers /health in time. */
  private probe(node: NodeView): Promise<boolean> {
    let p = this.probing.get(node.id);
    if (!p) {
      const f = this.opts.fetch ?? fetch;
      p = f(`${node.httpUrl}/health`, { signal: AbortSignal.timeout(this.opts.probeTimeoutMs ?? 1500) })
        .then((r) => r.ok)
        .catch(() => false)
        .finally(() => this.probing.delete(node.id));
      this.probing.set(node.id, p);
    }
    return p;
  }

  /**
   * Assigns a student (`key`, the participant id) to a node for `path`. `failed` names the node
   * the player just lost: it is probed, and marked dead when it does not answer. CAPACITY (503,
   * Retry-After) when every node is full. `secure`: the player's page is on https, so only
   * subs serving HTTPS are candidates and the URL is their https one (no mixed content).
   */
  async assign(key: string, path: string, failed?: string, secure = false): Promise<AssignedEndpoint> {
    let nodes = await this.registry.list();
    if (secure) nodes = nodes.filter((n) => n.httpsUrl);
    const exclude = new Set<string>();
    if (failed && failed !== MAIN_NODE) {
      const n = nodes.find((x) => x.id === failed);
      if (n && n.state === 'alive' && !(await this.probe(n))) {
        this.log.warn({ node: n.id }, 'sub node unreachable (reported by a player); marked dead');
        await this.registry.markDead(n.id);
        this.book.forgetNode(n.id);
        nodes = await this.registry.list();
        if (secure) nodes = nodes.filter((n) => n.httpsUrl);
      }
      if (n) exclude.add(n.id);
    }
    const loaded = nodes.map((n) => ({ ...n, viewers: n.viewers + (this.sinceBeat.get(n.id) ?? 0) }));
    const mine = this.book.nodeOf(key);
    const a = assign(key, loaded, { exclude, mainHasRoom: this.opts.mainHasRoom() });
    if (a.kind === 'full') {
      throw new AirError('CAPACITY', 'Every node is full; try again shortly.', {
        'Retry-After': String(a.retryAfterS),
      });
    }
    if (a.kind === 'main') {
      this.book.record(key, MAIN_NODE);
      return { whepUrl: this.opts.mainWhepUrl(path, secure), node: { id: MAIN_NODE, name: 'main' } };
    }
    const node = a.node;
    if (mine !== node.id) this.sinceBeat.set(node.id, (this.sinceBeat.get(node.id) ?? 0) + 1);
    this.book.record(key, node.id);
    const base = secure && node.httpsUrl ? node.httpsUrl : node.httpUrl;
    return { whepUrl: `${base}/${path}/whep`, node: { id: node.id, name: node.name } };
  }

  /** The operator view: the main first, then the subs by name. */
  async rows(self: SelfView): Promise<ClusterNodeRow[]> {
    const counts = this.book.countByNode();
    const iso = (ms: number): string => new Date(ms).toISOString();
    const now = Date.now();
    const rows: ClusterNodeRow[] = [
      {
        id: self.id,
        name: self.name,
        role: 'main',
        state: 'alive',
        httpUrl: self.httpUrl,
        capacity: self.capacity,
        viewers: self.viewers,
        cpu: self.cpu,
        paths: self.paths,
        assigned: counts.get(MAIN_NODE) ?? 0,
        startedAt: iso(self.startedAt),
        lastSeen: iso(now),
      },
    ];
    for (const n of await this.registry.list()) {
      rows.push({
        id: n.id,
        name: n.name,
        role: 'sub',
        state: n.state,
        httpUrl: n.httpUrl,
        ...(n.httpsUrl ? { httpsUrl: n.httpsUrl } : {}),
        capacity: n.capacity,
        viewers: n.viewers,
        cpu: n.cpu,
        paths: n.paths,
        assigned: n.state === 'alive' ? (counts.get(n.id) ?? 0) : 0,
        startedAt: iso(n.startedAt),
        lastSeen: iso(n.lastSeen),
      });
    }
    return rows;
  }

  close(): Promise<void> {
    clearInterval(this.viewersTimer);
    return this.registry.close();
  }
}

/** CPU use of this process in percent of one core, sampled between calls. */
export function cpuMeter(): () => number {
  let last = process.cpuUsage();
  let at = process.hrtime.bigint();
  return () => {
    const now = process.hrtime.bigint();
    const u = process.cpuUsage(last);
    const wallUs = Number(now - at) / 1000;
    last = process.cpuUsage();
    at = now;
    return wallUs > 0 ? Math.round(((u.user + u.system) / wallUs) * 1000) / 10 : 0;
  };
}
