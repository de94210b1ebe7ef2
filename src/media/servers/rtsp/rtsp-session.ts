/**
 * One RTSP connection on the main node: a sub node, ffprobe, ffplay or VLC reading a live path
 * (RFC 2326). DESCRIBE answers the path's tracks (H.264, AAC as published, the Opus that
 * browsers play); SETUP takes TCP-interleaved transport; PLAY starts the flow from the cached
 * GOP; GET_PARAMETER (or any request, or RTCP) keeps the session alive. A slow reader drops
 * frames up to the next keyframe and never holds up the stream.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { AirError, isAirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import { withParameterSets } from '../../protocol/h264/nal.ts';
import { packetizeAac } from '../../protocol/rtp/aac.ts';
import { packetizeH264 } from '../../protocol/rtp/h264-packetizer.ts';
import { RtpSequencer } from '../../protocol/rtp/sequencer.ts';
import {
  controlOfUri,
  formatTransport,
  interleavedFrame,
  parseTransport,
  pathOfUri,
  requestCredentials,
  RtspParser,
  serializeRequest,
  serializeResponse,
  type RtspRequest,
} from '../../protocol/rtsp/message.ts';
import { buildSdp, type SdpTrack } from '../../protocol/rtsp/sdp.ts';
import type { Reader } from '../../stream/reader.ts';
import type { StreamRegistry } from '../../stream/registry.ts';
import type { Stream } from '../../stream/stream.ts';
import type { AccessUnit, Codec } from '../../stream/types.ts';
import { writeSenderReport } from '../webrtc/rtcp.ts';

/** Checks a reader's credentials for a path; throws AirError (TOKEN_*) to refuse. */
export type RtspAuthorize = (token: string | undefined, path: string) => Promise<void>;

/** Limits of RTSP connections. */
export interface RtspLimits {
  maxConnections: number;
  maxPerAddress: number;
  /** Largest request head or body, bytes. */
  maxRequestBytes: number;
  /** A session with no request, RTCP or keep-alive this long is closed, s. */
  sessionTimeoutS: number;
  /** Time from accept to PLAY, ms. */
  setupTimeoutMs: number;
  /** Bytes queued on the socket past which frames are dropped up to the next keyframe. */
  maxBufferedBytes: number;
  /** Requests per second on one connection (burst of as many). */
  requestsPerSecond: number;
}

export const DEFAULT_RTSP_LIMITS: RtspLimits = {
  maxConnections: 200,
  maxPerAddress: 40,
  maxRequestBytes: 16 * 1024,
  sessionTimeoutS: 60,
  setupTimeoutMs: 20_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  requestsPerSecond: 20,
};

/** RTP payload size on the interleaved connection (no UDP MTU to respect; kept VLC-friendly). */
const RTSP_MTU = 1400;
/**
 * A sub's pull says `X-AirClass-Relay: 1` in SETUP. Then the first RTP packet of each
 * video frame carries the main's send time (the hop delay): an RFC 8285 one-byte header extension, id 1, the
 * Unix time in ms (sub-millisecond, from performance.timeOrigin + now()) as a float64. Other readers never see it.
 */
export const TIMING_EXTENSION_ID = 1;
const SR_INTERVAL_MS = 2000;
const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER';

interface OutTrack {
  readonly control: string;
  readonly codec: Codec;
  readonly sdp: SdpTrack;
  seq?: RtpSequencer;
  channel?: number;
  lastTs?: number;
  lastAt?: number;
  srAt?: number;
}

/** The tracks a stream offers over RTSP, in a fixed order with fixed controls. */
export function rtspTracks(stream: Stream): OutTrack[] {
  const out: OutTrack[] = [];
  if (stream.video) {
    out.push({
      control: 'trackID=0',
      codec: 'h264',
      sdp: { track: stream.video, payloadType: 96, control: 'trackID=0' },
    });
  }
  if (stream.audio?.codec === 'aac') {
    out.push({
      control: 'trackID=1',
      codec: 'aac',
      sdp: { track: stream.audio, payloadType: 97, control: 'trackID=1' },
    });
  }
  const opus = stream.audio?.codec === 'opus' ? stream.audio : stream.opus;
  if (opus) {
    out.push({
      control: 'trackID=2',
      codec: 'opus',
      sdp: { track: opus, payloadType: 111, control: 'trackID=2' },
    });
  }
  return out;
}

/** What a connection tells its server. */
export interface RtspSessionEvents {
  close: [code: string | undefined, reason: string];
}

/** Dependencies of a connection. */
export interface RtspSessionOptions {
  id: string;
  registry: StreamRegistry;
  authorize: RtspAuthorize;
  logger: Logger;
  limits: RtspLimits;
  /** Address written in the SDP `c=`/`o=` lines. */
  localAddress: string;
}

/** One RTSP connection (one session at most). */
export class RtspSession extends EventEmitter<RtspSessionEvents> {
  readonly id: string;
  readonly remoteAddress: string;
  /** The path this connection described or set up. */
  path: string | undefined;
  state: 'init' | 'ready' | 'playing' | 'closed' = 'init';
  /** Frames dropped because the reader's socket was full. */
  dropped = 0;
  private readonly socket: Socket;
  private readonly opts: RtspSessionOptions;
  private readonly log: Logger;
  private readonly parser: RtspParser;
  private authorizedPath: string | undefined;
  private sessionId: string | undefined;
  private tracks: OutTrack[] = [];
  /** The SDP this connection was given, to notice a change of tracks. */
  private described = '';
  private stream: Stream | undefined;
  private reader: Reader | undefined;
  private waitKey = false;
  private queue: Promise<void> = Promise.resolve();
  private lastActivity = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private tokens: number;
  private lastRefill = Date.now();
  private serverCseq = 0;
  /** A sub node's pull (`X-AirClass-Relay: 1`): send-time stamps and viewer commands. */
  relay = false;
  private unlisten: (() => void) | undefined;

  constructor(socket: Socket, opts: RtspSessionOptions) {
    super();
    this.socket = socket;
    this.opts = opts;
    this.id = opts.id;
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.log = opts.logger.child({ rtsp: opts.id });
    this.tokens = opts.limits.requestsPerSecond;
    this.parser = new RtspParser({
      maxHeaderBytes: opts.limits.maxRequestBytes,
      maxBodyBytes: opts.limits.maxRequestBytes,
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => this.close(undefined, 'socket error'));
    socket.on('close', () => this.close(undefined, 'connection closed'));
    this.timers.push(
      setTimeout(() => {
        if (this.state !== 'playing') this.close('REQUEST_TIMEOUT', 'no PLAY in time');
      }, opts.limits.setupTimeoutMs),
      setInterval(() => this.tick(), 1000),
    );
    for (const t of this.timers) t.unref();
  }

  private tick(): void {
    const now = Date.now();
    if (now - this.lastActivity > this.opts.limits.sessionTimeoutS * 1000) {
      this.close('REQUEST_TIMEOUT', 'session timed out');
      return;
    }
    if (this.state !== 'playing') return;
    for (const t of this.tracks) {
      if (!t.seq || t.channel === undefined || t.lastTs === undefined || t.lastAt === undefined) continue;
      if (t.srAt !== undefined && now - t.srAt < SR_INTERVAL_MS) continue;
      t.srAt = now;
      const sr = new Uint8Array(28);
      writeSenderReport(sr, {
        ssrc: t.seq.ssrc,
        unixMs: now,
        rtpTimestamp: (t.lastTs + Math.round(((now - t.lastAt) * t.seq.clockRate) / 1000)) >>> 0,
        packetCount: t.seq.packetCount,
        octetCount: t.seq.octetCount,
      });
      this.write(interleavedFrame(t.channel + 1, sr));
    }
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastActivity = Date.now();
    let items;
    try {
      items = this.parser.push(chunk);
    } catch (e) {
      const code = isAirError(e) ? e.code : 'RTSP_PROTOCOL';
      const status = code === 'RTSP_TOO_LARGE' ? 413 : 400;
      this.log.info({ code, remote: this.remoteAddress }, 'RTSP request malformed; connection closed');
      this.socket.write(serializeResponse({ status, headers: { Connection: 'close' } }));
      this.close(code, 'malformed request');
      return;
    }
    for (const item of items) {
      if (item.type !== 'request') continue; // RTCP receiver reports (interleaved) only keep it alive
      if (!this.allow()) {
        this.socket.write(serializeResponse({ status: 453, reason: 'Not Enough Bandwidth', headers: {} }));
        this.close('RATE_LIMITED', 'too many requests');
        return;
      }
      const req = item.request;
      this.queue = this.queue.then(() => this.handle(req)).catch((e) => this.fail(req, e));
    }
  }

  private allow(): boolean {
    const now = Date.now();
    const rate = this.opts.limits.requestsPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private reply(
    req: RtspRequest,
    status: number,
    headers: Record<string, string> = {},
    body?: Uint8Array,
  ): void {
    if (this.state === 'closed') return;
    const h: Record<string, string> = {
      CSeq: req.headers.get('cseq') ?? '0',
      Server: 'AirClass',
      ...headers,
    };
    this.socket.write(serializeResponse({ status, headers: h, ...(body ? { body } : {}) }));
  }

  private fail(req: RtspRequest, e: unknown): void {
    if (!isAirError(e)) {
      this.log.warn({ err: e }, 'RTSP request failed');
      this.reply(req, 500);
      return;
    }
    const status =
      e.code === 'TOKEN_MISSING' || e.code === 'TOKEN_INVALID'
        ? 401
        : e.code === 'TOKEN_SCOPE'
          ? 403
          : e.code === 'STREAM_NOT_LIVE' || e.code === 'NOT_FOUND'
            ? 404
            : e.code === 'SESSION_NOT_FOUND'
              ? 454
              : e.code === 'UNSUPPORTED_TRANSPORT'
                ? 461
                : e.code === 'CAPACITY'
                  ? 503
                  : 400;
    const headers: Record<string, string> = {};
    if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="AirClass"';
    this.reply(req, status, headers);
  }

  /** The path of a request, authorised (once per connection and path; a new token is checked). */
  private async authorized(req: RtspRequest): Promise<string> {
    const path = pathOfUri(req.uri);
    if (!path) throw new AirError('NOT_FOUND');
    if (this.path && path !== this.path) throw new AirError('BAD_REQUEST', 'One path per connection.');
    const token = requestCredentials(req);
    if (this.authorizedPath !== path || token !== undefined) {
      if (this.authorizedPath !== path || token) await this.opts.authorize(token, path);
      this.authorizedPath = path;
    }
    return path;
  }

  private liveStream(path: string): Stream {
    const s = this.opts.registry.get(path);
    if (!s || s.state === 'idle' || !s.video) throw new AirError('STREAM_NOT_LIVE');
    return s;
  }

  private async handle(req: RtspRequest): Promise<void> {
    if (this.state === 'closed') return;
    switch (req.method) {
      case 'OPTIONS':
        return this.reply(req, 200, { Public: PUBLIC });
      case 'GET_PARAMETER':
      case 'SET_PARAMETER':
        return this.reply(req, 200, this.sessionId ? { Session: this.sessionHeader() } : {});
      case 'DESCRIBE':
        return this.describe(req);
      case 'SETUP':
        return this.setup(req);
      case 'PLAY':
        return this.play(req);
      case 'TEARDOWN':
        this.reply(req, 200);
        return this.close(undefined, 'TEARDOWN');
      default:
        return this.reply(req, 405, { Allow: PUBLIC });
    }
  }

  private sessionHeader(): string {
    return `${this.sessionId};timeout=${this.opts.limits.sessionTimeoutS}`;
  }

  private sdpOf(stream: Stream): string {
    return buildSdp({
      address: this.opts.localAddress,
      sessionName: stream.path,
      tracks: rtspTracks(stream).map((t) => t.sdp),
    });
  }

  private async describe(req: RtspRequest): Promise<void> {
    const path = await this.authorized(req);
    const stream = this.liveStream(path);
    this.path = path;
    const sdp = this.sdpOf(stream);
    this.described = sdp;
    const base = req.uri.replace(/\?.*$/, '').replace(/\/?$/, '/');
    this.reply(req, 200, { 'Content-Type': 'application/sdp', 'Content-Base': base }, Buffer.from(sdp));
  }

  private async setup(req: RtspRequest): Promise<void> {
    const path = await this.authorized(req);
    if (this.state === 'playing') throw new AirError('BAD_REQUEST', 'SETUP while playing');
    const stream = this.liveStream(path);
    this.path = path;
    if (this.sessionId && req.headers.get('session')?.split(';')[0]?.trim() !== this.sessionId) {
      throw new AirError('SESSION_NOT_FOUND');
    }
    if (!this.described) this.described = this.sdpOf(stream);
    if (this.tracks.length === 0) this.tracks = rtspTracks(stream);
    const control = controlOfUri(req.uri) ?? (this.tracks.length === 1 ? this.tracks[0]!.control : undefined);
    const track = this.tracks.find((t) => t.control === control);
    if (!track) throw new AirError('NOT_FOUND', `No track ${control ?? '(none)'}.`);
    const offered = parseTransport(req.headers.get('transport') ?? '');
    const tcp = offered.find((t) => t.protocol === 'RTP/AVP/TCP');
    if (!tcp) throw new AirError('UNSUPPORTED_TRANSPORT', 'Use RTP over TCP (interleaved).');
    const used = new Set(
      this.tracks.filter((t) => t.channel !== undefined && t !== track).map((t) => t.channel),
    );
    let channel = tcp.interleaved?.[0];
    if (channel === undefined) for (channel = 0; used.has(channel); channel += 2);
    if (channel > 254 || used.has(channel))
      throw new AirError('UNSUPPORTED_TRANSPORT', 'Interleaved channel taken.');
    track.channel = channel;
    if (req.headers.get('x-airclass-relay') === '1') this.relay = true;
    track.seq = new RtpSequencer(track.sdp.track.clockRate, undefined, {
      payloadType: track.sdp.payloadType,
    });
    this.sessionId ??= randomBytes(8).toString('hex');
    this.state = 'ready';
    this.reply(req, 200, {
      Session: this.sessionHeader(),
      Transport: formatTransport({
        protocol: 'RTP/AVP/TCP',
        unicast: true,
        interleaved: [channel, channel + 1],
        ssrc: track.seq.ssrc,
      }),
    });
  }

  private async play(req: RtspRequest): Promise<void> {
    const path = await this.authorized(req);
    if (!this.sessionId || req.headers.get('session')?.split(';')[0]?.trim() !== this.sessionId) {
      throw new AirError('SESSION_NOT_FOUND');
    }
    const stream = this.liveStream(path);
    const active = this.tracks.filter((t) => t.seq);
    if (active.length === 0) throw new AirError('BAD_REQUEST', 'PLAY before SETUP');
    if (this.state === 'playing') return this.reply(req, 200, { Session: this.sessionHeader() });
    // RTP-Info: every track's timestamp at one instant (the first unit sent), so a receiver can
    // align the tracks before the first sender report.
    const gop = stream.lastGop();
    const start = gop[0]?.dts ?? 0;
    const info = active
      .map(
        (t) =>
          `url=${req.uri.replace(/\?.*$/, '').replace(/\/?$/, '/')}${t.control};seq=${t.seq!.sequenceNumber};rtptime=${t.seq!.timestamp(start)}`,
      )
      .join(',');
    this.reply(req, 200, { Session: this.sessionHeader(), Range: 'npt=0.000-', 'RTP-Info': info });
    this.state = 'playing';
    this.stream = stream;
    const codecs = new Set(active.map((t) => t.codec));
    this.reader = stream.addReader({ codecs, maxQueue: 2048, label: `rtsp:${this.id}` }, (au) =>
      this.send(au),
    );
    const onOffline = (): void => this.endOfStream('the stream ended');
    const onTracks = (): void => {
      if (this.stream && this.stream.video && this.sdpOf(this.stream) !== this.described) {
        this.close(undefined, 'the tracks changed; describe again');
      }
    };
    stream.on('offline', onOffline);
    stream.on('tracks', onTracks);
    this.unlisten = () => {
      stream.off('offline', onOffline);
      stream.off('tracks', onTracks);
    };
    this.log.info(
      { path, remote: this.remoteAddress, tracks: active.map((t) => t.codec) },
      'RTSP reader playing',
    );
  }

  private send(au: AccessUnit): void {
    if (this.state !== 'playing') return;
    const full = this.socket.writableLength > this.opts.limits.maxBufferedBytes;
    if (au.codec === 'h264') {
      if (full) this.waitKey = true;
      if (this.waitKey && !au.key) {
        this.dropped++;
        return;
      }
      if (!full) this.waitKey = false;
    }
    if (full) {
      this.dropped++;
      return;
    }
    for (const t of this.tracks) {
      if (t.codec !== au.codec || !t.seq || t.channel === undefined) continue;
      let payloads;
      try {
        if (au.codec === 'h264') {
          const v = this.stream?.video;
          payloads = packetizeH264(withParameterSets(au.data, v?.sps, v?.pps), RTSP_MTU);
        } else if (au.codec === 'aac') payloads = packetizeAac(au.data, RTSP_MTU);
        else payloads = au.data.map((d) => ({ payload: d, marker: true }));
      } catch {
        this.dropped++;
        return;
      }
      const packets = t.seq.next(payloads, au.pts);
      t.lastTs = t.seq.timestamp(au.pts);
      t.lastAt = Date.now();
      if (this.relay && au.codec === 'h264' && packets[0]) {
        const data = new Uint8Array(12); // 1 header byte + 8 data bytes, padded to 4
        data[0] = (TIMING_EXTENSION_ID << 4) | 7;
        new DataView(data.buffer).setFloat64(1, performance.timeOrigin + performance.now());
        packets[0].header.extension = { profile: 0xbede, data };
      }
      // One write per frame, not per packet: fewer syscalls and wake-ups on both sides.
      this.write(Buffer.concat(packets.map((p) => interleavedFrame(t.channel!, p.serialize()))));
    }
  }

  private write(b: Uint8Array): void {
    if (this.state !== 'closed') this.socket.write(b);
  }

  /**
   * Tells a sub's pull to close the viewers of `owner` on this path (a student the teacher
   * removed): a server-to-client SET_PARAMETER (RFC 2326 §10.9) with `airclass-close-viewers`.
   */
  closeViewers(owner: string): void {
    if (this.state !== 'playing' || !this.relay || !this.sessionId || !/^[^\r\n]{1,200}$/.test(owner)) return;
    this.socket.write(
      serializeRequest({
        method: 'SET_PARAMETER',
        uri: `rtsp://${this.opts.localAddress}/${this.path}`,
        headers: {
          CSeq: String(++this.serverCseq),
          Session: this.sessionId,
          'Content-Type': 'text/parameters',
        },
        body: Buffer.from(`airclass-close-viewers: ${owner}\r\n`),
      }),
    );
  }

  /**
   * The stream ended for good (the lesson ended, or its publisher never came back): the client
   * is told with a server-to-client TEARDOWN (RFC 7826 §13.7, `Terminate-Reason`) before the
   * connection closes, so a sub ends its viewers at once instead of waiting for a reconnect.
   */
  endOfStream(reason: string): void {
    if (this.state === 'closed') return;
    if (this.sessionId && this.path) {
      this.socket.write(
        serializeRequest({
          method: 'TEARDOWN',
          uri: `rtsp://${this.opts.localAddress}/${this.path}`,
          headers: {
            CSeq: String(++this.serverCseq),
            Session: this.sessionId,
            'Terminate-Reason': 'Server-Admin',
          },
        }),
      );
    }
    this.close(undefined, reason);
  }

  /** Closes the connection. Idempotent. */
  close(code?: string, reason = 'closed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.unlisten?.();
    this.reader?.close();
    this.socket.end();
    this.socket.destroySoon();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.emit('close', code, reason);
  }
}
