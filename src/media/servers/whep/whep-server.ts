import { RTCRtpCodecParameters, type PeerConfig } from 'werift';
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import type { StreamRegistry } from '../../stream/registry.ts';
import type { Stream } from '../../stream/stream.ts';
import { RtpTap } from './rtp-tap.ts';
import { WhepSession } from './whep-session.ts';

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
  /** UDP port range for viewers' ICE sockets. */
  portRange: [number, number];
  /** Extra host addresses announced as candidates (NAT, Docker, loopback). */
  announcedAddresses: readonly string[];
  maxViewers: number;
  maxPending: number;
  maxQueue?: number;
  connectTimeoutMs?: number;
  disconnectTimeoutMs?: number;
}

/**
 * H.264 as DESIGN §10 pins it: werift picks codecs by name, so offer exactly one H.264
 * entry, constrained baseline 3.1, packetization-mode 1 (x264 writes 42c01f; declare 42e01f).
 */
function h264(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
    parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
  });
}

function opus(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48000,
    channels: 2,
    parameters: 'minptime=10;useinbandfec=1',
  });
}

/**
 * WHEP egress (draft-ietf-wish-whep): creates, trickles and deletes viewer sessions on the
 * streams of a registry. HTTP framing and authorisation live in the control plane's route.
 */
export class WhepServer {
  private readonly opts: WhepServerOptions;
  private readonly sessions = new Map<string, WhepSession>();
  /** Who opened each session (the token subject), to close one person's viewers. */
  private readonly owners = new Map<string, string>();
  private readonly taps = new Map<Stream, RtpTap>();
  private pending = 0;
  private closed = false;
  private readonly onPublish = (s: Stream): void => {
    if (!this.taps.has(s)) this.taps.set(s, new RtpTap(s));
  };
  private readonly onOffline = (s: Stream): void => {
    this.taps.get(s)?.close();
    this.taps.delete(s);
  };

  constructor(opts: WhepServerOptions) {
    this.opts = opts;
    opts.registry.on('publish', this.onPublish);
    opts.registry.on('offline', this.onOffline);
    for (const s of opts.registry.list()) if (s.state !== 'idle') this.onPublish(s);
  }

  private peerConfig(): Partial<PeerConfig> {
    return {
      codecs: { video: [h264()], audio: [opus()] },
      iceServers: [],
      icePortRange: this.opts.portRange,
      iceAdditionalHostAddresses: [...this.opts.announcedAddresses],
      iceUseIpv6: false,
      bundlePolicy: 'max-bundle',
    };
  }

  /**
   * Starts a viewer session on `path` from an SDP offer. STREAM_NOT_LIVE (409, Retry-After)
   * while nothing plays there; CAPACITY (503, Retry-After) past the viewer limits. `owner`
   * tags the session (the token subject) for {@link closePath}.
   */
  async create(
    path: string,
    offer: string,
    owner?: string,
  ): Promise<{ session: WhepSession; answer: string }> {
    if (this.closed) throw new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' });
    const stream = this.opts.registry.get(path);
    if (!stream || stream.state !== 'live' || !stream.video) {
      throw new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} yet.`, { 'Retry-After': '2' });
    }
    if (this.sessions.size >= this.opts.maxViewers) {
      throw new AirError('CAPACITY', 'This node serves its maximum number of viewers.', {
        'Retry-After': '10',
      });
    }
    if (this.pending >= this.opts.maxPending) {
      throw new AirError('CAPACITY', 'Too many viewers are connecting at once.', { 'Retry-After': '1' });
    }
    this.pending++;
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        this.pending--;
      }
    };
    try {
      const result = await WhepSession.create(
        {
          stream,
          peerConfig: this.peerConfig(),
          logger: this.opts.logger,
          maxQueue: this.opts.maxQueue ?? 512,
          connectTimeoutMs: this.opts.connectTimeoutMs ?? 15_000,
          disconnectTimeoutMs: this.opts.disconnectTimeoutMs ?? 10_000,
          onConnected: settle,
          onClose: (s) => {
            settle();
            this.sessions.delete(s.id);
            this.owners.delete(s.id);
          },
        },
        offer,
      );
      this.sessions.set(result.session.id, result.session);
      if (owner !== undefined) this.owners.set(result.session.id, owner);
      return result;
    } catch (e) {
      settle();
      throw e;
    }
  }

  /** The session `id` on `path`, or SESSION_NOT_FOUND. */
  get(path: string, id: string): WhepSession {
    const s = this.sessions.get(id);
    if (!s || s.stream.path !== path) throw new AirError('SESSION_NOT_FOUND');
    return s;
  }

  /** Ends a session; SESSION_NOT_FOUND if unknown. */
  delete(path: string, id: string): void {
    this.get(path, id).close('deleted by client');
  }

  /** Closes the sessions of a path — all, or those of one `owner`. Returns how many. */
  closePath(path: string, owner?: string, reason = 'closed by the server'): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.stream.path !== path) continue;
      if (owner !== undefined && this.owners.get(s.id) !== owner) continue;
      s.close(reason);
      n++;
    }
    return n;
  }

  /** Number of viewer sessions on a path (all paths without an argument). */
  viewers(path?: string): number {
    if (path === undefined) return this.sessions.size;
    let n = 0;
    for (const s of this.sessions.values()) if (s.stream.path === path) n++;
    return n;
  }

  /** Ends every session. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.opts.registry.off('publish', this.onPublish);
    this.opts.registry.off('offline', this.onOffline);
    for (const s of [...this.sessions.values()]) s.close('server closing');
    for (const t of this.taps.values()) t.close();
    this.taps.clear();
  }
}
