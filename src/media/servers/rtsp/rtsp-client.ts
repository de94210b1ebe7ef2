/**
 * An RTSP client that pulls one path from the main node over TCP-interleaved RTP (what a sub
 * node runs): DESCRIBE, SETUP of the tracks it wants, PLAY, GET_PARAMETER keep-alives. It turns
 * the RTP back into access units of the internal stream model with millisecond timestamps on one
 * timeline for all tracks (from RTP-Info), and reports how the session ended: a server TEARDOWN
 * (the stream ended), a refusal (4xx), or a lost connection.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../../shared/logger.ts';
import { isKeyframe } from '../../protocol/h264/nal.ts';
import { AacDepacketizer } from '../../protocol/rtp/aac.ts';
import { H264Depacketizer } from '../../protocol/rtp/h264-packetizer.ts';
import { depacketizeOpus } from '../../protocol/rtp/opus.ts';
import { RtpPacket } from '../../protocol/rtp/packet.ts';
import {
  formatTransport,
  parseSessionHeader,
  RtspParser,
  serializeRequest,
  serializeResponse,
  type RtspRequest,
  type RtspResponse,
} from '../../protocol/rtsp/message.ts';
import { parseSdp, type SdpTrack } from '../../protocol/rtsp/sdp.ts';
import {
  accessUnit,
  type AccessUnit,
  type AudioTrack,
  type Codec,
  type VideoTrack,
} from '../../stream/types.ts';

/** How a pull ended. */
export type PullEnd =
  /** The main sent TEARDOWN: the stream ended there (lesson over). */
  | { kind: 'teardown' }
  /** The main answered with an error status (404: nothing live; 401/403: refused). */
  | { kind: 'refused'; status: number }
  /** The connection failed or dropped (main down or restarting, network). */
  | { kind: 'lost'; message: string };

export interface RtspPullEvents {
  /** PLAY succeeded: the tracks that will flow. */
  ready: [tracks: { video: VideoTrack; audio?: AudioTrack }];
  au: [au: AccessUnit];
  end: [end: PullEnd];
  /** The main asks to close this path's viewers of `owner` (a student the teacher removed). */
  closeViewers: [owner: string];
}

export interface RtspPullOptions {
  /** rtsp://host:port/live/<name> (no credentials in it). */
  url: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  logger: Logger;
  /** Audio codec to take, if offered (the sub relays Opus). */
  audio?: 'opus' | 'aac';
  /** Time for each response, ms (default 5000). */
  timeoutMs?: number;
  /** GET_PARAMETER interval, ms (default 15 000). */
  keepAliveMs?: number;
}

interface InTrack {
  sdp: SdpTrack;
  codec: Codec;
  channel: number;
  clock: number;
  base?: number;
  ext: number;
  last?: number;
}

/** The last 20 s of frames at 30 fps. */
const HOP_SAMPLES = 600;

/** The main's send time stamped in a packet (one-byte header extension id 1, float64 ms). */
function sendTime(pkt: RtpPacket): number | undefined {
  const ext = pkt.header.extension;
  if (!ext || ext.profile !== 0xbede) return undefined;
  const d = ext.data;
  for (let i = 0; i < d.length;) {
    const b = d[i]!;
    if (b === 0) {
      i++;
      continue;
    }
    const id = b >> 4;
    const len = (b & 0x0f) + 1;
    if (id === 1 && len === 8 && i + 9 <= d.length) {
      return new DataView(d.buffer, d.byteOffset + i + 1, 8).getFloat64(0);
    }
    i += 1 + len;
  }
  return undefined;
}

/** A response with an error status. */
class RtspStatusError extends Error {
  readonly status: number;
  constructor(method: string, status: number) {
    super(`${method} answered ${status}`);
    this.status = status;
  }
}

type Pending = { resolve: (r: RtspResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** One pull of one path. Start with `start()`; it emits `end` exactly once. */
export class RtspPull extends EventEmitter<RtspPullEvents> {
  private readonly opts: RtspPullOptions;
  private readonly log: Logger;
  private socket: Socket | undefined;
  private readonly parser = new RtspParser({ maxBodyBytes: 256 * 1024, maxInterleavedBytes: 65535 });
  private cseq = 0;
  private readonly pending = new Map<number, Pending>();
  private session: string | undefined;
  private readonly tracks = new Map<number, InTrack>();
  private readonly h264 = new H264Depacketizer();
  private readonly aac = new AacDepacketizer();
  private keepAlive: NodeJS.Timeout | undefined;
  private ended = false;
  /**
   * Frames that arrive with (or right after) the PLAY answer, before its RTP-Info is read and
   * `ready` is out: the server starts with the cached GOP's keyframe, so none may be lost.
   */
  private early: { channel: number; data: Uint8Array }[] | undefined = [];
  /** Packets and bytes received (bench, /health). */
  readonly stats = { packets: 0, bytes: 0, accessUnits: 0, badPackets: 0 };
  /**
   * How long video frames took from the main's send to this node, ms (the main stamps its send
   * time in each frame; meaningful when both clocks agree, e.g. on one machine).
   */
  private readonly hops: number[] = [];

  constructor(opts: RtspPullOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger.child({ rtspPull: opts.url.replace(/\?.*$/, '') });
  }

  start(): void {
    void this.run().catch((e: unknown) => {
      if (e instanceof RtspStatusError) this.finish({ kind: 'refused', status: e.status });
      else this.finish({ kind: 'lost', message: e instanceof Error ? e.message : String(e) });
    });
  }

  private async run(): Promise<void> {
    const u = new URL(this.opts.url);
    const socket = connect({ host: u.hostname, port: Number(u.port || 554) });
    this.socket = socket;
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect timed out')), this.opts.timeoutMs ?? 5000);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (e) => this.finish({ kind: 'lost', message: e.message }));
    socket.on('close', () => this.finish({ kind: 'lost', message: 'connection closed' }));

    const url = this.opts.url;
    const desc = await this.request('DESCRIBE', url, { Accept: 'application/sdp' });
    const base = (desc.headers.get('content-base') ?? url).replace(/\/?$/, '/');
    const offered = parseSdp(Buffer.from(desc.body).toString('utf8'));
    const video = offered.find((t) => t.track.codec === 'h264');
    if (!video) throw new Error('the main offers no H.264 track');
    const audio = this.opts.audio ? offered.find((t) => t.track.codec === this.opts.audio) : undefined;
    let channel = 0;
    for (const t of audio ? [video, audio] : [video]) {
      const control = /^rtsp:\/\//.test(t.control) ? t.control : base + t.control;
      const headers: Record<string, string> = {
        Transport: formatTransport({
          protocol: 'RTP/AVP/TCP',
          unicast: true,
          interleaved: [channel, channel + 1],
        }),
        // A sub's pull: the main stamps each video frame's send time (the hop delay) and
        // forwards viewer commands (rtsp-session.ts).
        'X-AirClass-Relay': '1',
      };
      if (this.session) headers.Session = this.session;
      const res = await this.request('SETUP', control, headers);
      const s = res.headers.get('session');
      if (!s) throw new Error('SETUP answer without Session');
      this.session = parseSessionHeader(s).id;
      this.tracks.set(channel, { sdp: t, codec: t.track.codec, channel, clock: t.track.clockRate, ext: 0 });
      channel += 2;
    }
    const play = await this.request('PLAY', base, { Session: this.session!, Range: 'npt=0.000-' });
    this.applyRtpInfo(play.headers.get('rtp-info'), base);
    this.keepAlive = setInterval(() => {
      this.request('GET_PARAMETER', base, { Session: this.session! }).catch(() => undefined);
    }, this.opts.keepAliveMs ?? 15_000);
    this.keepAlive.unref();
    this.emit('ready', {
      video: video.track as VideoTrack,
      ...(audio ? { audio: audio.track as AudioTrack } : {}),
    });
    const early = this.early ?? [];
    this.early = undefined;
    for (const f of early) if (!this.ended) this.onRtp(f.channel, f.data);
  }

  /** `RTP-Info: url=…/trackID=0;seq=1;rtptime=2,url=…` → each track's timestamp at one instant. */
  private applyRtpInfo(value: string | undefined, base: string): void {
    if (!value) return;
    for (const part of value.split(',')) {
      const url = /url=([^;]+)/.exec(part)?.[1]?.trim();
      const rtptime = /rtptime=([0-9]+)/.exec(part)?.[1];
      if (!url || rtptime === undefined) continue;
      for (const t of this.tracks.values()) {
        const control = /^rtsp:\/\//.test(t.sdp.control) ? t.sdp.control : base + t.sdp.control;
        if (url === control || url.endsWith('/' + t.sdp.control)) t.base = Number(rtptime);
      }
    }
  }

  private request(method: string, uri: string, headers: Record<string, string>): Promise<RtspResponse> {
    const socket = this.socket;
    if (!socket || this.ended) return Promise.reject(new Error('not connected'));
    const cseq = ++this.cseq;
    const h: Record<string, string> = { CSeq: String(cseq), 'User-Agent': 'AirClass-sub', ...headers };
    if (this.opts.token) h.Authorization = `Bearer ${this.opts.token}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new Error(`${method} timed out`));
      }, this.opts.timeoutMs ?? 5000);
      this.pending.set(cseq, {
        resolve: (r) => {
          if (r.status >= 200 && r.status < 300) resolve(r);
          else reject(new RtspStatusError(method, r.status));
        },
        reject,
        timer,
      });
      socket.write(serializeRequest({ method, uri, headers: h }));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    let items;
    try {
      items = this.parser.push(chunk);
    } catch (e) {
      this.finish({ kind: 'lost', message: `malformed data from the main: ${(e as Error).message}` });
      return;
    }
    for (const item of items) {
      if (item.type === 'interleaved') {
        if (this.early) {
          if (this.early.length < 10_000) this.early.push({ channel: item.channel, data: item.data });
        } else this.onRtp(item.channel, item.data);
      } else if (item.type === 'response') {
        const cseq = Number(item.response.headers.get('cseq'));
        const p = this.pending.get(cseq);
        if (!p) continue;
        this.pending.delete(cseq);
        clearTimeout(p.timer);
        p.resolve(item.response);
      } else this.onServerRequest(item.request);
      if (this.ended) return;
    }
  }

  private onServerRequest(req: RtspRequest): void {
    const cseq = req.headers.get('cseq') ?? '0';
    this.socket?.write(serializeResponse({ status: 200, headers: { CSeq: cseq } }));
    if (req.method === 'TEARDOWN') this.finish({ kind: 'teardown' });
    else if (req.method === 'SET_PARAMETER') {
      for (const line of Buffer.from(req.body).toString('utf8').split(/\r?\n/)) {
        const m = /^airclass-close-viewers:\s*(\S.{0,199})$/.exec(line);
        if (m) this.emit('closeViewers', m[1]!.trim());
      }
    }
  }

  private onRtp(channel: number, data: Uint8Array): void {
    const t = this.tracks.get(channel);
    if (!t) return; // RTCP (odd channels) or an unknown channel
    let pkt: RtpPacket;
    try {
      pkt = RtpPacket.parse(data);
    } catch {
      this.stats.badPackets++;
      return;
    }
    this.stats.packets++;
    this.stats.bytes += data.length;
    try {
      if (t.codec === 'h264') {
        const sent = sendTime(pkt);
        if (sent !== undefined) this.hop(performance.timeOrigin + performance.now() - sent);
        for (const unit of this.h264.process(pkt)) {
          const ms = this.ms(t, unit.timestamp);
          this.deliver(accessUnit('h264', ms, ms, unit.key || isKeyframe(unit.nalus), unit.nalus));
        }
      } else if (t.codec === 'opus') {
        const ms = this.ms(t, pkt.timestamp);
        this.deliver(accessUnit('opus', ms, ms, true, [Uint8Array.from(depacketizeOpus(pkt.payload))]));
      } else {
        for (const f of this.aac.process(pkt)) {
          const ms = this.ms(t, f.timestamp);
          this.deliver(accessUnit('aac', ms, ms, true, [f.frame]));
        }
      }
    } catch {
      this.stats.badPackets++;
    }
  }

  private hop(ms: number): void {
    if (this.hops.length >= HOP_SAMPLES) this.hops.shift();
    this.hops.push(ms);
  }

  /** The main → here delay of the last frames: median and 99th percentile, ms. */
  hopMs(): { p50: number; p99: number; n: number } | undefined {
    if (this.hops.length === 0) return undefined;
    const s = [...this.hops].sort((a, b) => a - b);
    const at = (q: number): number =>
      Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 100) / 100;
    return { p50: at(0.5), p99: at(0.99), n: s.length };
  }

  /** Milliseconds on the pull's timeline of an RTP timestamp of track `t` (wraps unrolled). */
  private ms(t: InTrack, ts: number): number {
    t.base ??= ts;
    if (t.last !== undefined) {
      const d = (ts - t.last) | 0; // signed 32-bit step
      t.ext += d;
    } else t.ext = (ts - t.base) | 0;
    t.last = ts;
    return (t.ext * 1000) / t.clock;
  }

  private deliver(au: AccessUnit): void {
    this.stats.accessUnits++;
    this.emit('au', au);
  }

  private finish(end: PullEnd): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepAlive);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('pull ended'));
    }
    this.pending.clear();
    this.socket?.destroy();
    this.emit('end', end);
  }

  /** Ends the pull (TEARDOWN sent when playing). Idempotent; emits `end` as `lost`. */
  close(): void {
    if (this.ended) return;
    if (this.session && this.socket && !this.socket.destroyed) {
      this.socket.write(
        serializeRequest({
          method: 'TEARDOWN',
          uri: this.opts.url,
          headers: { CSeq: String(++this.cseq), Session: this.session },
        }),
      );
    }
    this.finish({ kind: 'lost', message: 'closed by this node' });
  }
}
