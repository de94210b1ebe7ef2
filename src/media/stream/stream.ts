import { EventEmitter } from 'node:events';
import { AirError } from '../../shared/errors.ts';
import { Reader, type AccessUnitSink, type ReaderOptions } from './reader.ts';
import { accessUnit, type AccessUnit, type AudioTrack, type Codec, type VideoTrack } from './types.ts';

/** State of a path: nobody publishing, live, or waiting for a dropped publisher to return. */
export type StreamState = 'idle' | 'live' | 'waiting';

/** Events a Stream emits. */
export interface StreamEvents {
  /** A publisher started (or came back within the grace period). */
  live: [];
  /** The publisher dropped; readers stay attached for the grace period. */
  waiting: [];
  /** Nobody came back within the grace period (or the stream was closed): readers should end. */
  offline: [];
  /** Track descriptions changed (set or replaced). */
  tracks: [];
  /** Something an operator should hear about (e.g. B-frames). */
  warning: [code: string, message: string];
  /** A connected publisher sent no media for `STALL_MS` (a frozen encoder). */
  stalled: [];
  /** Media flows again after `stalled`. */
  resumed: [];
}

/** Silence from a connected publisher after which the stream counts as stalled, ms. */
export const STALL_MS = 3000;

/** Who publishes. */
export interface PublisherInfo {
  id: string;
  protocol: string;
  remote: string;
}

/** Limits of the last-GOP cache. */
const GOP_MAX_UNITS = 1500;
const GOP_MAX_MS = 12_000;

/**
 * One path: its tracks, its publisher, its readers and the last GOP.
 * Timestamps written by successive publishers are rebased onto one monotonic timeline so that
 * readers survive a publisher reconnect without a reload.
 */
export class Stream extends EventEmitter<StreamEvents> {
  readonly path: string;
  state: StreamState = 'idle';
  video?: VideoTrack;
  /** Audio as published (AAC from RTMP, Opus from WHIP). */
  audio?: AudioTrack;
  /** Opus derived from `audio` by the transcoder, when the published audio is not Opus. */
  opus?: AudioTrack;
  publisher?: PublisherInfo;
  /** Why browser audio is off, when it is (e.g. "ffmpeg not found"). */
  audioNote?: string;
  readonly readers = new Set<Reader>();
  /**
   * Synchronous taps that see every access unit in order before the readers do: adapters that
   * serialise once per stream (RTP packetisation) hang their result on `au.memo` here.
   */
  private readonly taps = new Set<(au: AccessUnit) => void>();
  /** Access units since the last video keyframe, all codecs, in arrival order. */
  private gop: AccessUnit[] = [];
  private offset = 0;
  private needOffset = true;
  private lastDts = 0;
  private lastWall = 0;
  private warnedBFrames = false;
  /** Bytes in per second, over the last few seconds. */
  private readonly rate = { windowStart: Date.now(), bytes: 0, bitsPerSecond: 0 };
  /** Session counters. */
  readonly stats = { videoFrames: 0, audioFrames: 0, bytesIn: 0, publishes: 0 };
  /** True while a connected publisher has sent nothing for `STALL_MS`. */
  stalled = false;
  private lastMediaAt = 0;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(path: string) {
    super();
    // One 'offline' listener per viewer session: hundreds are expected, not a leak.
    this.setMaxListeners(0);
    this.path = path;
  }

  /** Current ingest bitrate in bits per second (all tracks as published). */
  get bitrate(): number {
    this.tickRate(0);
    return this.rate.bitsPerSecond;
  }

  /** Marks the stream live for a new publisher session. */
  beginSession(info: PublisherInfo): void {
    this.publisher = info;
    this.state = 'live';
    this.needOffset = true;
    this.stats.publishes++;
    this.lastMediaAt = Date.now();
    this.stalled = false;
    this.watchStall();
    this.emit('live');
  }

  /** Checks twice a second, while a publisher is connected, that media still arrives. */
  private watchStall(): void {
    clearInterval(this.stallTimer);
    this.stallTimer = setInterval(() => {
      if (this.state !== 'live') return this.unwatchStall();
      if (!this.stalled && Date.now() - this.lastMediaAt >= STALL_MS) {
        this.stalled = true;
        this.emit('stalled');
      }
    }, 500);
    this.stallTimer.unref();
  }

  private unwatchStall(): void {
    clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    this.stalled = false;
  }

  /** Ends the publisher session; the stream waits for a return. */
  endSession(): void {
    this.publisher = undefined;
    this.unwatchStall();
    if (this.state === 'live') {
      this.state = 'waiting';
      this.emit('waiting');
    }
  }

  /** Ends everything: readers are told the stream is offline. */
  goOffline(): void {
    this.publisher = undefined;
    this.unwatchStall();
    this.state = 'idle';
    this.gop = [];
    this.video = undefined;
    this.audio = undefined;
    this.opus = undefined;
    this.emit('offline');
  }

  setVideo(track: VideoTrack): void {
    this.video = track;
    this.emit('tracks');
  }

  setAudio(track: AudioTrack): void {
    this.audio = track;
    this.emit('tracks');
  }

  setOpus(track: AudioTrack | undefined, note?: string): void {
    this.opus = track;
    this.audioNote = note;
    this.emit('tracks');
  }

  /** Writes a published access unit: rebases its time, caches it, fans it out. */
  write(au: AccessUnit): void {
    const now = Date.now();
    this.lastMediaAt = now;
    if (this.stalled) {
      this.stalled = false;
      this.emit('resumed');
    }
    if (this.needOffset) {
      const gap = this.lastWall ? Math.min(now - this.lastWall, 60_000) : 0;
      this.offset = this.lastWall ? this.lastDts + Math.max(gap, 1) - au.dts : -au.dts;
      this.needOffset = false;
    }
    if (au.codec === 'h264' && au.pts !== au.dts && !this.warnedBFrames) {
      this.warnedBFrames = true;
      this.emit(
        'warning',
        'B_FRAMES',
        'The stream has B-frames; WebRTC viewers will stutter. Set the encoder to baseline or ' +
          'B-frames to 0 (OBS: x264 options "bframes=0", ffmpeg: -bf 0, apps: profile Baseline).',
      );
    }
    const rebased = accessUnit(au.codec, au.pts + this.offset, au.dts + this.offset, au.key, au.data);
    this.lastDts = Math.max(this.lastDts, rebased.dts);
    this.lastWall = now;
    let bytes = 0;
    for (const d of au.data) bytes += d.length;
    this.stats.bytesIn += bytes;
    this.tickRate(bytes);
    if (au.codec === 'h264') this.stats.videoFrames++;
    else this.stats.audioFrames++;
    this.deliver(rebased);
  }

  /**
   * Writes a derived access unit (already on this stream's timeline), e.g. Opus from the
   * transcoder.
   */
  writeDerived(au: AccessUnit): void {
    this.deliver(au);
  }

  /** Adds a tap (see `taps`); returns a function that removes it. */
  addTap(fn: (au: AccessUnit) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  private deliver(au: AccessUnit): void {
    for (const t of this.taps) t(au);
    if (au.codec === 'h264' && au.key) this.gop = [];
    if (this.gop.length > 0 || (au.codec === 'h264' && au.key)) {
      this.gop.push(au);
      const first = this.gop[0]!;
      if (this.gop.length > GOP_MAX_UNITS || au.dts - first.dts > GOP_MAX_MS) this.gop = [];
    }
    for (const r of this.readers) r.push(au);
  }

  /** The access units a new reader should start with: the last GOP, from its keyframe. */
  lastGop(): readonly AccessUnit[] {
    return this.gop;
  }

  /** The last video keyframe and the track it belongs to (for snapshots), if any. */
  lastKeyframe(): { track: VideoTrack; au: AccessUnit } | undefined {
    const au = this.gop[0];
    if (!this.video || !au || au.codec !== 'h264' || !au.key) return undefined;
    return { track: this.video, au };
  }

  /**
   * Attaches a reader. With `replayGop` the reader first gets the cached GOP (so a viewer
   * starts at once from a keyframe) — all of it, or only the codecs in the given set; otherwise
   * it starts at the next keyframe.
   */
  addReader(
    opts: ReaderOptions,
    sink: AccessUnitSink,
    replayGop: boolean | ReadonlySet<Codec> = true,
  ): Reader {
    const reader = new Reader(opts, sink, (r) => this.readers.delete(r));
    if (replayGop) {
      for (const au of this.gop) if (replayGop === true || replayGop.has(au.codec)) reader.push(au);
    } else if (opts.codecs.has('h264')) reader.skipToKeyframe();
    this.readers.add(reader);
    return reader;
  }

  private tickRate(bytes: number): void {
    const now = Date.now();
    const elapsed = now - this.rate.windowStart;
    if (elapsed >= 2000) {
      this.rate.bitsPerSecond = Math.round((this.rate.bytes * 8 * 1000) / elapsed);
      this.rate.windowStart = now;
      this.rate.bytes = 0;
    }
    this.rate.bytes += bytes;
  }
}

/** Thrown by the registry when a path already has a live publisher. */
export function pathBusy(path: string): AirError {
  return new AirError('PATH_BUSY', `Another publisher is already live on ${path}.`);
}
