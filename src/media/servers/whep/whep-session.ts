import { randomBytes, randomUUID } from 'node:crypto';
import { RTCPeerConnection, RtpHeader, RtpPacket, type PeerConfig, type RTCRtpTransceiver } from 'werift';
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import type { Reader } from '../../stream/reader.ts';
import type { Stream } from '../../stream/stream.ts';
import type { AccessUnit, Codec } from '../../stream/types.ts';
import { rtpOf } from './rtp-tap.ts';

/** What a session needs from its server. */
export interface WhepSessionOptions {
  stream: Stream;
  peerConfig: Partial<PeerConfig>;
  logger: Logger;
  /** Reader queue bound in access units. */
  maxQueue: number;
  /** Close a session whose ICE/DTLS is not up after this long, ms. */
  connectTimeoutMs: number;
  /** Close a session that stays disconnected this long, ms. */
  disconnectTimeoutMs: number;
  /** Called once when the session has closed. */
  onClose: (s: WhepSession) => void;
  /** Called once when media starts flowing (ICE + DTLS up). */
  onConnected: (s: WhepSession) => void;
}

const REPLAY_CODECS: ReadonlySet<Codec> = new Set(['h264']);
const H264_IN_OFFER = /^a=rtpmap:\d+ H264\/90000/im;

/**
 * One WHEP viewer: a werift peer connection that sends the stream's shared RTP packets
 * (video H.264, audio Opus). Media starts when the connection is up, with the last GOP first
 * so the picture appears at once.
 */
export class WhepSession {
  readonly id = randomUUID();
  readonly etag = `"${randomBytes(8).toString('hex')}"`;
  readonly createdAt = Date.now();
  connectedAt?: number;
  readonly stream: Stream;
  private readonly pc: RTCPeerConnection;
  private readonly video: RTCRtpTransceiver;
  private readonly audio: RTCRtpTransceiver;
  private readonly opts: WhepSessionOptions;
  private reader?: Reader;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly offStream: () => void;
  packetsSent = 0;

  private constructor(opts: WhepSessionOptions) {
    this.opts = opts;
    this.stream = opts.stream;
    this.pc = new RTCPeerConnection(opts.peerConfig);
    this.video = this.pc.addTransceiver('video', { direction: 'sendonly' });
    this.audio = this.pc.addTransceiver('audio', { direction: 'sendonly' });
    this.pc.connectionStateChange.subscribe((state) => this.onState(state));
    const onOffline = (): void => this.close('stream offline');
    this.stream.on('offline', onOffline);
    this.offStream = () => this.stream.off('offline', onOffline);
    this.timer = setTimeout(() => this.close('connect timeout'), opts.connectTimeoutMs);
  }

  /** Negotiates a session from a browser's offer; resolves with the answer SDP. */
  static async create(
    opts: WhepSessionOptions,
    offer: string,
  ): Promise<{ session: WhepSession; answer: string }> {
    if (!/^v=0/m.test(offer) || !/^m=video /m.test(offer) || !H264_IN_OFFER.test(offer)) {
      throw new AirError('BAD_SDP', 'The offer must contain a video section that accepts H.264.');
    }
    const s = new WhepSession(opts);
    try {
      await s.pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const answer = await s.pc.createAnswer();
      await s.pc.setLocalDescription(answer);
      await s.gathered();
      const sdp = s.pc.localDescription?.sdp;
      if (!sdp) throw new Error('no local description');
      return { session: s, answer: sdp };
    } catch (e) {
      s.close('negotiation failed');
      if (e instanceof AirError) throw e;
      throw new AirError('BAD_SDP', `The offer could not be negotiated: ${(e as Error).message}`);
    }
  }

  private async gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      this.pc.iceGatheringStateChange.subscribe((st) => {
        if (st === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }

  /** Adds remote candidates from a trickle-ice-sdpfrag body. */
  async addCandidates(frag: string): Promise<void> {
    for (const line of frag.split(/\r?\n/)) {
      const m = /^a=(candidate:.+)$/.exec(line.trim());
      if (!m) continue;
      await this.pc.addIceCandidate({ candidate: m[1], sdpMLineIndex: 0, sdpMid: this.video.mid ?? '0' });
    }
  }

  private onState(state: string): void {
    if (this.closed) return;
    if (state === 'connected') {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.reader) this.start();
    } else if (state === 'disconnected') {
      this.timer ??= setTimeout(() => this.close('disconnected'), this.opts.disconnectTimeoutMs);
    } else if (state === 'failed' || state === 'closed') {
      this.close(state);
    }
  }

  private start(): void {
    this.connectedAt = Date.now();
    this.reader = this.stream.addReader(
      {
        codecs: new Set(['h264', 'opus']),
        maxQueue: this.opts.maxQueue,
        label: `whep:${this.id.slice(0, 8)}`,
      },
      (au) => this.send(au),
      // Video from the last GOP so the picture appears at once; audio starts live. A replayed
      // burst of audio cannot be skipped by the browser: it would sit in its jitter buffer
      // (measured: ≈1.2 s with a 2 s GOP) and hold the picture back with it for lip sync.
      REPLAY_CODECS,
    );
    this.opts.onConnected(this);
  }

  private send(au: AccessUnit): Promise<void> | undefined {
    const packets = rtpOf(au);
    const sender = au.codec === 'h264' ? this.video.sender : this.audio.sender;
    let last: Promise<void> | undefined;
    for (const p of packets) {
      const header = new RtpHeader({
        sequenceNumber: p.sequenceNumber,
        timestamp: p.timestamp,
        marker: p.marker,
      });
      last = sender.sendRtp(new RtpPacket(header, p.payload));
      this.packetsSent++;
    }
    return last;
  }

  /** Reader statistics for /health and benchmarks. */
  get stats(): { dropped: number; queued: number; packetsSent: number } {
    return {
      dropped: this.reader?.dropped ?? 0,
      queued: this.reader?.queued ?? 0,
      packetsSent: this.packetsSent,
    };
  }

  /** Ends the session and its peer connection. Idempotent. */
  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.offStream();
    this.reader?.close();
    this.opts.logger.debug({ session: this.id, path: this.stream.path, reason }, 'whep session closed');
    void this.pc.close().catch(() => undefined);
    this.opts.onClose(this);
  }
}
