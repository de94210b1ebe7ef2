import { randomBytes, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { AirError, type ErrorCode } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import type { StreamRegistry } from '../../stream/registry.ts';
import type { Stream } from '../../stream/stream.ts';
import { StreamFeed } from './feed.ts';
import { JoinQueue, type JoinLimits } from './join-queue.ts';
import { parseOffer, parseTrickle } from './offer.ts';
import { createRing, RingWriter } from './packet-ring.ts';
import { addShimCandidates, iceCredentials } from './stun-fix.ts';
import { StunShim } from './stun-shim.ts';
import type { EgressFigures, EgressSettings, FromWorker, ToWorker } from './protocol.ts';

/** An ICE server as configured (and as sent to browsers in Link headers). */
export interface IceServerConfig {
  urls: string | readonly string[];
  username?: string;
  credential?: string;
}

/** WHEP server options. */
export interface WhepServerOptions {
  registry: StreamRegistry;
  logger: Logger;
  /** The one UDP port of all viewers (0: any free port, picked at start). */
  udpPort: number;
  /** Per-viewer UDP ports from this range instead of the shared port. */
  portRange?: [number, number];
  /** Address the UDP socket binds to (all interfaces when absent). */
  bindAddress?: string;
  /** Extra host addresses announced as candidates (NAT, Docker, loopback). */
  announcedAddresses: readonly string[];
  maxViewers: number;
  join: JoinLimits;
  /** Close a viewer that sends no RTCP this long, ms (default 5000). */
  rtcpTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Runs the TURN/TCP interop shim (stun-shim.ts, libjuice#355) on this UDP port (0: any free
   * port) and announces it in every answer; absent: no shim. Only with the shared port.
   */
  turnShimPort?: number;
}

/** What a route needs of a session. */
export interface WhepSessionHandle {
  readonly id: string;
  readonly etag: string;
  readonly path: string;
  /** Adds trickled candidates; BAD_CANDIDATE (400) for a malformed one. */
  addCandidates(frag: string): Promise<void>;
}

interface Session extends WhepSessionHandle {
  owner?: string;
  release?: () => void;
  connected: boolean;
  /** The answer's ICE ufrag, registered with the TURN shim. */
  ufrag?: string;
}

/** Who asks for a session (for the join queue's caps and for closing one person's viewers). */
export interface WhepRequester {
  /** Token subject: closePath(path, owner) closes this person's viewers. */
  owner?: string;
  /** The token itself (its id): pending joins are capped per token. */
  token?: string;
  /** The remote address: pending joins are capped per address. */
  address?: string;
}

/** A free UDP port on `host` (bound and released: a port to hand to the egress). */
async function freeUdpPort(host: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, resolve);
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The process's one egress worker thread, shared by every WhepServer of the process (tests
 * build many nodes in one process). node-datachannel keeps its JavaScript constructors in
 * process-wide statics: only the first thread that loads it may use it, and a second worker
 * after the first one ended would find them dead. So the worker is made once, kept (unref'd),
 * and serves each WhepServer as a tenant with its own ring and port.
 */
interface SharedEgress {
  worker: Worker;
  tenants: Map<number, (m: FromWorker) => void>;
  next: number;
}
let shared: SharedEgress | undefined;

function egressWorker(): SharedEgress {
  if (shared) return shared;
  const worker = new Worker(new URL('./egress-worker.ts', import.meta.url), { name: 'airclass-egress' });
  worker.unref();
  const s: SharedEgress = { worker, tenants: new Map(), next: 1 };
  worker.on('message', (m: FromWorker & { tenant: number }) => s.tenants.get(m.tenant)?.(m));
  const gone = (why: string): void => {
    if (shared === s) shared = undefined;
    for (const t of s.tenants.values()) t({ op: 'fatal', message: why });
  };
  worker.on('error', (e) => gone(`egress worker failed: ${e.message}`));
  worker.on('exit', (code) => gone(`egress worker exited (${code})`));
  shared = s;
  return s;
}

/**
 * WHEP egress (draft-ietf-wish-whep) on node-datachannel: the ingest thread (here) packetises
 * each stream once and writes the packets into a shared-memory ring; the egress worker holds
 * every viewer's ICE/DTLS/SRTP session on one UDP port and sends. HTTP framing and
 * authorisation live in the control plane's route; joins go through a fair queue.
 */
export class WhepServer {
  private readonly opts: WhepServerOptions;
  private readonly sessions = new Map<string, Session>();
  private readonly feeds = new Map<Stream, StreamFeed>();
  private readonly queue: JoinQueue;
  private readonly ringBuffers = createRing(16 << 20);
  private readonly ring = new RingWriter(this.ringBuffers);
  private egress?: SharedEgress;
  private shim?: StunShim;
  private tenant = 0;
  private nextIndex = 1;
  private rid = 1;
  private readonly calls = new Map<number, { resolve: (a?: string) => void; reject: (e: Error) => void }>();
  private closed = false;
  /** The UDP port viewers use (known after start). */
  udpPort = 0;
  /** The worker's last figures. */
  figures?: EgressFigures;
  /** The TURN/TCP interop shim, when it runs (after start, with `turnShimPort`). */
  get turnShim(): StunShim | undefined {
    return this.shim;
  }
  private readonly onPublish = (s: Stream): void => {
    if (this.feeds.has(s)) return;
    const idx = this.nextIndex;
    this.nextIndex = (this.nextIndex % 0xfffe) + 1;
    this.feeds.set(s, new StreamFeed(s, idx, this.ring, () => performance.timeOrigin + performance.now()));
  };
  private readonly onOffline = (s: Stream): void => {
    this.feeds.get(s)?.close();
    this.feeds.delete(s);
    for (const sess of [...this.sessions.values()]) if (sess.path === s.path) this.forget(sess.id);
  };

  constructor(opts: WhepServerOptions) {
    this.opts = opts;
    this.queue = new JoinQueue(opts.join);
  }

  /** Starts the egress worker and binds the UDP port; rejects if the port is taken. */
  async start(): Promise<void> {
    const o = this.opts;
    const udpPort = o.portRange ? 0 : o.udpPort || (await freeUdpPort(o.bindAddress ?? '0.0.0.0'));
    const settings: EgressSettings = {
      udpPort,
      ...(o.portRange ? { portRange: o.portRange } : {}),
      ...(o.bindAddress ? { bindAddress: o.bindAddress } : {}),
      announcedAddresses: [...o.announcedAddresses],
      iceServers: [],
      rtcpTimeoutMs: o.rtcpTimeoutMs ?? 5000,
      connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
      pliIntervalMs: 2000,
    };
    const egress = egressWorker();
    const tenant = egress.next++;
    this.tenant = tenant;
    this.egress = egress;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      egress.tenants.set(tenant, (m) => {
        if (m.op === 'ready') {
          started = true;
          this.udpPort = m.port;
          resolve();
        } else if (m.op === 'fatal') {
          if (!started) reject(new Error(m.message));
          else this.onEgressGone(m.message);
        } else this.onWorker(m);
      });
      this.send({ op: 'init', ring: this.ringBuffers, settings });
    });
    if (o.turnShimPort !== undefined && !o.portRange) {
      const bind = o.bindAddress && o.bindAddress !== '0.0.0.0' ? o.bindAddress : undefined;
      const shim = new StunShim({
        port: o.turnShimPort,
        ...(bind ? { bindAddress: bind } : {}),
        upstreamHost: bind ?? '127.0.0.1',
        upstreamPort: this.udpPort,
        logger: o.logger,
      });
      await shim.start();
      this.shim = shim;
    }
    this.opts.registry.on('publish', this.onPublish);
    this.opts.registry.on('offline', this.onOffline);
    for (const s of this.opts.registry.list()) if (s.state !== 'idle') this.onPublish(s);
  }

  private send(m: ToWorker): void {
    this.egress?.worker.postMessage({ ...m, tenant: this.tenant });
  }

  /** The worker died: every call fails, every session is gone. */
  private onEgressGone(why: string): void {
    if (!this.closed) this.opts.logger.error({ reason: why }, 'WebRTC egress stopped');
    for (const c of this.calls.values()) {
      c.reject(new AirError('CAPACITY', 'The egress stopped.', { 'Retry-After': '5' }));
    }
    this.calls.clear();
    for (const id of [...this.sessions.keys()]) this.forget(id);
    this.egress = undefined;
  }

  private call(m: ToWorker & { rid: number }): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.calls.set(m.rid, { resolve, reject });
      this.send(m);
    });
  }

  private onWorker(m: FromWorker): void {
    if (m.op === 'reply') {
      const c = this.calls.get(m.rid);
      this.calls.delete(m.rid);
      if (!c) return;
      if (m.ok) c.resolve(m.answer);
      else
        c.reject(
          new AirError(
            m.code as ErrorCode,
            m.message,
            m.code === 'STREAM_NOT_LIVE' ? { 'Retry-After': '2' } : {},
          ),
        );
    } else if (m.op === 'connected') {
      const s = this.sessions.get(m.id);
      if (s) {
        s.connected = true;
        s.release?.();
      }
    } else if (m.op === 'closed') {
      const s = this.sessions.get(m.id);
      if (s) this.opts.logger.debug({ session: m.id, path: s.path, reason: m.reason }, 'whep session closed');
      this.forget(m.id);
    } else if (m.op === 'figures') {
      this.figures = m.figures;
    }
  }

  private forget(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.release?.();
    if (s.ufrag) this.shim?.unregister(s.ufrag);
  }

  /**
   * Starts a viewer session on `path` from an SDP offer. STREAM_NOT_LIVE (409, Retry-After)
   * while nothing plays there; CAPACITY (503, Retry-After) past the viewer limits or the join
   * queue's caps; BAD_SDP (400) for an offer without H.264.
   */
  async create(
    path: string,
    offer: string,
    who: WhepRequester | string = {},
  ): Promise<{ session: WhepSessionHandle; answer: string }> {
    const req = typeof who === 'string' ? { owner: who } : who;
    if (this.closed || !this.egress)
      throw new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' });
    const stream = this.opts.registry.get(path);
    if (!stream || stream.state !== 'live' || !stream.video) {
      throw new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} yet.`, { 'Retry-After': '2' });
    }
    if (this.sessions.size >= this.opts.maxViewers) {
      throw new AirError('CAPACITY', 'This node serves its maximum number of viewers.', {
        'Retry-After': '10',
      });
    }
    const parsed = parseOffer(offer);
    const release = await this.queue.acquire(req.token ?? req.owner ?? '-', req.address ?? '-');
    if (this.closed) {
      release();
      throw new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' });
    }
    const id = randomUUID();
    const session: Session = {
      id,
      etag: `"${randomBytes(8).toString('hex')}"`,
      path,
      connected: false,
      release,
      addCandidates: async (frag) => {
        const t = parseTrickle(frag);
        if (t.candidates.length === 0) return;
        if (!this.sessions.has(id)) throw new AirError('SESSION_NOT_FOUND');
        await this.call({
          op: 'candidates',
          rid: this.rid++,
          id,
          candidates: t.candidates,
          ...(t.mid ? { mid: t.mid } : {}),
        });
      },
      ...(req.owner !== undefined ? { owner: req.owner } : {}),
    };
    this.sessions.set(id, session);
    try {
      const answer = await this.call({ op: 'create', rid: this.rid++, id, path, offer, parsed });
      if (!this.sessions.has(id))
        throw new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} now.`, { 'Retry-After': '2' });
      const ice = this.shim && answer ? iceCredentials(answer) : undefined;
      if (!this.shim || !ice) return { session, answer: answer ?? '' };
      session.ufrag = ice.ufrag;
      this.shim.register(ice.ufrag, ice.pwd);
      return { session, answer: addShimCandidates(answer!, this.shim.port) };
    } catch (e) {
      this.forget(id);
      throw e;
    }
  }

  /** The session `id` on `path`, or SESSION_NOT_FOUND. */
  get(path: string, id: string): WhepSessionHandle {
    const s = this.sessions.get(id);
    if (!s || s.path !== path) throw new AirError('SESSION_NOT_FOUND');
    return s;
  }

  /** Ends a session; SESSION_NOT_FOUND if unknown. */
  delete(path: string, id: string): void {
    this.get(path, id);
    this.closeSession(id, 'deleted by client');
  }

  private closeSession(id: string, reason: string): void {
    this.send({ op: 'close', id, reason });
    this.forget(id);
  }

  /** Closes the sessions of a path — all, or those of one `owner`. Returns how many. */
  closePath(path: string, owner?: string, reason = 'closed by the server'): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.path !== path) continue;
      if (owner !== undefined && s.owner !== owner) continue;
      this.closeSession(s.id, reason);
      n++;
    }
    return n;
  }

  /** Number of viewer sessions on a path (all paths without an argument). */
  viewers(path?: string): number {
    if (path === undefined) return this.sessions.size;
    let n = 0;
    for (const s of this.sessions.values()) if (s.path === path) n++;
    return n;
  }

  /** Joins waiting and handshakes in flight. */
  get joins(): { inFlight: number; queued: number } {
    return this.queue.stats;
  }

  /** Ends every session and stops the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.opts.registry.off('publish', this.onPublish);
    this.opts.registry.off('offline', this.onOffline);
    for (const f of this.feeds.values()) f.close();
    this.feeds.clear();
    await this.shim?.close();
    const egress = this.egress;
    if (!egress) return;
    try {
      await Promise.race([
        this.call({ op: 'shutdown', rid: this.rid++ }),
        new Promise((r) => setTimeout(r, 3000)),
      ]);
    } catch {
      /* the worker is gone already */
    }
    egress.tenants.delete(this.tenant);
    this.egress = undefined;
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }
}
