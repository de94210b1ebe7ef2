/**
 * The recorder (DESIGN §3, recording): every path that starts publishing is remuxed (never
 * re-encoded) to HLS on disk, `<root>/<id>/`: `recording.json`, `init-<n>.mp4`,
 * `seg-<nnnnn>.m4s` and `index.m3u8`. Each segment is written to a `.tmp` file and renamed, then
 * the playlist is rewritten the same way, so a crash loses at most the open segment (and
 * `repairRecordings` closes what it left). A publisher that drops and returns within the
 * registry's grace continues the same recording (a discontinuity; a new init segment when the
 * tracks changed); the path going offline closes the playlist with ENDLIST. Media comes through
 * a bounded Reader, so a slow disk never stalls the live stream; a full disk or a failed write
 * stops that recording only. The control plane is reached through the `begin`/`onEnd` callbacks.
 */
import { mkdir, rename, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../shared/logger.ts';
import { mediaPlaylist, type PlaylistSegment } from '../protocol/hls/playlist.ts';
import { HlsSegmenter, type SegmenterOutput } from '../protocol/hls/segmenter.ts';
import type { Reader } from '../stream/reader.ts';
import type { StreamRegistry } from '../stream/registry.ts';
import type { Stream } from '../stream/stream.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from '../stream/types.ts';

/** File names inside a recording's directory. */
export const RECORDING_FILES = { playlist: 'index.m3u8', meta: 'recording.json' } as const;

/** The name of media segment `sequence` (1, 2, …). */
export function segmentName(sequence: number): string {
  return `seg-${String(sequence).padStart(5, '0')}.m4s`;
}

/** What `recording.json` holds. */
export interface RecordingMeta {
  id: string;
  path: string;
  /** ISO 8601. */
  startedAt: string;
}

/** Figures of a recording so far. */
export interface RecordingProgress {
  /** Media on disk, ms (sum of the segments' durations). */
  durationMs: number;
  /** Bytes of the init and media segments. */
  sizeBytes: number;
  segments: number;
}

/** Why a recording stopped before its path went offline (none: `stop(path)` without a reason). */
export type RecordingStopReason = 'DISK_FULL' | 'WRITE_FAILED' | 'TRACKS';

/** What `onEnd` gets. */
export type RecordingEnd = RecordingProgress & {
  status: 'complete' | 'stopped';
  reason?: RecordingStopReason;
};

/** Recorder options. */
export interface RecorderOptions {
  registry: StreamRegistry;
  /** Root directory; recording <id> lives in <root>/<id>/ */
  root: string;
  logger: Logger;
  /**
   * Asked when a path starts publishing and no recording of it is open: the id to record to, or
   * null (not recorded). May reject (logged, not recorded).
   */
  begin(path: string): Promise<{ id: string } | null>;
  /** After each segment is on disk (and the playlist rewritten). */
  onProgress?(id: string, p: RecordingProgress): void;
  /** Once, when a recording closes (playlist has ENDLIST). */
  onEnd?(id: string, p: RecordingEnd): void;
  /** Free bytes needed to start, and kept while recording (default 512 MiB). */
  minFreeBytes?: number;
  /** Segment target, ms (default 2000; segments are cut at keyframes, so 2–4 s with a 2 s GOP). */
  targetMs?: number;
  /** Free bytes of the filesystem holding `root` (default: fs.statfs bavail*bsize). Tests inject a small value. */
  freeBytes?(root: string): Promise<number>;
  /** Without video (audio only, or no tracks) this long after publishing, the path is skipped, ms (default 10 000). */
  tracksTimeoutMs?: number;
}

/** An open recording, as `active()` lists it. */
export interface ActiveRecording {
  path: string;
  id: string;
  durationMs: number;
  sizeBytes: number;
  /** Times the disk fell behind the stream and the recording skipped to the next keyframe (0 when it keeps up). */
  overflows: number;
}

/** Writes `file` through `<file>.tmp` and a rename, so readers never see half a file. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
}

/** Free bytes for unprivileged users on the filesystem holding `dir`. */
export async function statfsFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** "1.5 GiB", "12.0 MiB", "900 bytes". */
function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** What a Recording needs from its Recorder. */
interface RecordingContext {
  root: string;
  logger: Logger;
  targetMs: number;
  minFreeBytes: number;
  tracksTimeoutMs: number;
  freeBytes(root: string): Promise<number>;
  begin(path: string): Promise<{ id: string } | null>;
  onProgress?(id: string, p: RecordingProgress): void;
  onEnd?(id: string, p: RecordingEnd): void;
  /** The recording is over (ended, or never began): forget it. */
  done(rec: Recording, status?: 'complete' | 'stopped'): void;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && Buffer.from(a).equals(b));
}

function sameVideo(a: VideoTrack, b: VideoTrack): boolean {
  return sameBytes(a.sps, b.sps) && sameBytes(a.pps, b.pps);
}

function sameAudio(a: AudioTrack | undefined, b: AudioTrack | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.codec === b.codec &&
    a.sampleRate === b.sampleRate &&
    a.channels === b.channels &&
    sameBytes(a.config, b.config)
  );
}

/**
 * One recording of one path. Every disk operation runs on its own promise chain, in order;
 * the reader's sink awaits the chain, so a slow disk fills the bounded reader queue (which then
 * drops to the next keyframe) and never the live stream.
 */
class Recording {
  readonly path: string;
  readonly stream: Stream;
  id: string | undefined;
  /** True once the directory and recording.json exist. */
  private dirReady = false;
  /** end() was called: no more media is taken. */
  finishing = false;
  private ended = false;
  private readonly ctx: RecordingContext;
  private log: Logger;
  private readonly reader: Reader;

  /** Times the reader's queue overflowed (a disk slower than the stream). */
  get overflows(): number {
    return this.reader.overflows;
  }
  private chain: Promise<void> = Promise.resolve();
  private segmenter: HlsSegmenter | undefined;
  private tracks: { video: VideoTrack; audio?: AudioTrack } | undefined;
  private inits = 0;
  private mapUri = '';
  private nextDiscontinuity = false;
  private sequence = 0;
  private readonly segments: PlaylistSegment[] = [];
  private durationMs = 0;
  private sizeBytes = 0;
  private tracksTimer: NodeJS.Timeout | undefined;
  /** After `offline`: how many queued access units still belong to this session. */
  private remaining: number | undefined;
  private inSink = false;
  /** The stream's tracks as last set (the stream forgets them when it goes offline). */
  private latest: { video?: VideoTrack; audio?: AudioTrack };
  private readonly onTracks = (): void => {
    this.latest = {
      video: this.stream.video ?? this.latest.video,
      audio: this.stream.audio ?? this.latest.audio,
    };
  };

  constructor(ctx: RecordingContext, stream: Stream) {
    this.ctx = ctx;
    this.stream = stream;
    this.path = stream.path;
    this.log = ctx.logger.child({ path: this.path });
    this.latest = { video: stream.video, audio: stream.audio };
    stream.on('tracks', this.onTracks);
    // Attached at once (begin() is asynchronous) so the recording starts at the first keyframe.
    // All audio codecs are taken; only the published one is recorded (not the derived Opus).
    this.reader = stream.addReader(
      { codecs: new Set(['h264', 'aac', 'opus']), maxQueue: 2048, label: `record:${this.path}` },
      (au) => this.sink(au),
      false,
    );
    this.armTracksTimer();
    void this.enqueue(() => this.begin());
  }

  progress(): RecordingProgress {
    return {
      durationMs: Math.round(this.durationMs),
      sizeBytes: this.sizeBytes,
      segments: this.segments.length,
    };
  }

  /** Stops taking media and closes the recording after what is already on the chain. Idempotent. */
  end(status: 'complete' | 'stopped', reason?: RecordingStopReason): Promise<void> {
    if (!this.finishing) {
      this.finishing = true;
      this.detach();
      void this.enqueue(() => this.finish(status, reason));
    }
    return this.chain;
  }

  private detach(): void {
    clearTimeout(this.tracksTimer);
    this.stream.off('tracks', this.onTracks);
    this.reader.close();
  }

  /** The path went offline: record what is still queued for this session, then close. */
  endAfterQueued(): void {
    if (this.finishing || this.remaining !== undefined) return;
    this.remaining = this.reader.queued;
    this.checkDrained();
    // registry.close() closes every reader right after `offline`: nothing more will come then.
    setImmediate(() => this.checkDrained());
  }

  private checkDrained(): void {
    if (this.remaining === undefined || this.finishing || this.inSink) return;
    if (this.remaining === 0 || this.reader.isClosed) void this.end('complete');
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.log.error({ err }, 'recording task failed');
    });
    return this.chain;
  }

  private async sink(au: AccessUnit): Promise<void> {
    if (this.remaining !== undefined) {
      if (this.remaining === 0) return; // a new session's media: not ours
      this.remaining--;
    }
    this.inSink = true;
    try {
      if (au.codec === 'h264' || au.codec === this.tracks?.audio?.codec)
        await this.enqueue(() => this.handle(au));
    } finally {
      this.inSink = false;
      this.checkDrained();
    }
  }

  private armTracksTimer(): void {
    this.tracksTimer = setTimeout(() => {
      if (this.segmenter || this.finishing) return;
      if (this.stream.state !== 'live') return this.armTracksTimer(); // waiting for a return
      const what = this.latest.audio && !this.latest.video ? 'audio only' : 'no video keyframe';
      this.log.warn(
        { recording: this.id },
        `recording skipped: ${what} after ${this.ctx.tracksTimeoutMs / 1000} s (a recording needs H.264 video)`,
      );
      void this.end('stopped', 'TRACKS');
    }, this.ctx.tracksTimeoutMs);
    this.tracksTimer.unref();
  }

  /** Asks for an id, checks the disk, writes the directory and recording.json. */
  private async begin(): Promise<void> {
    let r: { id: string } | null;
    try {
      r = await this.ctx.begin(this.path);
    } catch (err) {
      this.log.error({ err }, 'recording not started: could not register it');
      r = null;
    }
    if (!r) {
      this.abandon();
      return;
    }
    const id = r.id;
    this.id = id;
    this.log = this.ctx.logger.child({ path: this.path, recording: id });
    if (!/^[A-Za-z0-9][\w.-]*$/.test(id)) {
      this.log.error('recording not started: the id is not a safe directory name');
      void this.end('stopped', 'WRITE_FAILED');
      return;
    }
    const dir = join(this.ctx.root, id);
    try {
      await mkdir(this.ctx.root, { recursive: true });
      if (!this.finishing) {
        const free = await this.free();
        if (free < this.ctx.minFreeBytes) {
          this.log.error(
            { free, min: this.ctx.minFreeBytes },
            `recording not started: disk almost full (${fmtBytes(free)} free, ${fmtBytes(this.ctx.minFreeBytes)} needed)`,
          );
          void this.end('stopped', 'DISK_FULL');
          return;
        }
      }
      await mkdir(dir, { recursive: true });
      const meta: RecordingMeta = { id, path: this.path, startedAt: new Date().toISOString() };
      await writeFileAtomic(join(dir, RECORDING_FILES.meta), JSON.stringify(meta) + '\n');
      this.dirReady = true;
      this.log.info({ dir }, 'recording started');
    } catch (err) {
      this.failed(err);
    }
  }

  /** begin() said no (or failed): detach, tell nobody. */
  private abandon(): void {
    this.finishing = true;
    this.ended = true;
    this.detach();
    this.ctx.done(this);
  }

  private async handle(au: AccessUnit): Promise<void> {
    if (this.finishing || !this.dirReady) return;
    if (au.codec === 'h264' && au.key && !(await this.checkTracks())) return;
    if (!this.segmenter) return;
    for (const o of this.segmenter.process(au)) if (!(await this.write(o))) return;
  }

  /** At a keyframe: starts the segmenter, or a new one when the tracks changed. False: stopped. */
  private async checkTracks(): Promise<boolean> {
    const { video, audio } = this.latest;
    if (!video) return true; // not known yet
    if (this.tracks && sameVideo(this.tracks.video, video) && sameAudio(this.tracks.audio, audio))
      return true;
    if (this.segmenter) {
      this.log.info('tracks changed: new init segment after a discontinuity');
      for (const o of this.segmenter.flush()) if (!(await this.write(o))) return false;
    }
    const first = !this.segmenter;
    this.tracks = audio ? { video, audio } : { video };
    this.segmenter = new HlsSegmenter(this.tracks, { targetMs: this.ctx.targetMs });
    const name = `init-${this.inits++}.mp4`;
    const data = this.segmenter.init();
    try {
      await writeFileAtomic(join(this.ctx.root, this.id!, name), data);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.sizeBytes += data.length;
    this.mapUri = name;
    this.nextDiscontinuity = !first;
    if (first) {
      this.log.info(
        { width: video.width, height: video.height, audio: audio?.codec ?? 'none' },
        'recording media: H.264 and ' + (audio ? audio.codec.toUpperCase() : 'no audio'),
      );
    }
    return true;
  }

  /** Writes one segmenter output (init outputs are written by checkTracks). False: stopped. */
  private async write(o: SegmenterOutput): Promise<boolean> {
    if (o.type !== 'segment') return true;
    const reason = await this.writeSegment(o);
    if (!reason) return true;
    void this.end('stopped', reason);
    return false;
  }

  /** Checks the disk, writes the segment and the playlist; returns why it could not. */
  private async writeSegment(
    o: Extract<SegmenterOutput, { type: 'segment' }>,
  ): Promise<RecordingStopReason | undefined> {
    const free = await this.free();
    if (free < this.ctx.minFreeBytes) {
      this.log.error(
        { free, min: this.ctx.minFreeBytes },
        `recording stopped: disk almost full (${fmtBytes(free)} free, ${fmtBytes(this.ctx.minFreeBytes)} needed)`,
      );
      return 'DISK_FULL';
    }
    const uri = segmentName(++this.sequence);
    try {
      await writeFileAtomic(join(this.ctx.root, this.id!, uri), o.data);
      this.segments.push({
        uri,
        durationS: o.durationMs / 1000,
        discontinuity: o.discontinuity || this.nextDiscontinuity,
        mapUri: this.mapUri,
      });
      this.nextDiscontinuity = false;
      this.sizeBytes += o.data.length;
      this.durationMs += o.durationMs;
      await this.writePlaylist(false);
    } catch (err) {
      return this.failReason(err);
    }
    this.call(() => this.ctx.onProgress?.(this.id!, this.progress()));
    return undefined;
  }

  private writePlaylist(ended: boolean): Promise<void> {
    const text = mediaPlaylist({ segments: this.segments, ended });
    return writeFileAtomic(join(this.ctx.root, this.id!, RECORDING_FILES.playlist), text);
  }

  /** Flushes (unless the disk is the problem), closes the playlist, tells onEnd. */
  private async finish(status: 'complete' | 'stopped', reason?: RecordingStopReason): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.id === undefined) return this.ctx.done(this);
    if (this.dirReady) {
      if (this.segmenter && reason !== 'DISK_FULL' && reason !== 'WRITE_FAILED') {
        for (const o of this.segmenter.flush()) {
          if (o.type !== 'segment') continue;
          const r = await this.writeSegment(o);
          if (r) [status, reason] = ['stopped', r];
        }
      }
      try {
        await this.writePlaylist(true);
      } catch (err) {
        if (status === 'complete') [status, reason] = ['stopped', this.failReason(err)];
        else this.log.warn({ err }, 'could not close the playlist');
      }
    }
    const p = this.progress();
    this.log.info({ ...p, status, reason }, 'recording ended');
    this.ctx.done(this, status);
    this.call(() => this.ctx.onEnd?.(this.id!, reason ? { ...p, status, reason } : { ...p, status }));
  }

  /** A write failed outside a segment: logs and stops. */
  private failed(err: unknown): void {
    void this.end('stopped', this.failReason(err));
  }

  /** Logs a write error once and names it. */
  private failReason(err: unknown): RecordingStopReason {
    const full = (err as NodeJS.ErrnoException).code === 'ENOSPC';
    this.log.error(
      { err },
      full ? 'recording stopped: disk full (ENOSPC)' : 'recording stopped: write failed',
    );
    return full ? 'DISK_FULL' : 'WRITE_FAILED';
  }

  private async free(): Promise<number> {
    try {
      return await this.ctx.freeBytes(this.ctx.root);
    } catch (err) {
      this.log.warn({ err }, 'could not read the free disk space');
      return Number.POSITIVE_INFINITY;
    }
  }

  /** Runs a callback of the control plane; its errors are logged, never ours. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'recording callback failed');
    }
  }
}

/**
 * Records every path published on this node. Constructed by the composition root; `start()`
 * subscribes to the registry, `close()` closes every open recording (idempotent).
 */
export class Recorder {
  private readonly opts: RecorderOptions;
  private readonly ctx: RecordingContext;
  /** The recording of each path's current session. */
  private readonly open = new Map<string, Recording>();
  /** Every recording not yet ended (also those draining after `offline`). */
  private readonly all = new Set<Recording>();
  /** Paths whose recording was stopped: not restarted until the path goes offline. */
  private readonly suppressed = new Set<string>();
  private started = false;
  private closing: Promise<void> | undefined;
  private readonly onPublish = (s: Stream): void => this.publish(s);
  private readonly onOffline = (s: Stream): void => this.offline(s);

  constructor(opts: RecorderOptions) {
    this.opts = opts;
    this.ctx = {
      root: opts.root,
      logger: opts.logger,
      targetMs: opts.targetMs ?? 2000,
      minFreeBytes: opts.minFreeBytes ?? 512 * 2 ** 20,
      tracksTimeoutMs: opts.tracksTimeoutMs ?? 10_000,
      freeBytes: opts.freeBytes ?? statfsFreeBytes,
      begin: (path) => opts.begin(path),
      onProgress: opts.onProgress && ((id, p) => opts.onProgress!(id, p)),
      onEnd: opts.onEnd && ((id, p) => opts.onEnd!(id, p)),
      done: (rec, status) => this.done(rec, status),
    };
  }

  /** Subscribes to the registry and starts recording the paths already live. */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.opts.registry.on('publish', this.onPublish);
    this.opts.registry.on('offline', this.onOffline);
    for (const s of this.opts.registry.list()) if (s.state === 'live') this.publish(s);
  }

  /** Open recordings. */
  active(): ActiveRecording[] {
    const out: ActiveRecording[] = [];
    for (const [path, rec] of this.open) {
      if (rec.id === undefined || rec.finishing) continue;
      const p = rec.progress();
      out.push({
        path,
        id: rec.id,
        durationMs: p.durationMs,
        sizeBytes: p.sizeBytes,
        overflows: rec.overflows,
      });
    }
    return out;
  }

  /**
   * Stops recording `path` now (the open segment is kept, the playlist closed); onEnd gets
   * status 'stopped'. The path is not recorded again until it goes offline.
   */
  stop(path: string, reason?: RecordingStopReason): Promise<void> {
    const rec = this.open.get(path);
    return rec ? rec.end('stopped', reason) : Promise.resolve();
  }

  /** Closes every open recording with what it has (status 'complete') and unsubscribes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.opts.registry.off('publish', this.onPublish);
      this.opts.registry.off('offline', this.onOffline);
      await Promise.all([...this.all].map((r) => r.end('complete')));
    })();
    return this.closing;
  }

  private publish(stream: Stream): void {
    if (this.closing) return;
    const path = stream.path;
    // An open recording continues (the publisher came back within the grace).
    if (this.open.has(path) || this.suppressed.has(path)) return;
    const rec = new Recording(this.ctx, stream);
    this.open.set(path, rec);
    this.all.add(rec);
  }

  private offline(stream: Stream): void {
    const path = stream.path;
    this.suppressed.delete(path);
    const rec = this.open.get(path);
    if (!rec) return;
    this.open.delete(path);
    rec.endAfterQueued();
  }

  private done(rec: Recording, status?: 'complete' | 'stopped'): void {
    this.all.delete(rec);
    if (this.open.get(rec.path) !== rec) return;
    this.open.delete(rec.path);
    if (status === 'stopped' && rec.stream.state !== 'idle') this.suppressed.add(rec.path);
  }
}
