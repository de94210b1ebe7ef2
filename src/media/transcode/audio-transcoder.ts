import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../shared/logger.ts';
import { ADTS_HEADER_SIZE, ADTS_MAX_FRAME, toAdts } from '../protocol/aac/adts.ts';
import {
  parseAudioSpecificConfig,
  serializeAudioSpecificConfig,
  type AudioSpecificConfig,
} from '../protocol/aac/asc.ts';
import type { Reader } from '../stream/reader.ts';
import type { Stream } from '../stream/stream.ts';
import { accessUnit, type AccessUnit, type AudioTrack } from '../stream/types.ts';
import type { OpusEncoder } from './ffmpeg-locate.ts';
import { OpusTimeline, opusPacketSamples } from './opus-timeline.ts';
import { ffmpegArgs, killChild, parseRtp, percentile, push, Tail, udpPortsOf } from './transcoder-util.ts';

/** Dependencies and settings of one transcoder. */
export interface AudioTranscoderOptions {
  stream: Stream;
  ffmpeg: { path: string; opusEncoder: OpusEncoder };
  logger: Logger;
  /** Opus bitrate, bits/s (default 64 000). */
  bitrate?: number;
  /** Restart backoff after ffmpeg dies, ms: doubles from `min` up to `max` (250 … 10 000). */
  backoff?: { min: number; max: number };
}

/** Counters and latency figures of a transcoder. */
export interface AudioTranscoderStats {
  framesIn: number;
  packetsOut: number;
  /** AAC frames that could not be wrapped (empty, oversized, no usable config). */
  badFrames: number;
  /** AAC frames dropped because ffmpeg was down or not keeping up. */
  droppedFrames: number;
  restarts: number;
  /** Datagrams that did not come from this ffmpeg (another local process), dropped. */
  foreignPackets: number;
  /** Input write of the frame completing a packet → packet received, ms (median, p95). */
  processMs: { median: number; p95: number };
  /** Input write of the frame holding a packet's first sample → packet received, ms. */
  delayMs: { median: number; p95: number };
  /** The last ffmpeg start: first frame written → first packet received, ms. */
  startupMs?: number;
}

/** A UDP port free on 127.0.0.1 right now. */
async function freeLoopbackUdpPort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** libopus (restricted low delay) and ffmpeg's native encoder both delay by 2.5 ms. */
const PRE_SKIP = 120;
/** ffmpeg's stdin backlog past which frames are dropped rather than queued (≈ 4 s of AAC). */
const MAX_BACKLOG = 64 * 1024;
const LATENCY_WINDOW = 1000;
/** Packets after each ffmpeg start left out of the latency figures (it catches up meanwhile). */
const WARMUP_PACKETS = 25;

/**
 * Transcodes one stream's published AAC to Opus for browsers (DESIGN §3) through an ffmpeg
 * child: AAC frames go to its stdin as ADTS, Opus comes back as RTP on a loopback UDP socket
 * and is written to the stream as derived access units on the stream's own timeline. A dying
 * ffmpeg is restarted with backoff and the timeline carries on.
 */
export class AudioTranscoder {
  /** The Opus track this transcoder announces with `stream.setOpus`. */
  readonly track: AudioTrack = {
    kind: 'audio',
    codec: 'opus',
    sampleRate: 48000,
    channels: 2,
    clockRate: 48000,
  };
  private readonly stream: Stream;
  private readonly ffmpeg: { path: string; opusEncoder: OpusEncoder };
  private readonly log: Logger;
  private readonly bitrate: number;
  private readonly backoff: { min: number; max: number };
  private readonly timeline = new OpusTimeline({ preSkip: PRE_SKIP });
  private readonly counters = {
    framesIn: 0,
    packetsOut: 0,
    badFrames: 0,
    droppedFrames: 0,
    restarts: 0,
    foreignPackets: 0,
  };
  private readonly processMs: number[] = [];
  private readonly delayMs: number[] = [];
  private socket?: dgram.Socket;
  private reader?: Reader;
  private child?: ChildProcess;
  private ssrc = 0;
  /** The port the running ffmpeg sends from, once checked; the socket is connected to it. */
  private peerPort: number | undefined;
  private childPackets = 0;
  private childFirstWrite?: number;
  private startupMs?: number;
  private nextBackoff: number;
  private restartTimer?: NodeJS.Timeout;
  private audio?: { track: AudioTrack; asc: AudioSpecificConfig; samples48: number };
  private badTrack?: AudioTrack;
  private closed = false;
  private closing?: Promise<void>;

  constructor(opts: AudioTranscoderOptions) {
    this.stream = opts.stream;
    this.ffmpeg = opts.ffmpeg;
    this.log = opts.logger.child({ component: 'audio-transcoder', path: opts.stream.path });
    this.bitrate = opts.bitrate ?? 64000;
    this.backoff = opts.backoff ?? { min: 250, max: 10_000 };
    this.nextBackoff = this.backoff.min;
  }

  /** The running ffmpeg's pid, if one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Binds the loopback socket, starts ffmpeg, announces the Opus track, attaches the reader. */
  async start(): Promise<void> {
    if (this.closed || this.socket) return;
    const socket = dgram.createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address === '127.0.0.1') this.onDatagram(msg, rinfo.port);
    });
    socket.on('error', (err) => this.log.warn({ err }, 'transcoder socket error'));
    // Bound to an explicit port: Linux unbinds a port-0 socket when it is disconnected (on an
    // ffmpeg restart), an explicitly bound one keeps its port.
    for (let attempt = 0; ; attempt++) {
      const port = await freeLoopbackUdpPort();
      const ok = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) break;
      if (attempt >= 5) throw new Error('no free loopback UDP port for the transcoder');
    }
    if (this.closed) return;
    this.spawnChild();
    this.stream.setOpus(this.track);
    const codecs = new Set(['aac'] as const);
    this.reader = this.stream.addReader(
      { codecs, label: 'transcode', maxQueue: 256 },
      (au) => this.onAac(au),
      false,
    );
  }

  /** Counters and latency medians. */
  stats(): AudioTranscoderStats {
    const fig = (xs: number[]) => ({ median: percentile(xs, 0.5), p95: percentile(xs, 0.95) });
    const s: AudioTranscoderStats = {
      ...this.counters,
      processMs: fig(this.processMs),
      delayMs: fig(this.delayMs),
    };
    if (this.startupMs !== undefined) s.startupMs = this.startupMs;
    return s;
  }

  private spawnChild(): void {
    const port = (this.socket!.address() as { port: number }).port;
    this.ssrc = randomInt(1, 0x7fffffff);
    if (this.peerPort !== undefined) {
      this.peerPort = undefined;
      try {
        this.socket?.disconnect();
      } catch {
        /* not connected yet */
      }
    }
    this.timeline.restart();
    this.childPackets = 0;
    this.childFirstWrite = undefined;
    const args = ffmpegArgs({
      encoder: this.ffmpeg.opusEncoder,
      bitrate: this.bitrate,
      port,
      ssrc: this.ssrc,
    });
    const child = spawn(this.ffmpeg.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    const stderr = new Tail(4096);
    let exited = false;
    const onExit = (code: number | null, signal: string | null, err?: Error) => {
      if (exited) return;
      exited = true;
      this.onChildExit(child, { code, signal, err: err?.message, stderr: stderr.text() });
    };
    child.on('exit', (code, signal) => onExit(code, signal));
    child.on('error', (err) => onExit(null, null, err));
    child.stdin!.on('error', () => {
      // EPIPE when ffmpeg dies mid-write: the exit handler restarts it.
    });
    child.stderr!.on('data', (d: Buffer) => stderr.push(d));
    this.log.debug({ pid: child.pid, args }, 'ffmpeg started');
  }

  private onChildExit(
    child: ChildProcess,
    why: { code: number | null; signal: string | null; err?: string; stderr: string },
  ): void {
    if (child !== this.child) return;
    this.child = undefined;
    if (this.closed) return;
    this.counters.restarts++;
    const delay = this.nextBackoff;
    this.nextBackoff = Math.min(this.nextBackoff * 2, this.backoff.max);
    this.log.warn({ ...why, restartInMs: delay }, 'ffmpeg (AAC → Opus) exited; restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.closed) this.spawnChild();
    }, delay);
  }

  /** Restarts ffmpeg at once (new audio config). */
  private respawn(): void {
    const old = this.child;
    this.child = undefined;
    if (old) void killChild(old);
    if (!this.restartTimer) this.spawnChild();
  }

  private currentAudio(): { asc: AudioSpecificConfig; samples48: number } | undefined {
    const track = this.stream.audio;
    if (!track || track.codec !== 'aac' || track === this.badTrack) return undefined;
    if (this.audio?.track === track) return this.audio;
    let asc: AudioSpecificConfig;
    try {
      // Without a config (should not happen from RTMP), assume AAC LC with the track's format.
      const config =
        track.config ??
        serializeAudioSpecificConfig({
          objectType: 2,
          sampleRate: track.sampleRate,
          channels: track.channels,
        });
      asc = parseAudioSpecificConfig(config);
    } catch (err) {
      this.log.warn({ err }, 'unusable AAC config; audio frames dropped');
      this.badTrack = track;
      return undefined;
    }
    const prev = this.audio?.asc;
    this.audio = { track, asc, samples48: (asc.frameLength * 48000) / asc.sampleRate };
    const changed =
      prev &&
      (prev.objectType !== asc.objectType ||
        prev.sampleRateIndex !== asc.sampleRateIndex ||
        prev.channelConfig !== asc.channelConfig);
    if (changed) {
      this.log.info({ from: prev, to: asc }, 'AAC config changed; restarting ffmpeg');
      this.respawn();
    }
    return this.audio;
  }

  private onAac(au: AccessUnit): void {
    const audio = this.currentAudio();
    const frame = au.data[0];
    if (!audio || !frame || frame.length === 0 || frame.length > ADTS_MAX_FRAME - ADTS_HEADER_SIZE) {
      this.counters.badFrames++;
      return;
    }
    let adts: Uint8Array;
    try {
      adts = toAdts(frame, audio.asc);
    } catch {
      this.counters.badFrames++;
      return;
    }
    const stdin = this.child?.stdin;
    if (!stdin || !stdin.writable || stdin.writableLength > MAX_BACKLOG) {
      this.counters.droppedFrames++;
      return;
    }
    stdin.write(adts);
    const now = performance.now();
    this.childFirstWrite ??= now;
    this.timeline.input(au.pts, audio.samples48, now);
    this.counters.framesIn++;
  }

  /**
   * The socket takes datagrams from any local process until it knows ffmpeg's port: the first
   * one with this ffmpeg's SSRC whose source port is a socket of the ffmpeg child (checked in
   * /proc) connects the socket to that port, and from then on the kernel drops everything else.
   * (The SSRC alone is no secret: it is on ffmpeg's command line.)
   */
  private onDatagram(msg: Buffer, port: number): void {
    if (this.peerPort === undefined) {
      const rtp = parseRtp(msg);
      if (!rtp || rtp.ssrc !== this.ssrc || !this.child?.pid) return;
      const owned = udpPortsOf(this.child.pid);
      if (owned && !owned.has(port)) {
        this.counters.foreignPackets++;
        return;
      }
      this.peerPort = port;
      try {
        this.socket?.connect(port, '127.0.0.1');
      } catch (e) {
        this.log.warn({ err: e }, 'transcoder socket could not be connected to ffmpeg');
      }
    } else if (port !== this.peerPort) {
      this.counters.foreignPackets++;
      return;
    }
    this.onRtp(msg);
  }

  private onRtp(msg: Buffer): void {
    if (this.closed) return;
    const rtp = parseRtp(msg);
    if (!rtp || rtp.ssrc !== this.ssrc) return; // RTCP, junk, or a previous ffmpeg's packet
    const samples = opusPacketSamples(rtp.payload);
    if (samples === 0) return;
    const now = performance.now();
    const m = this.timeline.output(samples, now);
    if (this.childPackets === 0 && this.childFirstWrite !== undefined)
      this.startupMs = now - this.childFirstWrite;
    if (this.childPackets >= WARMUP_PACKETS) {
      if (m.processMs !== undefined) push(this.processMs, m.processMs, LATENCY_WINDOW);
      if (m.delayMs !== undefined) push(this.delayMs, m.delayMs, LATENCY_WINDOW);
    }
    this.counters.packetsOut++;
    if (++this.childPackets === 50) this.nextBackoff = this.backoff.min; // it runs: reset backoff
    if (this.childPackets === 500) this.log.info(this.stats(), 'AAC → Opus transcoder latency');
    this.stream.writeDerived(accessUnit('opus', m.pts, m.pts, true, [Uint8Array.from(rtp.payload)]));
  }

  /**
   * Stops: detaches the reader, ends ffmpeg (stdin EOF + SIGTERM, SIGKILL after 1 s), closes
   * the socket and withdraws the Opus track. Idempotent; resolves when ffmpeg has exited.
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.reader?.close();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.stream.opus === this.track) this.stream.setOpus(undefined);
    const child = this.child;
    this.child = undefined;
    this.closing = (child ? killChild(child) : Promise.resolve()).then(() => {
      this.socket?.close();
    });
    return this.closing;
  }
}
