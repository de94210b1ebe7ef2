import { EventEmitter } from 'node:events';
import { pathBusy, Stream, type PublisherInfo } from './stream.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from './types.ts';

/** Events of the registry. */
export interface RegistryEvents {
  /** A stream got a publisher (first time or after a return). */
  publish: [stream: Stream];
  /** A publisher left (the stream waits for it for the grace period). */
  unpublish: [stream: Stream];
  /** A stream went offline for good. */
  offline: [stream: Stream];
}

/** Registry options. */
export interface RegistryOptions {
  /** How long a dropped publisher's viewers are kept waiting for it to return, ms. */
  reconnectGraceMs: number;
}

/** The handle a protocol adapter uses to publish into a path. */
export interface Publisher {
  readonly stream: Stream;
  setVideo(track: VideoTrack): void;
  setAudio(track: AudioTrack): void;
  write(au: AccessUnit): void;
  /** Ends this publisher session. Idempotent. */
  close(): void;
}

/** All paths of this node. Constructed by the composition root; no module singleton. */
export class StreamRegistry extends EventEmitter<RegistryEvents> {
  private readonly streams = new Map<string, Stream>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** The publisher handle live on each path (ended without grace by `stop`). */
  private readonly active = new Map<string, () => void>();
  private readonly opts: RegistryOptions;

  constructor(opts: RegistryOptions) {
    super();
    this.opts = opts;
  }

  /** The stream on `path`, if any reader or publisher created it. */
  get(path: string): Stream | undefined {
    return this.streams.get(path);
  }

  /** Every stream of this node. */
  list(): Stream[] {
    return [...this.streams.values()];
  }

  /** The stream on `path`, created idle if it does not exist. */
  ensure(path: string): Stream {
    let s = this.streams.get(path);
    if (!s) {
      s = new Stream(path);
      this.streams.set(path, s);
    }
    return s;
  }

  /** Starts publishing on `path`; throws PATH_BUSY if someone is live there. */
  publish(path: string, info: PublisherInfo): Publisher {
    const stream = this.ensure(path);
    if (stream.state === 'live') throw pathBusy(path);
    const t = this.graceTimers.get(path);
    if (t) {
      clearTimeout(t);
      this.graceTimers.delete(path);
    }
    stream.beginSession(info);
    this.emit('publish', stream);
    let closed = false;
    const silence = (): void => {
      closed = true;
      if (this.active.get(path) === silence) this.active.delete(path);
    };
    this.active.set(path, silence);
    return {
      stream,
      setVideo: (track) => !closed && stream.setVideo(track),
      setAudio: (track) => !closed && stream.setAudio(track),
      write: (au) => {
        if (!closed) stream.write(au);
      },
      close: () => {
        if (closed) return;
        silence();
        stream.endSession();
        this.emit('unpublish', stream);
        this.graceTimers.set(
          path,
          setTimeout(() => {
            this.graceTimers.delete(path);
            if (stream.state === 'waiting') {
              stream.goOffline();
              this.emit('offline', stream);
            }
          }, this.opts.reconnectGraceMs).unref(),
        );
      },
    };
  }

  /**
   * Ends a path now, with no grace period: its publisher handle stops writing (the protocol
   * adapter is disconnected by its server), the stream goes offline and its readers are told
   * (viewers close). Returns true when something was live or waiting there.
   */
  stop(path: string): boolean {
    const t = this.graceTimers.get(path);
    if (t) {
      clearTimeout(t);
      this.graceTimers.delete(path);
    }
    this.active.get(path)?.();
    const stream = this.streams.get(path);
    if (!stream || stream.state === 'idle') return false;
    stream.goOffline();
    this.emit('offline', stream);
    return true;
  }

  /** Ends every stream and timer. Idempotent. */
  close(): void {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    for (const s of this.streams.values()) {
      if (s.state !== 'idle') {
        s.goOffline();
        this.emit('offline', s);
      }
      for (const r of [...s.readers]) r.close();
    }
    this.streams.clear();
  }
}
