/**
 * THE WHEP player of every page that shows the class video (watch, the teacher's preview, the
 * monitor): opens a session, shows it in a <video>, waits while the teacher is not on air (409
 * with Retry-After), keeps the session while the publisher is briefly away, replaces broken
 * sessions, and stops for good on 410 (the lesson ended) or 401/403 (refused). When ICE never
 * connects (a network that blocks UDP) it says so once through `onTransportFailed`, so the
 * watch page can fall back to HLS (hls-fallback.ts); it goes on trying meanwhile.
 */
import { AudioMeter } from './audio-meter.ts';
import type { PlayerMonitor, PlayerReason, PlayerState, PlayerStats, PlayerView } from './player-types.ts';
import type { EndpointResolver } from './assign.ts';
import { deleteWhepSession, openWhepSession, WhepError, type WhepSession } from './whep.ts';

const DISCONNECT_GRACE_MS = 2000; // 'disconnected'/'failed' this long → new session
const CONNECT_TIMEOUT_MS = 10000; // 201 received but ICE/DTLS never connects → new session
// Connected but no new frame: after PAUSE_MS the player says the stream paused and keeps the
// session (the server holds viewers 30 s for a publisher that drops and returns); only after
// STALL_MS does it start a new session.
const PAUSE_MS = 3000;
// …but only while the server still talks (a sender report at least this recently): a node that
// went silent is not a paused teacher, SILENT_MS decides it is gone.
const PAUSE_HEARD_MS = 2000;
// Nothing at all from the server — no RTP and no sender report (sent every second even while
// the teacher's stream pauses) — this long: the node is gone (a sub that died): new session.
const SILENT_MS = 2500;
const STALL_MS = 35000;
const STATS_INTERVAL_MS = 500;
const DEFAULT_RETRY_S = 2; // 409 without Retry-After
const MAX_BACKOFF_MS = 10000;
// Transport failure (`onTransportFailed`): sessions opened but never connected this long, or
// this many sessions in a row that ended without ever connecting.
const TRANSPORT_FAILED_MS = 8000;
const TRANSPORT_FAILED_SESSIONS = 2;

export type { PlayerMonitor, PlayerReason, PlayerState, PlayerStats, PlayerView } from './player-types.ts';

/**
 * Options: the video element, `endpoint` (e.g. `/live/<classId>/whep`) and the Bearer token.
 * With `resolveEndpoint` (a cluster: assign.ts) the endpoint is asked for before every
 * connection, so a student whose sub node died moves to another without a reload.
 */
export interface PlayerOptions {
  video: HTMLVideoElement;
  endpoint: string;
  resolveEndpoint?: EndpointResolver;
  token: string;
  onChange?: (view: PlayerView) => void;
  /**
   * ICE/DTLS cannot connect: no session connected within 8 s of the first one opened, or two
   * sessions in a row ended without connecting. Called once per such run (again only after a
   * session connected, or after `stop()` and `start()`); the player keeps retrying.
   */
  onTransportFailed?: () => void;
}

interface Live extends WhepSession {
  frames: number;
  lastProgressAt: number;
  /** Packets + sender reports received, and when that count last grew. */
  heard: number;
  lastHeardAt: number;
  connected: boolean;
  timers: { connect?: number; grace?: number | null };
}

/** One player per video element. `start()` connects; `stop()` ends it for good. */
export class WhepPlayer {
  readonly monitor: PlayerMonitor;
  view: PlayerView = { state: 'connecting', reason: 'connecting', needsGesture: false };
  #o: PlayerOptions;
  #s: Live | null = null;
  #gen = 0;
  #framesBase = 0;
  #everLive = false;
  #attempt = 0;
  #retryTimer: number | undefined;
  #statsTimer: number | undefined;
  #stopped = true;
  /** The last session broke or its node could not be reached: ask for another node. */
  #lost = false;
  #ice: RTCIceServer[] | null = null;
  #meter = new AudioMeter();
  #bytes: { at: number; bytes: number } | null = null;
  #stats: PlayerStats = { framesDecoded: 0, width: 0, height: 0, fps: null, bitrateKbps: null };
  /** Sessions in a row that ended without connecting; the transport-failure timer; reported. */
  #unconnected = 0;
  #transportTimer: number | undefined;
  #transportReported = false;

  constructor(opts: PlayerOptions) {
    this.#o = opts;
    const video = opts.video;
    this.monitor = {
      state: 'connecting',
      httpStatus: null,
      sessionUrl: null,
      postAt: null,
      answerAt: null,
      connectedAt: null,
      firstFrameAt: null,
      reconnects: 0,
      transport: 'webrtc',
      framesDecoded: () => this.#framesBase + (this.#s?.frames ?? 0),
      videoSize: () => ({ width: video.videoWidth, height: video.videoHeight }),
      audioLevel: () => this.#meter.level(),
    };
  }

  /** Connects (again after `stop()`, e.g. when a page comes back from the bfcache). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unconnected = 0;
    this.#transportReported = false;
    this.#statsTimer = window.setInterval(() => void this.#poll(), STATS_INTERVAL_MS);
    void this.#connect();
  }

  /**
   * Stops: closes the session here and on the server. With `final`, the view shows it
   * (`ended` when the lesson ended, `refused` with `removed` for a removed student).
   */
  stop(final?: { state: 'ended' | 'refused'; reason: PlayerReason }): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#transportTimer);
    this.#transportTimer = undefined;
    clearInterval(this.#statsTimer);
    if (this.#s) this.#drop(this.#s);
    if (final) {
      this.#o.video.pause();
      this.#o.video.srcObject = null;
      this.#meter.close();
      this.#set(final.state, final.reason);
    }
  }

  /** Sound on after a tap (when the browser refused unmuted autoplay). */
  unmute(): void {
    const video = this.#o.video;
    video.muted = false;
    video.play().catch(() => {});
    this.#meter.resume();
    this.#set(this.view.state, this.view.reason, this.view.retryInS, false);
  }

  /** The latest numbers (updated every 500 ms while a session is open). */
  stats(): PlayerStats {
    return { ...this.#stats, framesDecoded: this.monitor.framesDecoded() };
  }

  #set(
    state: PlayerState,
    reason: PlayerReason,
    retryInS?: number,
    needsGesture = this.view.needsGesture,
  ): void {
    this.monitor.state = state;
    this.view = { state, reason, retryInS, needsGesture };
    this.#o.onChange?.(this.view);
  }

  #markLive(): void {
    this.#everLive = true;
    this.#attempt = 0;
    this.#lost = false;
    if (this.monitor.state !== 'live') this.#set('live', 'live');
  }

  async #connect(): Promise<void> {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    const gen = ++this.#gen;
    if (this.monitor.state !== 'waiting')
      this.#set(
        this.#everLive ? 'reconnecting' : 'connecting',
        this.#everLive ? 'reconnecting' : 'connecting',
      );
    let opened: WhepSession;
    try {
      const endpoint = this.#o.resolveEndpoint ? await this.#o.resolveEndpoint(this.#lost) : this.#o.endpoint;
      if (gen !== this.#gen || this.#stopped) return;
      opened = await openWhepSession({
        endpoint,
        token: this.#o.token,
        iceServers: this.#ice,
      });
    } catch (e) {
      if (gen === this.#gen && !this.#stopped) this.#onError(e);
      return;
    }
    if (gen !== this.#gen || this.#stopped) {
      opened.pc.close();
      deleteWhepSession(opened.sessionUrl, this.#o.token);
      return;
    }
    this.#ice = opened.iceServers;
    const s: Live = {
      ...opened,
      frames: 0,
      lastProgressAt: performance.now(),
      heard: 0,
      lastHeardAt: performance.now(),
      connected: false,
      timers: {},
    };
    this.#s = s;
    Object.assign(this.monitor, {
      httpStatus: 201,
      sessionUrl: s.sessionUrl,
      postAt: s.postAt,
      answerAt: s.answerAt,
      connectedAt: null,
      firstFrameAt: null,
    });
    if (!this.#o.video.srcObject) this.#attach(s);
    s.timers.connect = window.setTimeout(() => s.connected || this.#reconnect(s), CONNECT_TIMEOUT_MS);
    if (this.#transportTimer === undefined && !this.#transportReported)
      this.#transportTimer = window.setTimeout(() => {
        this.#transportTimer = undefined;
        // Only while a session is still trying (not while the teacher is off air: 409).
        if (this.#s && !this.#s.connected) this.#transportFailed();
      }, TRANSPORT_FAILED_MS);
    s.pc.addEventListener('connectionstatechange', () => this.#onConnectionState(s));
  }

  #onConnectionState(s: Live): void {
    if (s !== this.#s) return;
    const state = s.pc.connectionState;
    if (state === 'connected') {
      clearTimeout(s.timers.grace ?? undefined);
      s.timers.grace = null;
      s.lastProgressAt = performance.now();
      if (!s.connected) this.monitor.connectedAt = s.lastProgressAt;
      s.connected = true;
      clearTimeout(this.#transportTimer);
      this.#transportTimer = undefined;
      this.#unconnected = 0;
      this.#transportReported = false;
      if (this.#o.video.srcObject !== s.stream) this.#attach(s);
    } else if (state === 'disconnected' || state === 'failed') {
      s.timers.grace ??= window.setTimeout(() => this.#reconnect(s), DISCONNECT_GRACE_MS);
    } else if (state === 'closed') {
      this.#reconnect(s);
    }
  }

  #onError(e: unknown): void {
    const w = e instanceof WhepError ? e : null;
    const status = w?.status ?? 0;
    this.monitor.httpStatus = status || null;
    if (!w) console.warn('airclass: WHEP session failed', e);
    // Unreachable, or the node failed or is full (5xx): the next attempt asks for another node.
    if (!w || status >= 500) this.#lost = true;
    if (status === 410) return this.stop({ state: 'ended', reason: 'lessonEnded' });
    if (status === 401 || status === 403) {
      const reason: PlayerReason = !this.#o.token
        ? 'noToken'
        : w?.code === 'REMOVED'
          ? 'removed'
          : status === 401
            ? 'unauthorized'
            : 'forbidden';
      return this.stop({ state: 'refused', reason }); // a new token is needed: retrying cannot help
    }
    if (status === 409 || status === 404) {
      this.#set('waiting', this.#everLive ? 'paused' : 'noPublisher');
      return this.#retry(Math.min(30, w?.retryAfter ?? DEFAULT_RETRY_S) * 1000);
    }
    this.#attempt += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt) * (0.75 + Math.random() * 0.5);
    const delay = w?.retryAfter !== undefined ? Math.min(30, w.retryAfter) * 1000 : backoff;
    this.#set(this.#everLive ? 'reconnecting' : 'connecting', 'retry', Math.ceil(delay / 1000));
    this.#retry(delay);
  }

  #retry(ms: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = window.setTimeout(() => void this.#connect(), Math.max(250, ms));
  }

  /** Closes a session here and on the server (DELETE), keeping its frame count. */
  #drop(s: Live): void {
    clearTimeout(s.timers.connect);
    clearTimeout(s.timers.grace ?? undefined);
    this.#framesBase += s.frames;
    s.frames = 0;
    s.pc.close();
    deleteWhepSession(s.sessionUrl, this.#o.token);
    if (this.#s === s) this.#s = null;
  }

  /** Replaces a broken session: first retry at once, later ones with backoff. */
  #reconnect(s: Live): void {
    if (s !== this.#s || this.#stopped) return;
    this.#drop(s);
    this.#lost = true;
    if (!s.connected && ++this.#unconnected >= TRANSPORT_FAILED_SESSIONS) this.#transportFailed();
    if (this.#stopped) return; // the page stopped the player on the failure
    this.monitor.reconnects += 1;
    this.#attempt += 1;
    this.#set('reconnecting', 'reconnecting');
    if (this.#attempt <= 1) void this.#connect();
    else this.#retry(Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt));
  }

  /** Reports a transport failure once per run (see `onTransportFailed`). */
  #transportFailed(): void {
    clearTimeout(this.#transportTimer);
    this.#transportTimer = undefined;
    if (this.#transportReported || this.#stopped) return;
    this.#transportReported = true;
    this.#o.onTransportFailed?.();
  }

  /** Shows a session's stream in the video element, with sound if the browser allows it. */
  #attach(s: Live): void {
    const video = this.#o.video;
    video.srcObject = s.stream;
    if ('requestVideoFrameCallback' in video) {
      const onFrame = () => {
        if (s !== this.#s || video.srcObject !== s.stream) return;
        if (this.monitor.firstFrameAt === null) this.monitor.firstFrameAt = performance.now();
        this.#markLive();
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
    this.#meter.attach(s.stream);
    void this.#play();
  }

  async #play(): Promise<void> {
    const video = this.#o.video;
    video.muted = this.view.needsGesture;
    try {
      await video.play();
      if (!video.muted) this.#meter.resume();
    } catch (e) {
      if (!(e instanceof DOMException) || e.name !== 'NotAllowedError') return; // e.g. AbortError
      video.muted = true;
      this.#set(this.view.state, this.view.reason, this.view.retryInS, true);
      video.play().catch(() => {});
    }
  }

  /** Reads the inbound video stats; marks live on progress, replaces the session when it stalls. */
  async #poll(): Promise<void> {
    const s = this.#s;
    if (!s || this.#stopped) return;
    let frames = s.frames;
    let heard = 0;
    let report: Record<string, unknown> | null = null;
    try {
      for (const r of (await s.pc.getStats()).values()) {
        if (r.type === 'inbound-rtp') heard += (r.packetsReceived as number | undefined) ?? 0;
        if (r.type === 'remote-outbound-rtp') heard += (r.reportsSent as number | undefined) ?? 0;
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          report = r as Record<string, unknown>;
          frames = (r.framesDecoded as number | undefined) ?? frames;
        }
      }
    } catch {
      return; // closed meanwhile
    }
    if (s !== this.#s) return;
    const now = performance.now();
    this.#readStats(report, now);
    if (heard > s.heard) {
      s.heard = heard;
      s.lastHeardAt = now;
    }
    if (s.connected && s.heard > 0 && now - s.lastHeardAt > SILENT_MS) {
      this.#reconnect(s); // the node stopped answering: ask for another (resolveEndpoint)
    } else if (frames > s.frames) {
      s.frames = frames;
      s.lastProgressAt = now;
      if (this.#o.video.srcObject === s.stream) this.#markLive();
    } else if (s.connected && now - s.lastProgressAt > STALL_MS) {
      this.#reconnect(s);
    } else if (
      s.connected &&
      this.#everLive &&
      now - s.lastProgressAt > PAUSE_MS &&
      now - s.lastHeardAt <= PAUSE_HEARD_MS &&
      this.monitor.state === 'live'
    ) {
      this.#set('waiting', 'paused');
    }
  }

  #readStats(r: Record<string, unknown> | null, now: number): void {
    const bytes = typeof r?.bytesReceived === 'number' ? r.bytesReceived : null;
    let bitrateKbps: number | null = null;
    if (bytes !== null && this.#bytes && now > this.#bytes.at && bytes >= this.#bytes.bytes)
      bitrateKbps = Math.round(((bytes - this.#bytes.bytes) * 8) / (now - this.#bytes.at));
    if (bytes !== null) this.#bytes = { at: now, bytes };
    this.#stats = {
      framesDecoded: this.monitor.framesDecoded(),
      width: this.#o.video.videoWidth,
      height: this.#o.video.videoHeight,
      fps: typeof r?.framesPerSecond === 'number' ? r.framesPerSecond : null,
      bitrateKbps,
    };
  }
}
