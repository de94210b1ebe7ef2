/**
 * A sub node's membership in its main's cluster: registers (id, public URL, capacity) and then
 * heartbeats its load every `heartbeatMs` (the main says how often). A main that restarted, or
 * marked this node dead, answers NODE_UNKNOWN and the node registers again; a main that is down
 * is retried with backoff. The node token is sent as Bearer and never logged.
 */
import type { Logger } from '../../shared/logger.ts';
import type { NodeLoad } from './node-registry.ts';
import { describeFetchError } from '../../shared/fetch-error.ts';

export interface MemberOptions {
  /** The main's HTTP base, e.g. http://10.0.0.2:8000. */
  mainUrl: string;
  token: string;
  id: string;
  name: string;
  httpUrl: string;
  /** Its HTTPS base URL, once it serves HTTPS (sent at each registration). */
  httpsUrl?: () => string | undefined;
  capacity: number;
  load: () => NodeLoad;
  logger: Logger;
  fetch?: typeof fetch;
}

/** A sub's registration with the main. */
export class ClusterMember {
  /** Where the main serves RTSP (from its registration answer). */
  rtspUrl: string | undefined;
  /** True while the main knows this node. */
  registered = false;
  readonly startedAt = Date.now();
  private heartbeatMs = 5000;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private readonly opts: MemberOptions;
  private readonly log: Logger;
  private readonly fetch: typeof fetch;

  constructor(opts: MemberOptions) {
    this.opts = opts;
    this.fetch = opts.fetch ?? fetch;
    this.log = opts.logger.child({ part: 'member' });
  }

  /** Starts registering; resolves after the first attempt (successful or not). */
  async start(): Promise<void> {
    await this.beat();
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' };
  }

  private async register(): Promise<void> {
    const { id, name, httpUrl, capacity } = this.opts;
    const httpsUrl = this.opts.httpsUrl?.();
    const res = await this.fetch(`${this.opts.mainUrl}/api/cluster/nodes`, {
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ id, name, httpUrl, httpsUrl, capacity, startedAt: this.startedAt }),
      signal: AbortSignal.timeout(3000),
    });
    if (res.status !== 201) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      throw new Error(`registration answered ${res.status} ${body.error?.code ?? ''}`.trim());
    }
    const answer = (await res.json()) as { heartbeatMs: number; rtspUrl: string };
    this.heartbeatMs = answer.heartbeatMs;
    this.rtspUrl = answer.rtspUrl;
    if (!this.registered)
      this.log.info({ main: this.opts.mainUrl, rtsp: answer.rtspUrl }, 'registered with the main');
    this.registered = true;
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.registered) await this.register();
      // Right after registering too: the main learns the load at once.
      const res = await this.fetch(
        `${this.opts.mainUrl}/api/cluster/nodes/${encodeURIComponent(this.opts.id)}/heartbeat`,
        {
          method: 'PUT',
          headers: this.headers(),
          body: JSON.stringify(this.opts.load()),
          signal: AbortSignal.timeout(3000),
        },
      );
      if (res.status === 404) {
        this.registered = false;
        this.log.info('the main does not know this node (restarted, or marked it dead); registering again');
        await this.register();
      } else if (res.status === 401 || res.status === 403) {
        throw new Error(
          `the main refused this node’s token (${res.status}); make a new one with airclass node-token`,
        );
      } else if (res.status !== 204) throw new Error(`heartbeat answered ${res.status}`);
      if (this.failures > 0) this.log.info({ failures: this.failures }, 'the main answers again');
      this.failures = 0;
    } catch (e) {
      this.failures++;
      if (this.failures === 1 || this.failures % 12 === 0) {
        this.log.warn(
          { err: describeFetchError(e, this.opts.mainUrl), main: this.opts.mainUrl },
          'cannot reach the main; retrying',
        );
      }
    }
    if (this.closed) return;
    const delay =
      this.failures === 0 ? this.heartbeatMs : Math.min(this.heartbeatMs, 500 * 2 ** this.failures);
    this.timer = setTimeout(() => void this.beat(), delay);
    this.timer.unref();
  }

  /** Registers again now (e.g. it began serving HTTPS); when that fails, the next beat retries. */
  async announce(): Promise<void> {
    if (this.closed || !this.registered) return;
    await this.register().catch((e: unknown) => {
      this.registered = false;
      this.log.warn({ err: (e as Error).message }, 'could not update the registration; retrying');
    });
  }

  /** Stops heartbeating and tells the main this node leaves (best effort). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (!this.registered) return;
    await this.fetch(`${this.opts.mainUrl}/api/cluster/nodes/${encodeURIComponent(this.opts.id)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${this.opts.token}` },
      signal: AbortSignal.timeout(1500),
    }).catch(() => undefined);
  }
}
