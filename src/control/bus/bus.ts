/**
 * The message bus of the control plane (DESIGN §4): class events published on one replica reach
 * the subscribers of every replica. In-process by default; Redis when `redisUrl` is set.
 */

/** A handler of the messages of one channel. */
export type BusHandler = (msg: unknown) => void;

/**
 * Ends a subscription (idempotent). `ready` resolves once messages published from now on are
 * delivered (Redis confirms SUBSCRIBE asynchronously; in process it is resolved at once).
 */
export type Unsubscribe = (() => void) & { readonly ready: Promise<void> };

/** Publish/subscribe on named channels; messages are JSON values. */
export interface Bus {
  /** Delivers `msg` (a JSON value) to every subscriber of `channel`, on every replica. */
  publish(channel: string, msg: unknown): Promise<void>;
  /** Calls `fn` with every message published on `channel` from now on. */
  subscribe(channel: string, fn: BusHandler): Unsubscribe;
  /** Drops every subscription and connection. Idempotent. */
  close(): Promise<void>;
}

/** Builds an {@link Unsubscribe} from a function and its readiness. */
export function unsubscriber(fn: () => void, ready: Promise<void>): Unsubscribe {
  let done = false;
  const off = (): void => {
    if (done) return;
    done = true;
    fn();
  };
  return Object.assign(off, { ready });
}

/** Calls every handler with `msg`, isolating their errors from each other and from the caller. */
export function deliver(handlers: Iterable<BusHandler>, msg: unknown, onError: (e: unknown) => void): void {
  for (const fn of [...handlers]) {
    try {
      fn(msg);
    } catch (e) {
      onError(e);
    }
  }
}

/**
 * The bus of a single process: messages go through JSON (as they would through Redis, so a
 * handler never shares an object with the publisher) and are delivered on a later microtask.
 */
export class InProcessBus implements Bus {
  private readonly channels = new Map<string, Set<BusHandler>>();
  private readonly onError: (e: unknown) => void;
  private closed = false;

  /** `onError` receives exceptions thrown by handlers (default: rethrown asynchronously). */
  constructor(opts: { onError?: (e: unknown) => void } = {}) {
    this.onError =
      opts.onError ??
      ((e) =>
        queueMicrotask(() => {
          throw e;
        }));
  }

  async publish(channel: string, msg: unknown): Promise<void> {
    if (this.closed) throw new Error('bus closed');
    const text = JSON.stringify(msg);
    await Promise.resolve();
    const handlers = this.channels.get(channel);
    if (handlers) deliver(handlers, JSON.parse(text), this.onError);
  }

  subscribe(channel: string, fn: BusHandler): Unsubscribe {
    if (this.closed) throw new Error('bus closed');
    // A wrapper per call, so that subscribing the same function twice counts twice.
    const handler: BusHandler = (m) => fn(m);
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handler);
    return unsubscriber(() => {
      const s = this.channels.get(channel);
      s?.delete(handler);
      if (s?.size === 0) this.channels.delete(channel);
    }, Promise.resolve());
  }

  /** Channels with at least one subscriber (for tests and diagnostics). */
  channelCount(): number {
    return this.channels.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
  }
}
