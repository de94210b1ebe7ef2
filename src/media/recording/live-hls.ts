/**
 * Live HLS for viewers whose WebRTC cannot connect (a school network that blocks UDP): the
 * same pure segmenter the recorder uses (protocol/hls/segmenter.ts), fed by one bounded reader
 * per path, started on the first playlist request and kept in memory as a sliding window of
 * fMP4 segments. The playlist is live (EXT-X-MEDIA-SEQUENCE, no PLAYLIST-TYPE) until the
 * stream goes offline, then ends (EXT-X-ENDLIST) so players stop calmly. A path nobody asks
 * for during `idleMs` is stopped and its memory freed. Media plane: never imports control/.
 */
import type { Logger } from '../../shared/logger.ts';
import { HlsSegmenter } from '../protocol/hls/segmenter.ts';
import type { StreamRegistry } from '../stream/registry.ts';
import type { Reader } from '../stream/reader.ts';
import type { Stream } from '../stream/stream.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from '../stream/types.ts';

/** Options of {@link LiveHls}. */
export interface LiveHlsOptions {
  registry: StreamRegistry;
  logger: Logger;
  /** The segmenter's target: segments are cut at the first keyframe past it, ms (default 1000). */
  targetMs?: number;
  /** Segments listed in the playlist (default 6). */
  window?: number;
  /** A path nobody asked for this long is stopped, ms (default 30 000). */
  idleMs?: number;
  /** How long `playlist()` waits for the first segment before 409, ms (default 8000). */
  readyMs?: number;
  /** How long the ended playlist (EXT-X-ENDLIST) is kept after the stream went offline, ms (default `idleMs`). */
  endedKeepMs?: number;
}

/** The answer of {@link LiveHls.playlist}. */
export type PlaylistAnswer = { status: 200; body: string } | { status: 409; code: 'STREAM_NOT_LIVE' };

/** Segments kept past the listed window, so a player that just read the playlist still gets them. */
const KEEP_EXTRA = 2;
/** Media held by a segmenter without a keyframe to cut at; past it the segmenter starts over. */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
const NOT_LIVE = { status: 409, code: 'STREAM_NOT_LIVE' } as const;

interface Segment {
  n: number;
  durationS: number;
  data: Uint8Array;
  discontinuity: boolean;
  init: number;
}

/** URI numbering per path, kept across sessions so a cached `seg-<n>` never means another segment. */
interface Counters {
  seq: number;
  init: number;
}

function hex(b: Uint8Array | undefined): string {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : '';
}

/** What makes a new init segment necessary: the decoder configuration of both tracks. */
function trackKey(video: VideoTrack, audio: AudioTrack | undefined): string {
  const a = audio ? `${audio.codec}/${audio.sampleRate}/${audio.channels}/${hex(audio.config)}` : '-';
  return `${hex(video.sps)}|${hex(video.pps)}|${a}`;
}

/** The live HLS of one path: reader, segmenter, window of segments. */
class PathHls {
  readonly path: string;
  readonly segments: Segment[] = [];
  readonly inits = new Map<number, Uint8Array>();
  ended = false;
  disposed = false;
  lastAsk = Date.now();
  private readonly stream: Stream;
  private readonly counters: Counters;
  private readonly opts: Required<Omit<LiveHlsOptions, 'registry' | 'logger'>>;
  private readonly log: Logger;
  private readonly onDispose: (p: PathHls) => void;
  private reader: Reader | undefined;
  private segmenter: HlsSegmenter | undefined;
  private key = '';
  private initK = 0;
  private pendingBytes = 0;
  private nextDiscontinuity = false;
  private removedDiscontinuities = 0;
  private targetS = 1;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<(ok: boolean) => void>();
  private readonly onTracks = (): void => this.checkTracks();
  private readonly onOffline = (): void => this.end();

  constructor(
    stream: Stream,
    counters: Counters,
    opts: PathHls['opts'],
    log: Logger,
    onDispose: (p: PathHls) => void,
  ) {
    this.path = stream.path;
    this.stream = stream;
    this.counters = counters;
    this.opts = opts;
    this.log = log;
    this.onDispose = onDispose;
  }

  /** True while the reader is attached (not ended, not disposed). */
  get running(): boolean {
    return this.reader !== undefined;
  }

  start(): void {
    this.checkTracks();
    this.stream.on('tracks', this.onTracks);
    this.stream.on('offline', this.onOffline);
    // The cached GOP first, so the first segment closes at the next keyframe.
    this.reader = this.stream.addReader(
      { codecs: new Set(['h264', 'aac', 'opus']), maxQueue: 1024, label: `hls:${this.path}` },
      (au) => this.onUnit(au),
      true,
    );
    this.arm(this.opts.idleMs);
    this.log.info({ path: this.path }, 'live HLS started');
  }

  touch(): void {
    this.lastAsk = Date.now();
  }

  /** Resolves true at the first segment, false on timeout or when the path stops. */
  waitReady(ms: number): Promise<boolean> {
    if (this.segments.length > 0) return Promise.resolve(true);
    if (this.ended || this.disposed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve(ok);
      };
      const t = setTimeout(() => done(false), ms);
      this.waiters.add(done);
    });
  }

  /** A new segmenter (and init) when the decoder configuration changed. */
  private checkTracks(): void {
    const video = this.stream.video;
    if (!video) return;
    const audio = this.stream.audio ?? this.stream.opus;
    const key = trackKey(video, audio);
    if (key === this.key) return;
    const first = this.key === '';
    this.key = key;
    this.restart({ video, audio }, !first);
  }

  private restart(tracks: { video: VideoTrack; audio?: AudioTrack }, discontinuity: boolean): void {
    if (this.segmenter) for (const o of this.segmenter.flush()) if (o.type === 'segment') this.add(o);
    this.segmenter = new HlsSegmenter(tracks, { targetMs: this.opts.targetMs });
    this.initK = ++this.counters.init;
    this.inits.set(this.initK, this.segmenter.init());
    this.pendingBytes = 0;
    this.nextDiscontinuity ||= discontinuity;
  }

  private onUnit(au: AccessUnit): void {
    if (!this.segmenter) return;
    for (const d of au.data) this.pendingBytes += d.length;
    for (const o of this.segmenter.process(au)) if (o.type === 'segment') this.add(o);
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      // No keyframe for far too long: start over rather than hold it all.
      this.log.warn({ path: this.path }, 'live HLS: no keyframe to cut at; segmenter restarted');
      this.segmenter = undefined;
      this.restart({ video: this.stream.video!, audio: this.stream.audio ?? this.stream.opus }, true);
    }
  }

  private add(o: { durationMs: number; data: Uint8Array; discontinuity: boolean }): void {
    const seg: Segment = {
      n: ++this.counters.seq,
      durationS: o.durationMs / 1000,
      data: o.data,
      discontinuity: o.discontinuity || this.nextDiscontinuity,
      init: this.initK,
    };
    this.nextDiscontinuity = false;
    this.pendingBytes = 0;
    this.segments.push(seg);
    // RFC 8216 §4.3.3.1: each EXTINF rounded to the nearest integer is at most the target (hls.js
    // keeps `liveSyncDurationCount` targets behind the edge, so a tight target is a lower delay).
    this.targetS = Math.max(this.targetS, Math.round(seg.durationS));
    while (this.segments.length > this.opts.window + KEEP_EXTRA) {
      if (this.segments.shift()!.discontinuity) this.removedDiscontinuities++;
    }
    const used = new Set(this.segments.map((s) => s.init));
    for (const k of this.inits.keys()) if (k !== this.initK && !used.has(k)) this.inits.delete(k);
    for (const w of [...this.waiters]) w(true);
  }

  /** The media playlist; `query` (e.g. `jwt=…`) is appended to every URI. */
  render(query: string | undefined): string {
    const q = query ? `?${query}` : '';
    const shown = this.segments.slice(-this.opts.window);
    const hidden = this.segments.slice(0, this.segments.length - shown.length);
    const discSeq = this.removedDiscontinuities + hidden.filter((s) => s.discontinuity).length;
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      `#EXT-X-TARGETDURATION:${this.targetS}`,
      `#EXT-X-MEDIA-SEQUENCE:${shown[0]?.n ?? 0}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${discSeq}`,
      '#EXT-X-INDEPENDENT-SEGMENTS',
    ];
    let init = 0;
    for (const s of shown) {
      if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      if (s.init !== init) lines.push(`#EXT-X-MAP:URI="init-${s.init}.mp4${q}"`);
      init = s.init;
      lines.push(`#EXTINF:${s.durationS.toFixed(3)},`, `seg-${s.n}.m4s${q}`);
    }
    if (this.ended) lines.push('#EXT-X-ENDLIST');
    return lines.join('\n') + '\n';
  }

  /** The stream went offline: the open segment closes, the reader goes, the playlist ends. */
  end(): void {
    if (this.ended || this.disposed) return;
    if (this.segmenter) for (const o of this.segmenter.flush()) if (o.type === 'segment') this.add(o);
    this.ended = true;
    this.detach();
    for (const w of [...this.waiters]) w(this.segments.length > 0);
    this.arm(this.opts.endedKeepMs);
    this.log.info({ path: this.path, segments: this.segments.length }, 'live HLS ended (stream offline)');
  }

  private detach(): void {
    this.reader?.close();
    this.reader = undefined;
    this.segmenter = undefined;
    this.stream.off('tracks', this.onTracks);
    this.stream.off('offline', this.onOffline);
  }

  /** Stops after `ms` without a request (re-armed while requests come). */
  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const idle = Date.now() - this.lastAsk;
      if (this.ended || idle >= this.opts.idleMs) this.dispose('idle');
      else this.arm(this.opts.idleMs - idle);
    }, ms);
    this.timer.unref();
  }

  /** Frees everything. Idempotent. */
  dispose(why: string): void {
    if (this.disposed) return;
    const wasRunning = this.running;
    this.disposed = true;
    clearTimeout(this.timer);
    this.detach();
    this.segments.length = 0;
    this.inits.clear();
    for (const w of [...this.waiters]) w(false);
    this.onDispose(this);
    if (wasRunning) this.log.info({ path: this.path, why }, 'live HLS stopped');
  }
}

/**
 * Live HLS of every path on demand: at most one segmenter per path, memory per path about
 * (`window` + 2) segments. Constructed by the composition root; `close()` stops them all.
 */
export class LiveHls {
  private readonly registry: StreamRegistry;
  private readonly log: Logger;
  private readonly opts: PathHls['opts'];
  private readonly paths = new Map<string, PathHls>();
  private readonly counters = new Map<string, Counters>();
  private closed = false;

  constructor(opts: LiveHlsOptions) {
    this.registry = opts.registry;
    this.log = opts.logger;
    const idleMs = opts.idleMs ?? 30_000;
    this.opts = {
      targetMs: opts.targetMs ?? 1000,
      window: Math.max(1, opts.window ?? 6),
      idleMs,
      readyMs: opts.readyMs ?? 8000,
      endedKeepMs: opts.endedKeepMs ?? idleMs,
    };
  }

  /**
   * The live playlist of `path`, starting its segmenter on the first ask; resolves once the
   * first segment exists (409 STREAM_NOT_LIVE when nothing is live or none came in `readyMs`).
   * `query` (e.g. `jwt=…`, already URL-encoded) is appended to the init and segment URIs.
   */
  async playlist(path: string, query?: string): Promise<PlaylistAnswer> {
    if (this.closed) return NOT_LIVE;
    let p = this.paths.get(path);
    const stream = this.registry.get(path);
    if (p?.ended && stream?.state === 'live') {
      p.dispose('new session'); // the teacher is back after an offline: a fresh playlist
      p = undefined;
    }
    if (!p) {
      if (!stream || stream.state !== 'live') return NOT_LIVE;
      let c = this.counters.get(path);
      if (!c) this.counters.set(path, (c = { seq: 0, init: 0 }));
      p = new PathHls(stream, c, this.opts, this.log, (d) => {
        if (this.paths.get(d.path) === d) this.paths.delete(d.path);
      });
      this.paths.set(path, p);
      p.start();
    }
    p.touch();
    if (p.segments.length === 0 && !(await p.waitReady(this.opts.readyMs))) return NOT_LIVE;
    if (p.disposed || p.segments.length === 0) return NOT_LIVE;
    p.touch();
    return { status: 200, body: p.render(query) };
  }

  /** The init segment: the current one, or version `k` (`init-<k>.mp4`) while a listed segment uses it. */
  init(path: string, k?: number): Uint8Array | undefined {
    const p = this.paths.get(path);
    if (!p) return undefined;
    p.touch();
    if (k !== undefined) return p.inits.get(k);
    return p.segments.length ? p.inits.get(p.segments.at(-1)!.init) : undefined;
  }

  /** Segment `seg-<sequence>.m4s` while it is in memory (the window and 2 more). */
  segment(path: string, sequence: number): Uint8Array | undefined {
    const p = this.paths.get(path);
    if (!p) return undefined;
    p.touch();
    return p.segments.find((s) => s.n === sequence)?.data;
  }

  /** Paths whose segmenter runs now (not ended, not stopped). */
  active(): string[] {
    return [...this.paths.values()].filter((p) => p.running).map((p) => p.path);
  }

  /** Stops every path. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.paths.values()]) p.dispose('closed');
    this.paths.clear();
  }
}
