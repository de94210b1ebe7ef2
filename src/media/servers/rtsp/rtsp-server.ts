/**
 * The RTSP server of the main node (DESIGN §3): sub nodes pull every live path from here, and
 * ffprobe, ffplay or VLC can read it too (`rtsp://MAIN:8554/live/<classId>?token=…`). Each
 * connection is an RtspSession; a bad one is closed alone.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from '../../../shared/logger.ts';
import { listenTcp, Refusals } from '../tcp-listener.ts';
import type { StreamRegistry } from '../../stream/registry.ts';
import { DEFAULT_RTSP_LIMITS, RtspSession, type RtspAuthorize, type RtspLimits } from './rtsp-session.ts';

export { DEFAULT_RTSP_LIMITS, type RtspAuthorize, type RtspLimits } from './rtsp-session.ts';

/** Constructor dependencies of the RTSP server. */
export interface RtspServerOptions {
  registry: StreamRegistry;
  authorize: RtspAuthorize;
  logger: Logger;
  limits?: Partial<RtspLimits>;
  /** Address put in SDP and server-sent requests (default the connection's local address). */
  publicHost?: string;
}

/** RTSP server over `net.Server`. */
export class RtspServer {
  readonly limits: Readonly<RtspLimits>;
  readonly stats = { accepted: 0, rejected: 0 };
  private readonly opts: RtspServerOptions;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly live = new Set<RtspSession>();
  private counter = 0;
  private closing: Promise<void> | undefined;
  private readonly refusals: Refusals;

  constructor(opts: RtspServerOptions) {
    this.opts = opts;
    this.limits = Object.freeze({ ...DEFAULT_RTSP_LIMITS, ...opts.limits });
    this.log = opts.logger.child({ component: 'rtsp' });
    this.refusals = new Refusals(this.log, 'RTSP');
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (e) => this.log.error({ err: e.message }, 'RTSP server error'));
  }

  get address(): AddressInfo | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Open connections (readers and connections still setting up). */
  get sessions(): ReadonlySet<RtspSession> {
    return this.live;
  }

  /** Readers playing `path` (or all paths). */
  readers(path?: string): number {
    let n = 0;
    for (const s of this.live) if (s.state === 'playing' && (path === undefined || s.path === path)) n++;
    return n;
  }

  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port = 8554, host = '0.0.0.0'): Promise<AddressInfo> {
    return listenTcp(this.server, port, host, this.log, 'RTSP');
  }

  private refuse(socket: Socket, why: string): void {
    this.refusals.refuse(socket, why);
    this.stats.rejected = this.refusals.count;
  }

  private accept(socket: Socket): void {
    if (this.closing || this.live.size >= this.limits.maxConnections)
      return this.refuse(socket, 'too many connections');
    let fromHere = 0;
    for (const s of this.live) if (s.remoteAddress === socket.remoteAddress) fromHere++;
    if (fromHere >= this.limits.maxPerAddress)
      return this.refuse(socket, 'too many connections from this address');
    this.stats.accepted++;
    const session = new RtspSession(socket, {
      id: `rtsp-${++this.counter}`,
      registry: this.opts.registry,
      authorize: this.opts.authorize,
      logger: this.log,
      limits: this.limits,
      localAddress: this.opts.publicHost || socket.localAddress?.replace(/^::ffff:/, '') || '127.0.0.1',
    });
    this.live.add(session);
    session.once('close', (code, reason) => {
      this.live.delete(session);
      if (session.state !== 'init' || code) {
        this.log.info(
          { rtsp: session.id, path: session.path, code, reason, dropped: session.dropped },
          'RTSP connection closed',
        );
      }
    });
  }

  /** Asks the subs relaying `path` to close the viewers of `owner` (a removed student). */
  closeViewers(path: string, owner: string): number {
    let n = 0;
    for (const s of this.live) {
      if (s.path === path && s.relay && s.state === 'playing') {
        s.closeViewers(owner);
        n++;
      }
    }
    return n;
  }

  /** Stops listening and closes every connection, without TEARDOWN: a restart, not an end. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const s of [...this.live]) s.close(undefined, 'server closing');
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    return this.closing;
  }
}
