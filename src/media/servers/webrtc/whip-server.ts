/**
 * WHIP ingest (draft-ietf-wish-whip) on werift: a browser (the teacher console's "share
 * screen") or any WHIP client publishes H.264 + Opus over WebRTC; what arrives is fed into the
 * stream registry as a publisher, like an RTMP publish (whip-media.ts), with no re-encoding.
 * HTTP framing and authorisation live in the control plane's route (routes/whip.ts).
 *
 * One publisher per path: a second offer while one is connecting or live is PATH_BUSY (409),
 * the code the RTMP server refuses with. The publish ends — a publisher drop, viewers wait for
 * the registry's grace period — on DELETE, ICE/DTLS failure, a closed peer connection, or
 * silence (no RTP or RTCP) for `silenceTimeoutMs`. Keyframes are requested (PLI) until the first
 * one arrives, after loss, and every `keyframeIntervalMs` so the last-GOP cache stays short and
 * a new viewer starts at once (browsers encode a screen with very long GOPs otherwise).
 *
 * werift is imported when the first offer arrives, so a node without it still starts (WHIP then
 * answers 503).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type * as Werift from 'werift';
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import type { Publisher, StreamRegistry } from '../../stream/registry.ts';
import { pathBusy } from '../../stream/stream.ts';
import { parseTrickle } from './offer.ts';
import { WhipMedia, type WhipMediaStats } from './whip-media.ts';
import { parseWhipOffer } from './whip-offer.ts';

/** An ICE server as the config holds it. */
export interface WhipIceServer {
  urls: string | readonly string[];
  username?: string;
  credential?: string;
}

/** WHIP server options. */
export interface WhipServerOptions {
  registry: StreamRegistry;
  logger: Logger;
  /** UDP ports of publishers' ICE (one port each); absent = any free port. */
  portRange?: [number, number];
  /** Extra host addresses announced as candidates (NAT, Docker, loopback). */
  announcedAddresses?: readonly string[];
  /** STUN/TURN servers the server's ICE agent uses. */
  iceServers?: readonly WhipIceServer[];
  /** Publishers at once on this node (503 past it; default 20). */
  maxPublishers?: number;
  /** Time from the answer to a connected peer, ms (default 15 000). */
  connectTimeoutMs?: number;
  /** No RTP or RTCP from a connected publisher this long ends the publish, ms (default 10 000). */
  silenceTimeoutMs?: number;
  /** Ask the browser for a keyframe this often, ms (default 2000; 0 = only when needed). */
  keyframeIntervalMs?: number;
}

/** Who publishes (from the route's authorisation). */
export interface WhipRequester {
  /** How the publisher got in ("key", "token"), as the RTMP authorize hook tags it. */
  auth?: string;
  /** Token subject (logs). */
  owner?: string;
  /** Remote address. */
  address?: string;
  /** The Bearer credential of the POST: PATCH and DELETE must present the same one. */
  credential?: string;
}

/** What a route needs of a session. */
export interface WhipSessionHandle {
  readonly id: string;
  readonly etag: string;
  readonly path: string;
  /** Adds trickled candidates (RFC 8840 fragment); BAD_CANDIDATE (400) for a malformed one. */
  addCandidates(frag: string): Promise<void>;
}

interface Session extends WhipSessionHandle {
  readonly auth?: string;
  readonly remote: string;
  /** The offer has an Opus track. */
  audio: boolean;
  /** SHA-256 of the POST's credential. */
  readonly credential: Buffer;
  pc?: Werift.RTCPeerConnection;
  media?: WhipMedia;
  publisher?: Publisher;
  videoSsrc?: number;
  lastHeard: number;
  lastPli: number;
  lastPeriodicPli: number;
  timers: NodeJS.Timeout[];
  closed: boolean;
}

/** Counters of the WHIP server (health, metrics). */
export interface WhipServerStats {
  sessions: number;
  refused: number;
  plis: number;
}

function digest(credential: string | undefined): Buffer {
  return createHash('sha256')
    .update(credential ?? '')
    .digest();
}

let weriftModule: Promise<typeof Werift> | undefined;

/** werift, imported once on first use. */
function loadWerift(): Promise<typeof Werift> {
  weriftModule ??= import('werift');
  return weriftModule;
}

/** The WHIP ingest of a node. */
export class WhipServer {
  private readonly opts: WhipServerOptions;
  private readonly log: Logger;
  private readonly sessions = new Map<string, Session>();
  private closed = false;
  readonly stats: WhipServerStats = { sessions: 0, refused: 0, plis: 0 };

  constructor(opts: WhipServerOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: 'whip' });
  }

  /**
   * Starts a publish on `path` from an SDP offer; resolves with the answer. BAD_SDP (400) or
   * CODEC_UNSUPPORTED (406) for an unusable offer, PATH_BUSY (409) while someone publishes
   * there (or is connecting over WHIP), CAPACITY (503) past `maxPublishers` or when closing.
   */
  async create(
    path: string,
    offer: string,
    who: WhipRequester = {},
  ): Promise<{ session: WhipSessionHandle; answer: string }> {
    if (this.closed) throw new AirError('CAPACITY', 'The server is shutting down.', { 'Retry-After': '5' });
    const parsed = parseWhipOffer(offer);
    if (this.busy(path)) {
      this.stats.refused++;
      this.log.warn({ path, code: 'PATH_BUSY' }, 'WHIP publish refused: path busy');
      throw pathBusy(path);
    }
    if (this.sessions.size >= (this.opts.maxPublishers ?? 20)) {
      throw new AirError('CAPACITY', 'This node takes no more WHIP publishers.', { 'Retry-After': '10' });
    }
    const id = randomUUID();
    const session: Session = {
      id,
      etag: `"${randomBytes(8).toString('hex')}"`,
      path,
      remote: who.address ?? '-',
      audio: parsed.audio !== undefined,
      credential: digest(who.credential),
      ...(who.auth !== undefined ? { auth: who.auth } : {}),
      lastHeard: Date.now(),
      lastPli: 0,
      lastPeriodicPli: Date.now(),
      timers: [],
      closed: false,
      addCandidates: (frag) => this.addCandidates(session, frag),
    };
    // The path is claimed from here on: a second offer is refused while this one connects.
    this.sessions.set(id, session);
    try {
      let w: typeof Werift;
      try {
        w = await loadWerift();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'WHIP needs the werift package');
        throw new AirError('CAPACITY', 'Screen sharing (WHIP) is not available on this server.');
      }
      const answer = await this.negotiate(w, session, parsed.sdp);
      this.stats.sessions++;
      this.log.info(
        {
          path,
          session: id,
          auth: who.auth,
          owner: who.owner,
          remote: session.remote,
          audio: !!parsed.audio,
        },
        'WHIP publisher connecting',
      );
      return { session, answer };
    } catch (e) {
      this.end(session, 'offer failed');
      if (e instanceof AirError) throw e;
      this.log.warn({ path, err: (e as Error).message }, 'WHIP offer not answered');
      throw new AirError('BAD_SDP', 'The offer could not be answered.');
    }
  }

  /** True while `path` has a live publisher or a WHIP session on it. */
  private busy(path: string): boolean {
    if (this.opts.registry.get(path)?.state === 'live') return true;
    for (const s of this.sessions.values()) if (s.path === path && !s.closed) return true;
    return false;
  }

  private async negotiate(w: typeof Werift, s: Session, offer: string): Promise<string> {
    const o = this.opts;
    const pc = new w.RTCPeerConnection({
      iceServers: (o.iceServers ?? []).map((x) => ({
        urls: typeof x.urls === 'string' ? x.urls : [...x.urls],
        ...(x.username !== undefined ? { username: x.username } : {}),
        ...(x.credential !== undefined ? { credential: x.credential } : {}),
      })),
      ...(o.portRange ? { icePortRange: o.portRange } : {}),
      ...(o.announcedAddresses?.length ? { iceAdditionalHostAddresses: [...o.announcedAddresses] } : {}),
      codecs: {
        video: [
          new w.RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: [
              { type: 'nack', parameter: 'pli' },
              { type: 'ccm', parameter: 'fir' },
            ],
            parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
          }),
        ],
        audio: [new w.RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      },
      headerExtensions: { video: [w.useSdesMid()], audio: [w.useSdesMid()] },
    });
    s.pc = pc;
    pc.onTrack.subscribe((track) => this.onTrack(s, track));
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.onConnected(s);
      else if (state === 'failed' || state === 'closed') this.end(s, `connection ${state}`);
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3000);
        pc.iceGatheringStateChange.subscribe((g) => {
          if (g === 'complete') {
            clearTimeout(t);
            resolve();
          }
        });
      });
    }
    if (s.closed) throw new AirError('STREAM_NOT_LIVE', 'The publish ended while it was set up.');
    const connect = setTimeout(() => {
      if (!s.publisher) this.end(s, 'not connected in time');
    }, o.connectTimeoutMs ?? 15_000);
    connect.unref();
    s.timers.push(connect);
    return pc.localDescription?.sdp ?? '';
  }

  private onTrack(s: Session, track: Werift.MediaStreamTrack): void {
    const video = track.kind === 'video';
    if (video && track.ssrc) s.videoSsrc = track.ssrc;
    track.onReceiveRtp.subscribe((rtp) => {
      s.lastHeard = Date.now();
      if (video && track.ssrc) s.videoSsrc = track.ssrc;
      const m = s.media;
      if (!m) return;
      const pkt = {
        payload: rtp.payload,
        marker: rtp.header.marker,
        sequenceNumber: rtp.header.sequenceNumber,
        timestamp: rtp.header.timestamp,
      };
      if (video) {
        m.video(pkt);
        if (m.needKeyframe) this.pli(s, 500);
      } else m.audio(pkt);
    });
    track.onReceiveRtcp.subscribe(() => {
      s.lastHeard = Date.now();
    });
  }

  /** ICE and DTLS are up: the publish starts (a publisher of the registry, as RTMP's). */
  private onConnected(s: Session): void {
    if (s.closed || s.publisher) return;
    try {
      s.publisher = this.opts.registry.publish(s.path, {
        id: `whip-${s.id.slice(0, 8)}`,
        protocol: 'whip',
        remote: s.remote,
      });
    } catch (e) {
      this.log.warn({ path: s.path, err: (e as Error).message }, 'WHIP publish refused: path busy');
      this.end(s, 'path busy');
      return;
    }
    s.media = new WhipMedia(s.publisher, this.log.child({ path: s.path }));
    if (s.audio) s.media.announceAudio();
    s.lastHeard = Date.now();
    this.log.info({ path: s.path, session: s.id }, 'WHIP publish started');
    this.pli(s, 0);
    const every = this.opts.keyframeIntervalMs ?? 2000;
    const silence = this.opts.silenceTimeoutMs ?? 10_000;
    const tick = setInterval(() => {
      const now = Date.now();
      if (now - s.lastHeard > silence) return this.end(s, 'no media from the publisher');
      if (s.media?.needKeyframe) this.pli(s, 500);
      else if (every > 0 && now - s.lastPeriodicPli >= every) {
        s.lastPeriodicPli = now;
        this.pli(s, 0);
      }
    }, 250);
    tick.unref();
    s.timers.push(tick);
  }

  /** Sends a PLI for the video track, at most once per `minGapMs`. */
  private pli(s: Session, minGapMs: number): void {
    const now = Date.now();
    if (s.closed || !s.pc || s.videoSsrc === undefined || now - s.lastPli < minGapMs) return;
    s.lastPli = now;
    const receiver = s.pc.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    if (!receiver) return;
    this.stats.plis++;
    void receiver.sendRtcpPLI(s.videoSsrc).catch(() => undefined);
  }

  private async addCandidates(s: Session, frag: string): Promise<void> {
    const t = parseTrickle(frag);
    if (s.closed || !s.pc) throw new AirError('SESSION_NOT_FOUND');
    for (const candidate of t.candidates) {
      await s.pc.addIceCandidate({ candidate, sdpMid: t.mid ?? '0' });
    }
  }

  /** Ends a session and its publish (viewers wait for the registry's grace). Idempotent. */
  private end(s: Session, reason: string): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s.id);
    for (const t of s.timers) clearTimeout(t);
    const stats: WhipMediaStats | undefined = s.media?.stats;
    if (s.publisher) {
      s.publisher.close();
      this.log.info({ path: s.path, session: s.id, reason, stats }, 'WHIP publish ended');
    } else this.log.info({ path: s.path, session: s.id, reason }, 'WHIP session ended before publishing');
    void s.pc?.close().catch(() => undefined);
  }

  /**
   * The session `id` on `path` for a client presenting `credential` (the one its POST sent):
   * SESSION_NOT_FOUND if unknown, TOKEN_MISSING / TOKEN_INVALID for another credential.
   */
  get(path: string, id: string, credential: string | undefined): WhipSessionHandle {
    if (!credential) throw new AirError('TOKEN_MISSING');
    const s = this.sessions.get(id);
    if (!s || s.path !== path) throw new AirError('SESSION_NOT_FOUND', 'Unknown WHIP session.');
    if (!timingSafeEqual(s.credential, digest(credential))) {
      throw new AirError('TOKEN_INVALID', 'Use the credential this publish was started with.');
    }
    return s;
  }

  /** Ends a session (the client's DELETE); errors as `get`. */
  delete(path: string, id: string, credential: string | undefined): void {
    this.get(path, id, credential);
    this.end(this.sessions.get(id)!, 'deleted by the client');
  }

  /**
   * Ends the WHIP publish of `path` — any, or only one whose authorisation was tagged `auth`
   * (a key rotation disconnects a key publisher only). Returns how many ended.
   */
  closePath(path: string, auth?: string, reason = 'disconnected by the server'): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.path !== path || (auth !== undefined && s.auth !== auth)) continue;
      this.end(s, reason);
      n++;
    }
    return n;
  }

  /** WHIP sessions (connecting or publishing), on one path or all. */
  publishers(path?: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (path === undefined || s.path === path) n++;
    return n;
  }

  /** The media counters of the publish on `path`, if one is live. */
  mediaStats(path: string): (WhipMediaStats & { droppedVideoFrames: number }) | undefined {
    for (const s of this.sessions.values()) {
      if (s.path === path && s.media)
        return { ...s.media.stats, droppedVideoFrames: s.media.droppedVideoFrames };
    }
    return undefined;
  }

  /** Ends every session. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const s of [...this.sessions.values()]) this.end(s, 'server closing');
    }
    return Promise.resolve();
  }
}
