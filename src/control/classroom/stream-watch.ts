/**
 * The stream of each class as its teacher should see it (docs/classroom.md "Stream state"):
 * `stream.live` when a publisher is up (or media flows again), `stream.waiting` at once when
 * the publisher drops or after 3 s without media from a connected one (a frozen encoder),
 * `stream.offline` when it is gone for good, and `stream.stats { path, width, height, fps,
 * bitrate, viewers }` every 2 s while live. Also answers the ClassView `stream` field.
 */
import type { StreamRegistry } from '../../media/stream/registry.ts';
import type { Stream } from '../../media/stream/stream.ts';
import { classIdOfPath, type ClassEvents } from './events.ts';

/** The stream of a class path as the API shows it. */
export interface StreamInfo {
  live: boolean;
  state: 'live' | 'waiting' | 'offline';
  width?: number;
  height?: number;
  fps?: number;
  bitrate?: number;
  viewers: number;
}

/** What the watcher is built from. */
export interface StreamWatchOptions {
  registry: StreamRegistry;
  events: ClassEvents;
  /** Viewers of a path on this node. */
  viewers: (path: string) => number;
  /** Interval of `stream.stats`, ms (default 2000). */
  statsMs?: number;
}

/** Bridges the registry to class events and measures frame rates. */
export class StreamWatch {
  private readonly opts: StreamWatchOptions;
  private readonly frames = new Map<Stream, { at: number; count: number; fps: number }>();
  private readonly detach: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(opts: StreamWatchOptions) {
    this.opts = opts;
    const { registry } = opts;
    const emit = (s: Stream, type: string): void => {
      const id = classIdOfPath(s.path);
      if (id) opts.events.emit(id, { type, path: s.path });
    };
    const stalled = (s: Stream) => () => emit(s, 'stream.waiting');
    const resumed = (s: Stream) => () => emit(s, 'stream.live');
    const hooked = new Map<Stream, [() => void, () => void]>();
    const onPublish = (s: Stream): void => {
      if (!hooked.has(s)) {
        const pair: [() => void, () => void] = [stalled(s), resumed(s)];
        s.on('stalled', pair[0]);
        s.on('resumed', pair[1]);
        hooked.set(s, pair);
      }
      this.frames.set(s, { at: Date.now(), count: s.stats.videoFrames, fps: 0 });
      emit(s, 'stream.live');
    };
    const onUnpublish = (s: Stream): void => emit(s, 'stream.waiting');
    const onOffline = (s: Stream): void => {
      const pair = hooked.get(s);
      if (pair) {
        s.off('stalled', pair[0]);
        s.off('resumed', pair[1]);
        hooked.delete(s);
      }
      this.frames.delete(s);
      emit(s, 'stream.offline');
    };
    registry.on('publish', onPublish);
    registry.on('unpublish', onUnpublish);
    registry.on('offline', onOffline);
    this.detach = () => {
      registry.off('publish', onPublish);
      registry.off('unpublish', onUnpublish);
      registry.off('offline', onOffline);
    };
    this.timer = setInterval(() => this.tick(), opts.statsMs ?? 2000);
    this.timer.unref();
  }

  /** The stream of a path now. */
  info(path: string): StreamInfo {
    const s = this.opts.registry.get(path);
    const viewers = this.opts.viewers(path);
    if (!s || s.state === 'idle') return { live: false, state: 'offline', viewers };
    const live = s.state === 'live' && !s.stalled;
    const out: StreamInfo = { live, state: live ? 'live' : 'waiting', viewers };
    if (s.video) {
      out.width = s.video.width;
      out.height = s.video.height;
    }
    if (live) {
      out.fps = this.frames.get(s)?.fps ?? 0;
      out.bitrate = s.bitrate;
    }
    return out;
  }

  private tick(): void {
    const now = Date.now();
    for (const [s, f] of this.frames) {
      const dt = now - f.at;
      if (dt > 0) f.fps = Math.round(((s.stats.videoFrames - f.count) * 10_000) / dt) / 10;
      f.at = now;
      f.count = s.stats.videoFrames;
      const id = classIdOfPath(s.path);
      if (!id || s.state !== 'live' || s.stalled) continue;
      this.opts.events.emit(id, { type: 'stream.stats', path: s.path, ...this.info(s.path) });
    }
  }

  /** Stops listening. Idempotent. */
  close(): void {
    clearInterval(this.timer);
    this.detach();
  }
}
