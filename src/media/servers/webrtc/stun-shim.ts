/**
 * TURN/TCP interop shim: a second UDP port ("relay entry") in front of the egress's shared
 * WebRTC UDP port. Each remote address (in practice a TURN relay allocation) gets its own
 * upstream socket on loopback, so libjuice sees one distinct peer-reflexive address per client;
 * datagrams are forwarded both ways unchanged, except Binding requests with a zero
 * ICE-CONTROLLING / ICE-CONTROLLED tiebreaker, which stun-fix.ts sets to 1 and signs again
 * (libjuice#355: Chromium sends 0 over TURN/TCP and libjuice answers 400).
 *
 * Announced in each answer as a lowest-priority host candidate: direct viewers never prefer it;
 * relay-only viewers, whose checks to the normal candidate get the 400, succeed through it.
 * Only STUN/DTLS/RTP-looking datagrams (RFC 7983) up to MAX_DATAGRAM bytes pass; passwords are
 * never logged.
 */
import dgram from 'node:dgram';
import type { Logger } from '../../../shared/logger.ts';
import { fixZeroTiebreaker, isWebRtcDatagram, requestUfrag, rewriteMappedAddress } from './stun-fix.ts';

/** Largest datagram forwarded, bytes (a 1500-byte MTU and some room). */
export const MAX_DATAGRAM = 2048;

export interface StunShimOptions {
  /** Port to listen on (0: any free port). */
  port: number;
  /** Address to listen on (all interfaces when absent). */
  bindAddress?: string;
  /** Where the egress's shared UDP port listens (127.0.0.1 if the egress binds all interfaces). */
  upstreamHost: string;
  upstreamPort: number;
  logger: Logger;
  /** Close a remote's upstream socket after this long without traffic, ms (default 30 000). */
  idleMs?: number;
  /** Most remotes served at once (default 2000); datagrams of more are dropped. */
  maxRemotes?: number;
}

interface Remote {
  key: string;
  address: string;
  port: number;
  socket: dgram.Socket;
  last: number;
  /** The local ufrag of this client's last Binding request (to sign its responses again). */
  ufrag?: string;
}

/** The relay entry: see the module comment. */
export class StunShim {
  private readonly opts: StunShimOptions;
  private readonly socket = dgram.createSocket({ type: 'udp4' });
  private readonly remotes = new Map<string, Remote>();
  private readonly passwords = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private warnedFull = false;
  /** The port it listens on (known after start). */
  port = 0;
  /** Datagrams dropped (not WebRTC-looking, too large, or past the remote cap). */
  dropped = 0;
  /** Binding requests whose zero tiebreaker was rewritten. */
  fixed = 0;

  constructor(opts: StunShimOptions) {
    this.opts = opts;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(this.opts.port, this.opts.bindAddress, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.port = this.socket.address().port;
    this.socket.on('error', (e) => this.opts.logger.warn({ err: e.message }, 'TURN shim socket error'));
    this.socket.on('message', (d, rinfo) => this.fromClient(d, rinfo));
    const idle = this.opts.idleMs ?? 30_000;
    this.timer = setInterval(() => this.sweep(idle), Math.min(5000, idle));
    this.timer.unref();
  }

  /** Knows a session's local ICE credentials (its ufrag and password) until `unregister`. */
  register(ufrag: string, password: string): void {
    this.passwords.set(ufrag, password);
  }

  unregister(ufrag: string): void {
    this.passwords.delete(ufrag);
  }

  /** Number of sessions registered now. */
  get sessions(): number {
    return this.passwords.size;
  }

  /** Number of remotes served now. */
  get remoteCount(): number {
    return this.remotes.size;
  }

  private fromClient(d: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closed) return;
    if (d.length > MAX_DATAGRAM || !isWebRtcDatagram(d)) {
      this.dropped++;
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    let r = this.remotes.get(key);
    if (!r) {
      if (this.remotes.size >= (this.opts.maxRemotes ?? 2000)) {
        this.dropped++;
        if (!this.warnedFull) {
          this.warnedFull = true;
          this.opts.logger.warn({ remotes: this.remotes.size }, 'TURN shim: too many remotes, dropping');
        }
        return;
      }
      r = this.open(key, rinfo);
    }
    r.last = Date.now();
    let out = d;
    if (d[0]! <= 3) {
      r.ufrag = requestUfrag(d) ?? r.ufrag;
      out = fixZeroTiebreaker(d, (u) => this.passwords.get(u));
      if (out !== d) this.fixed++;
    }
    r.socket.send(out, this.opts.upstreamPort, this.opts.upstreamHost);
  }

  private open(key: string, rinfo: dgram.RemoteInfo): Remote {
    const socket = dgram.createSocket({ type: 'udp4' });
    const r: Remote = { key, address: rinfo.address, port: rinfo.port, socket, last: Date.now() };
    socket.on('error', () => this.drop(r));
    socket.on('message', (d, from) => {
      // Only the egress's replies go back to the client.
      if (from.port !== this.opts.upstreamPort || d.length > MAX_DATAGRAM || !isWebRtcDatagram(d)) {
        this.dropped++;
        return;
      }
      r.last = Date.now();
      if (this.closed) return;
      // Binding responses name the client's own address (not the upstream socket's).
      const pwd = d[0]! <= 3 && r.ufrag !== undefined ? this.passwords.get(r.ufrag) : undefined;
      this.socket.send(pwd ? rewriteMappedAddress(d, r.address, r.port, pwd) : d, r.port, r.address);
    });
    socket.bind(0, this.opts.upstreamHost === '127.0.0.1' ? '127.0.0.1' : undefined);
    this.remotes.set(key, r);
    return r;
  }

  private drop(r: Remote): void {
    if (this.remotes.get(r.key) !== r) return;
    this.remotes.delete(r.key);
    try {
      r.socket.close();
    } catch {
      /* closed already */
    }
  }

  private sweep(idleMs: number): void {
    const now = Date.now();
    for (const r of [...this.remotes.values()]) if (now - r.last > idleMs) this.drop(r);
    if (this.remotes.size < (this.opts.maxRemotes ?? 2000)) this.warnedFull = false;
  }

  /** Closes the port and every upstream socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const r of [...this.remotes.values()]) this.drop(r);
    this.passwords.clear();
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
