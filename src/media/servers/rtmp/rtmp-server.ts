/**
 * The RTMP ingest server: accepts publishers (ffmpeg, OBS, Larix, PRISM …) and feeds what they
 * publish into the stream registry. Each connection is an `RtmpSession`; a bad connection is
 * closed alone and never disturbs the others.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ErrorCode } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import { listenTcp, Refusals } from '../tcp-listener.ts';
import type { StreamRegistry } from '../../stream/registry.ts';
import { DEFAULT_RTMP_LIMITS, type RtmpAuthorize, type RtmpLimits } from './rtmp-options.ts';
import { RtmpSession } from './rtmp-session.ts';

export type { RtmpAuthorize, RtmpAuthorizeRequest, RtmpLimits } from './rtmp-options.ts';
export { DEFAULT_RTMP_LIMITS } from './rtmp-options.ts';

/** Constructor dependencies of the RTMP server. */
export interface RtmpServerOptions {
  registry: StreamRegistry;
  /** Decides on each publish; throws AirError (TOKEN_MISSING / TOKEN_INVALID / TOKEN_SCOPE) to refuse. */
  authorize: RtmpAuthorize;
  logger: Logger;
  /** Overrides of `DEFAULT_RTMP_LIMITS`. */
  limits?: Partial<RtmpLimits>;
}

/** Events of the RTMP server. */
export interface RtmpServerEvents {
  /** A connection was accepted. */
  session: [session: RtmpSession];
  /** A connection ended (`code` set on an error or refusal). */
  sessionClose: [session: RtmpSession, code: ErrorCode | undefined, reason: string];
}

/** Counters for metrics. */
export interface RtmpServerStats {
  accepted: number;
  /** Connections turned away at the connection limit. */
  rejected: number;
  /** Sessions that ended on an error or refusal, by code. */
  errors: Partial<Record<ErrorCode, number>>;
}

/** RTMP server over `net.Server`. */
export class RtmpServer extends EventEmitter<RtmpServerEvents> {
  readonly limits: Readonly<RtmpLimits>;
  readonly stats: RtmpServerStats = { accepted: 0, rejected: 0, errors: {} };
  private readonly opts: RtmpServerOptions;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly live = new Set<RtmpSession>();
  private counter = 0;
  private closing: Promise<void> | undefined;
  private readonly refusals: Refusals;

  constructor(opts: RtmpServerOptions) {
    super();
    this.opts = opts;
    this.limits = Object.freeze({ ...DEFAULT_RTMP_LIMITS, ...opts.limits });
    this.log = opts.logger.child({ component: 'rtmp' });
    this.refusals = new Refusals(this.log, 'RTMP');
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => this.log.error({ err: e.message }, 'RTMP server error'));
  }

  /** The listening address (after `listen`). */
  get address(): AddressInfo | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Open sessions. */
  get sessions(): ReadonlySet<RtmpSession> {
    return this.live;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port = 1935, host = '0.0.0.0'): Promise<AddressInfo> {
    return listenTcp(this.server, port, host, this.log, 'RTMP');
  }

  private refuse(socket: Socket, why: string): void {
    this.refusals.refuse(socket, why);
    this.stats.rejected = this.refusals.count;
  }

  private accept(socket: Socket): void {
    if (this.closing || this.live.size >= this.limits.maxConnections) {
      this.refuse(socket, 'too many connections');
      return;
    }
    // Before a connection is authorised to publish it holds a slot for nothing: cap those per
    // address and in all, so idle sockets from one place cannot lock every teacher out.
    let pending = 0;
    let fromHere = 0;
    for (const s of this.live) {
      if (s.state === 'publishing') continue;
      pending++;
      if (s.remoteAddress === socket.remoteAddress) fromHere++;
    }
    if (fromHere >= this.limits.maxPendingPerAddress) {
      this.refuse(socket, 'too many unauthenticated connections from this address');
      return;
    }
    if (pending >= this.limits.maxPending) {
      this.refuse(socket, 'too many unauthenticated connections');
      return;
    }
    this.stats.accepted++;
    const session = new RtmpSession(socket, {
      id: `rtmp-${++this.counter}`,
      registry: this.opts.registry,
      authorize: this.opts.authorize,
      logger: this.log,
      limits: this.limits,
    });
    this.live.add(session);
    session.once('close', (code, reason) => {
      this.live.delete(session);
      if (code) this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
      this.log.info({ rtmp: session.id, code, reason }, 'RTMP connection closed');
      this.emit('sessionClose', session, code, reason);
    });
    this.emit('session', session);
  }

  /**
   * Disconnects the publishers of `path` at once — all, or those whose authorize answer was
   * tagged `auth` (e.g. only a stream-key publisher when the key is rotated). Returns how many.
   */
  kick(path: string, auth?: string, reason = 'disconnected by the server'): number {
    let n = 0;
    for (const s of [...this.live]) {
      if (s.path !== path || s.state !== 'publishing' || (auth !== undefined && s.auth !== auth)) continue;
      this.log.info({ rtmp: s.id, path, reason }, 'RTMP publisher disconnected');
      s.close(undefined, reason);
      n++;
    }
    return n;
  }

  /** Stops listening and closes every session (their publishers too). Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const s of [...this.live]) s.close(undefined, 'server closing');
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    return this.closing;
  }
}
