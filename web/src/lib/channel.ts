/**
 * THE class-channel client of a page: one WebSocket to `/ws` that reconnects on its own with
 * backoff and `since=<last seq>`, so a dropped connection misses nothing (the server replays
 * chat from the database and recent class events). Messages are dispatched by `type`.
 */
import type { AnyServerMessage, ClientMessage, ServerEventType, ServerEvents } from './protocol.ts';

const PING_EVERY_MS = 20_000; // application ping (browsers cannot send WebSocket pings)
const SILENCE_MS = 50_000; // nothing heard this long on an open socket → treat it as dead
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;
/** Close codes after which trying again cannot help (4000 = the lesson ended). */
const FINAL_CODES = new Set([4000, 4001, 4003, 1008]);

/**
 * `connecting`: first attempt or a reconnect (`info.reconnecting`, `retryInMs` until the next
 * try); `open`: welcomed; `ended`: the server closed with 4000 (the lesson ended);
 * `closed`: `close()` was called or the server refused us for good (4001, 4003, 1008).
 */
export type ChannelState = 'connecting' | 'open' | 'closed' | 'ended';

/** Details of a state change. */
export interface ChannelStateInfo {
  reconnecting: boolean;
  attempt: number;
  retryInMs: number;
  /** Close code of the socket that dropped, when one did. */
  code: number | null;
  reason: string;
}

/** Options: `token` (students, monitors: `?token=`) or `classId` (teachers: session cookie). */
export interface ChannelOptions {
  token?: string;
  classId?: string;
  /** Extra query parameters. */
  params?: Record<string, string>;
}

type Handler = (msg: AnyServerMessage) => void;

/** How many past messages a late subscriber can replay (`on(…, { replay: true })`). */
const KEEP_MESSAGES = 2000;

/** Options of {@link ClassChannel.on}. */
export interface OnOptions {
  replay?: boolean;
}

/** The class channel. Construct once per page; it connects at once. */
export class ClassChannel {
  #opts: ChannelOptions;
  #ws: WebSocket | null = null;
  #state: ChannelState = 'connecting';
  #info: ChannelStateInfo = { reconnecting: false, attempt: 0, retryInMs: 0, code: null, reason: '' };
  #lastSeq = 0;
  #welcomeSeq: number | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeard = 0;
  #stopped = false;
  #handlers = new Map<string, Set<Handler>>();
  #past: AnyServerMessage[] = [];
  #welcome: ServerEvents['welcome'] | null = null;
  #stateHandlers = new Set<(state: ChannelState, info: ChannelStateInfo) => void>();
  #retryNow = () => {
    if (!this.#stopped && !this.#ws && this.#state === 'connecting') this.#connect();
  };
  #onVisible = () => document.visibilityState === 'visible' && this.#retryNow();

  constructor(opts: ChannelOptions) {
    this.#opts = opts;
    window.addEventListener('online', this.#retryNow);
    document.addEventListener('visibilitychange', this.#onVisible);
    this.#connect();
  }

  /**
   * Calls `handler` for every message of `type` ('*' = every message). With `replay`, first
   * with the messages of that type already received (the last {@link KEEP_MESSAGES}), in order:
   * for a component mounted after the socket opened. Returns an unsubscribe.
   */
  on<K extends ServerEventType>(
    type: K,
    handler: (msg: ServerEvents[K]) => void,
    opts?: OnOptions,
  ): () => void;
  on(type: '*' | string, handler: (msg: AnyServerMessage) => void, opts?: OnOptions): () => void;
  on(type: string, handler: (msg: never) => void, opts: OnOptions = {}): () => void {
    const fn = handler as Handler;
    if (opts.replay) for (const msg of this.#past) if (type === '*' || msg.type === type) fn(msg);
    const set = this.#handlers.get(type) ?? new Set();
    set.add(fn);
    this.#handlers.set(type, set);
    return () => set.delete(fn);
  }

  /** The last `welcome` (who you are, the class as it was then), null before the first. */
  get welcome(): ServerEvents['welcome'] | null {
    return this.#welcome;
  }

  /** Calls `fn` now with the current state and on every change. Returns an unsubscribe. */
  onState(fn: (state: ChannelState, info: ChannelStateInfo) => void): () => void {
    this.#stateHandlers.add(fn);
    fn(this.#state, this.#info);
    return () => this.#stateHandlers.delete(fn);
  }

  /** The current state. */
  get state(): ChannelState {
    return this.#state;
  }

  /** The highest `seq` applied (sent as `since=` on reconnect). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Sends a message; false when not connected (nothing is queued). */
  send(msg: ClientMessage): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.#state !== 'open') return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  /** Closes the socket for good (state `closed`). */
  close(): void {
    this.#finish('closed', null, '');
  }

  #setState(state: ChannelState, info: Partial<ChannelStateInfo> = {}): void {
    this.#state = state;
    this.#info = {
      reconnecting: false,
      attempt: this.#attempt,
      retryInMs: 0,
      code: null,
      reason: '',
      ...info,
    };
    for (const fn of this.#stateHandlers) fn(state, this.#info);
  }

  #url(): string {
    const u = new URL('/ws', location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    if (this.#opts.token) u.searchParams.set('token', this.#opts.token);
    if (this.#opts.classId) u.searchParams.set('classId', this.#opts.classId);
    for (const [k, v] of Object.entries(this.#opts.params ?? {})) u.searchParams.set(k, v);
    u.searchParams.set('since', String(this.#lastSeq));
    return u.href;
  }

  #connect(): void {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    this.#setState('connecting', { reconnecting: this.#welcomeSeq !== null || this.#attempt > 0 });
    const sock = new WebSocket(this.#url());
    this.#ws = sock;
    let welcomed = false;
    sock.addEventListener('open', () => {
      this.#lastHeard = Date.now();
      clearInterval(this.#pingTimer);
      this.#pingTimer = setInterval(() => this.#keepAlive(sock), PING_EVERY_MS);
    });
    sock.addEventListener('message', (ev) => {
      if (sock !== this.#ws) return;
      this.#lastHeard = Date.now();
      let msg: AnyServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as AnyServerMessage;
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'welcome') {
        welcomed = true;
        this.#welcome = msg as ServerEvents['welcome'];
        this.#welcomeSeq = this.#welcome.seq;
        this.#attempt = 0;
        this.#setState('open');
      } else if (msg.type === 'replayed') {
        // Everything up to our own join is now applied (the roster came with `welcome`).
        if (welcomed && this.#welcomeSeq !== null) this.#lastSeq = Math.max(this.#lastSeq, this.#welcomeSeq);
      } else if (typeof msg.seq === 'number') {
        this.#lastSeq = Math.max(this.#lastSeq, msg.seq);
      }
      this.#dispatch(msg);
    });
    sock.addEventListener('close', (ev) => {
      if (sock === this.#ws) this.#drop(sock, ev.code, ev.reason);
    });
  }

  #dispatch(msg: AnyServerMessage): void {
    if (msg.type !== 'pong') {
      this.#past.push(msg);
      if (this.#past.length > KEEP_MESSAGES) this.#past.splice(0, this.#past.length - KEEP_MESSAGES);
    }
    for (const key of [msg.type, '*']) {
      for (const fn of this.#handlers.get(key) ?? []) {
        try {
          fn(msg);
        } catch (e) {
          console.error(`airclass: handler of ${msg.type} failed`, e);
        }
      }
    }
  }

  /** Forgets a socket and schedules the next attempt, or stops on a final close code. */
  #drop(sock: WebSocket, code: number | null = null, reason = ''): void {
    if (sock !== this.#ws) return;
    this.#ws = null;
    clearInterval(this.#pingTimer);
    try {
      sock.close();
    } catch {
      // already closed
    }
    if (this.#stopped) return;
    if (code !== null && FINAL_CODES.has(code)) {
      this.#finish(code === 4000 ? 'ended' : 'closed', code, reason);
      return;
    }
    this.#attempt += 1;
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.#attempt - 1));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    const first = this.#attempt === 1 ? Math.min(delay, 300) : delay;
    this.#setState('connecting', { reconnecting: true, retryInMs: first, code, reason });
    this.#retryTimer = setTimeout(() => this.#connect(), first);
  }

  #keepAlive(sock: WebSocket): void {
    if (sock !== this.#ws) return;
    if (Date.now() - this.#lastHeard > SILENCE_MS) return this.#drop(sock);
    if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify({ type: 'ping' }));
  }

  #finish(state: 'closed' | 'ended', code: number | null, reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    window.removeEventListener('online', this.#retryNow);
    document.removeEventListener('visibilitychange', this.#onVisible);
    const sock = this.#ws;
    this.#ws = null;
    sock?.close(1000);
    this.#setState(state, { code, reason });
  }
}
