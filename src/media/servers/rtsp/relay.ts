/**
 * The sub node's side of the main → sub hop: pulls a path from the main over RTSP when its
 * first viewer arrives, publishes it into the sub's own stream registry (so WHEP, the GOP cache
 * and the audio behave as on the main), and stops an idle period after the last viewer left.
 *
 * A dropped connection (main down or restarting) is a publisher drop: the sub's viewers wait
 * (the registry's reconnect grace) while the pull reconnects with backoff. A TEARDOWN from the
 * main (the lesson ended there) ends the path on the sub at once.
 */
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import type { Publisher, StreamRegistry } from '../../stream/registry.ts';
import { RtspPull, type PullEnd } from './rtsp-client.ts';

export interface RelayOptions {
  registry: StreamRegistry;
  logger: Logger;
  /** rtsp://main:8554 (paths are appended). */
  mainRtspUrl: () => string;
  /** The node token sent to the main. */
  token: () => string | undefined;
  /** Viewers this node serves on a path. */
  viewers: (path: string) => number;
  /** Stop pulling this long after the last viewer left, ms (default 30 000). */
  idleMs?: number;
  /** How long a first viewer waits for the path to come up, ms (default 6000). */
  startTimeoutMs?: number;
  /** Longest pause between reconnect attempts, ms (default 5000). */
  maxBackoffMs?: number;
  /** The main asked to close `owner`'s viewers of `path` (a removed student). */
  onCloseViewers?: (path: string, owner: string) => void;
}

interface Pull {
  path: string;
  pull?: RtspPull;
  publisher?: Publisher;
  attempt: number;
  idleSince?: number;
  retry?: NodeJS.Timeout;
  waiters: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[];
  stopped: boolean;
  /** Ever played since the first viewer asked. */
  everLive: boolean;
}

/** Pulls of this sub node, one per path with viewers. */
export class RtspRelay {
  private readonly opts: Required<Pick<RelayOptions, 'idleMs' | 'startTimeoutMs' | 'maxBackoffMs'>> &
    RelayOptions;
  private readonly log: Logger;
  private readonly pulls = new Map<string, Pull>();
  private readonly sweep: NodeJS.Timeout;
  /** Pull sessions started and the last access unit time per path (health, bench). */
  readonly stats = { started: 0, reconnects: 0 };

  constructor(opts: RelayOptions) {
    this.opts = { idleMs: 30_000, startTimeoutMs: 6000, maxBackoffMs: 5000, ...opts };
    this.log = opts.logger.child({ component: 'relay' });
    this.sweep = setInterval(() => this.sweepIdle(), 1000);
    this.sweep.unref();
  }

  /** Paths being pulled. */
  paths(): string[] {
    return [...this.pulls.keys()];
  }

  /** The pull of a path (stats). */
  pullOf(path: string): RtspPull | undefined {
    return this.pulls.get(path)?.pull;
  }

  /**
   * Makes sure `path` is pulled and live here: resolves at once when it is, else when the first
   * frames arrive; STREAM_NOT_LIVE (409) when the main has nothing on it or does not answer in
   * time.
   */
  want(path: string): Promise<void> {
    const s = this.opts.registry.get(path);
    let p = this.pulls.get(path);
    if (p && s?.state === 'live' && s.video) {
      p.idleSince = undefined;
      return Promise.resolve();
    }
    if (!p) {
      p = { path, attempt: 0, waiters: [], stopped: false, everLive: false };
      this.pulls.set(path, p);
      this.connect(p);
    }
    const pull = p;
    pull.idleSince = undefined;
    return new Promise<void>((resolve, reject) => {
      const w = {
        resolve,
        reject,
        timer: setTimeout(() => {
          pull.waiters = pull.waiters.filter((x) => x !== w);
          reject(
            new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} yet.`, { 'Retry-After': '2' }),
          );
        }, this.opts.startTimeoutMs),
      };
      w.timer.unref();
      pull.waiters.push(w);
    });
  }

  private settle(p: Pull, err?: Error): void {
    for (const w of p.waiters.splice(0)) {
      clearTimeout(w.timer);
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  private connect(p: Pull): void {
    if (p.stopped) return;
    this.stats.started++;
    const base = this.opts.mainRtspUrl().replace(/\/+$/, '');
    const pull = new RtspPull({
      url: `${base}/${p.path}`,
      token: this.opts.token(),
      logger: this.log,
      audio: 'opus',
    });
    p.pull = pull;
    pull.on('ready', ({ video, audio }) => {
      p.attempt = 0;
      if (!p.publisher) {
        try {
          p.publisher = this.opts.registry.publish(p.path, {
            id: `rtsp-pull-${this.stats.started}`,
            protocol: 'rtsp',
            remote: base,
          });
        } catch (e) {
          this.log.warn({ path: p.path, err: (e as Error).message }, 'path busy on this sub');
          pull.close();
          return;
        }
      }
      p.publisher.setVideo(video);
      if (audio) p.publisher.setAudio(audio);
      this.log.info({ path: p.path, audio: audio?.codec ?? 'none' }, 'relaying from the main');
    });
    let first = true;
    pull.on('au', (au) => {
      p.publisher?.write(au);
      if (first && au.codec === 'h264' && p.publisher) {
        first = false;
        p.everLive = true;
        this.settle(p);
      }
    });
    pull.on('end', (end) => this.ended(p, pull, end));
    pull.on('closeViewers', (owner) => this.opts.onCloseViewers?.(p.path, owner));
    pull.start();
  }

  private ended(p: Pull, pull: RtspPull, end: PullEnd): void {
    if (p.pull !== pull) return;
    p.pull = undefined;
    if (p.stopped) return;
    if (end.kind === 'teardown') {
      this.log.info({ path: p.path }, 'the main ended the stream; ending it here');
      this.stop(p.path, 'ended on the main');
      return;
    }
    // Lost, or refused (404 while the main waits for its publisher, or after a main restart).
    if (p.publisher) {
      p.publisher.close(); // viewers wait for the return (registry grace), as for a publisher drop
      p.publisher = undefined;
    }
    const stream = this.opts.registry.get(p.path);
    const waiting = stream?.state === 'waiting';
    if (end.kind === 'refused' && (end.status === 401 || end.status === 403)) {
      this.log.error({ path: p.path, status: end.status }, 'the main refused this node’s token');
    }
    if (end.kind === 'refused' && !p.everLive) {
      // Nothing there (404) or refused: the asking viewers hear it now (409, "waiting for the
      // teacher") and ask again later; nothing is polled meanwhile.
      this.stop(p.path, `main answered ${end.status}`);
      return;
    }
    if (!waiting && p.waiters.length === 0 && (!p.everLive || stream?.state !== 'live')) {
      // Nobody waits here: stop rather than poll the main for a path that has no viewers.
      if (this.opts.viewers(p.path) === 0) {
        this.stop(p.path, end.kind === 'refused' ? `main answered ${end.status}` : 'main unreachable');
        return;
      }
    }
    const delay = p.attempt === 0 ? 100 : Math.min(this.opts.maxBackoffMs, 250 * 2 ** p.attempt);
    p.attempt++;
    this.stats.reconnects++;
    if (p.attempt === 1 || p.attempt % 10 === 0) {
      this.log.info(
        { path: p.path, why: end.kind === 'lost' ? end.message : end.status, retryMs: delay },
        'pull lost; retrying',
      );
    }
    p.retry = setTimeout(() => this.connect(p), delay);
    p.retry.unref();
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const p of this.pulls.values()) {
      const stream = this.opts.registry.get(p.path);
      if (stream?.state === 'idle' && p.everLive && !p.pull) {
        // The reconnect grace ran out without the main coming back.
        this.stop(p.path, 'the main did not come back');
        continue;
      }
      if (this.opts.viewers(p.path) > 0 || p.waiters.length > 0) {
        p.idleSince = undefined;
        continue;
      }
      p.idleSince ??= now;
      if (now - p.idleSince >= this.opts.idleMs) this.stop(p.path, 'no viewers');
    }
  }

  /** Stops pulling `path` and ends it on this node (its viewers close). */
  stop(path: string, reason: string): void {
    const p = this.pulls.get(path);
    if (!p) return;
    p.stopped = true;
    this.pulls.delete(path);
    clearTimeout(p.retry);
    p.pull?.close();
    p.publisher = undefined;
    this.settle(
      p,
      new AirError('STREAM_NOT_LIVE', `Nothing is published on ${path} now.`, { 'Retry-After': '2' }),
    );
    this.opts.registry.stop(path);
    this.log.info({ path, reason }, 'relay stopped');
  }

  /** Stops every pull. */
  close(): void {
    clearInterval(this.sweep);
    for (const path of [...this.pulls.keys()]) this.stop(path, 'node closing');
  }
}
