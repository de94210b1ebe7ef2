/**
 * The watch page's way round a network that blocks UDP (issue 9): when the WHEP player says
 * its transport failed (ICE never connects), the class plays as live HLS instead
 * (`/live/<name>/hls/index.m3u8?jwt=…`, hls.js over MSE, Safari's own HLS without it), with a
 * few seconds more delay; WebRTC is tried again every 30 s in the background, and the page
 * switches back as soon as it plays. `window.airclass` keeps reporting frames and sound on
 * either transport, and says which one is in use (`transport`).
 */
import type HlsJs from 'hls.js';
import { parseRetryAfter } from './api.ts';
import { AudioMeter } from './audio-meter.ts';
import type { PlayerMonitor, PlayerReason, PlayerState, PlayerView } from './player-types.ts';
import { WhepPlayer, type PlayerOptions } from './whep-player.ts';

/** How the picture arrives. */
export type Transport = PlayerMonitor['transport'];

const PROBE_EVERY_MS = 30_000; // WebRTC tried again this often while on HLS
const POLL_MS = 500;
const PAUSE_MS = 4000; // no new frame this long (segments are ≥ 1 s): the stream paused
const STALL_MS = 35_000; // no new frame this long: load the playlist again
const DEFAULT_RETRY_S = 2;
const MAX_BACKOFF_MS = 10_000;
const HLS_MIME = 'application/vnd.apple.mpegurl';

type HlsClass = typeof HlsJs;
let hlsModule: Promise<HlsClass | null> | null = null;

/** hls.js, loaded on first need (most students never fall back). */
function loadHls(): Promise<HlsClass | null> {
  hlsModule ??= import('hls.js').then(
    (m) => m.default,
    (e: unknown) => {
      console.warn('airclass: hls.js did not load', e);
      hlsModule = null;
      return null;
    },
  );
  return hlsModule;
}

interface HttpFailure {
  status: number;
  code: string;
  retryAfter?: number;
}

/**
 * Asks for the playlist once before a player does (the server answers when the first segment
 * exists): 'live', 'ended' (EXT-X-ENDLIST: the stream just went offline; nothing to start
 * playing), or the status and catalogue code of a refusal, which the player's own loader would
 * not tell (REMOVED, LESSON_ENDED…).
 */
async function checkPlaylist(src: string): Promise<'live' | 'ended' | HttpFailure> {
  try {
    const res = await fetch(src, { cache: 'no-store', credentials: 'same-origin' });
    if (res.ok) return (await res.text()).includes('#EXT-X-ENDLIST') ? 'ended' : 'live';
    const body = (await res.json().catch(() => null)) as { error?: { code?: unknown } } | null;
    const code = typeof body?.error?.code === 'string' ? body.error.code : `HTTP_${res.status}`;
    return { status: res.status, code, retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
  } catch {
    return { status: 0, code: 'NETWORK' };
  }
}

/** Options of {@link HlsPlayer}. */
export interface HlsPlayerOptions {
  video: HTMLVideoElement;
  /** The live playlist URL, token included (`…/index.m3u8?jwt=…`). */
  src: string;
  onChange?: (view: PlayerView) => void;
}

/** A live HLS player with the WHEP player's states: waits, retries, stops on 410/401/403. */
export class HlsPlayer {
  view: PlayerView = { state: 'connecting', reason: 'connecting', needsGesture: false };
  firstFrameAt: number | null = null;
  #o: HlsPlayerOptions;
  #hls: HlsJs | null = null;
  #gen = 0;
  #stopped = true;
  #everLive = false;
  #attempt = 0;
  #retryTimer: number | undefined;
  #pollTimer: number | undefined;
  #raw = 0;
  #framesBase = 0;
  #lastFrames = 0;
  #lastProgressAt = 0;
  #meter = new AudioMeter();
  #captured: MediaStream | null = null;
  #onPlaying = (): void => this.#listen();
  #onEnded = (): void => this.#streamEnded();
  /** Errors of Safari's own HLS (hls.js reports its own through its ERROR event). */
  #onError = (): void => {
    if (!this.#hls && this.#o.video.hasAttribute('src')) this.#failed();
  };

  constructor(opts: HlsPlayerOptions) {
    this.#o = opts;
  }

  /** True when this browser can play HLS at all (MSE for hls.js, or native HLS). */
  static supported(video: HTMLVideoElement): boolean {
    return 'MediaSource' in window || 'ManagedMediaSource' in window || video.canPlayType(HLS_MIME) !== '';
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const v = this.#o.video;
    v.addEventListener('playing', this.#onPlaying);
    v.addEventListener('ended', this.#onEnded);
    v.addEventListener('error', this.#onError);
    this.#pollTimer = window.setInterval(() => this.#poll(), POLL_MS);
    void this.#load();
  }

  /** Stops; with `final` the view shows it (as WhepPlayer.stop). */
  stop(final?: { state: 'ended' | 'refused'; reason: PlayerReason }): void {
    this.#stopped = true;
    this.#gen++;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pollTimer);
    const v = this.#o.video;
    v.removeEventListener('playing', this.#onPlaying);
    v.removeEventListener('ended', this.#onEnded);
    v.removeEventListener('error', this.#onError);
    this.#detach();
    if (final) {
      this.#meter.close();
      this.#set(final.state, final.reason);
    }
  }

  unmute(): void {
    const video = this.#o.video;
    video.muted = false;
    video.play().catch(() => {});
    this.#meter.resume();
    this.#set(this.view.state, this.view.reason, this.view.retryInS, false);
  }

  /** Frames decoded since the first start (never goes back when a playlist is loaded again). */
  framesDecoded(): number {
    const raw = this.#o.video.getVideoPlaybackQuality?.().totalVideoFrames ?? 0;
    if (raw < this.#raw) this.#framesBase += this.#raw;
    this.#raw = raw;
    return this.#framesBase + raw;
  }

  audioLevel(): number {
    return this.#meter.level();
  }

  #set(
    state: PlayerState,
    reason: PlayerReason,
    retryInS?: number,
    needsGesture = this.view.needsGesture,
  ): void {
    this.view = { state, reason, retryInS, needsGesture };
    this.#o.onChange?.(this.view);
  }

  async #load(): Promise<void> {
    clearTimeout(this.#retryTimer);
    if (this.#stopped) return;
    const gen = ++this.#gen;
    if (this.view.state !== 'waiting')
      this.#set(
        this.#everLive ? 'reconnecting' : 'connecting',
        this.#everLive ? 'reconnecting' : 'connecting',
      );
    const check = await checkPlaylist(this.#o.src);
    if (gen !== this.#gen || this.#stopped) return;
    if (check === 'ended') return this.#onHttpError({ status: 409, code: 'STREAM_NOT_LIVE' });
    if (check !== 'live') return this.#onHttpError(check);
    const Hls = await loadHls();
    if (gen !== this.#gen || this.#stopped) return;
    this.#detach();
    const video = this.#o.video;
    this.#lastProgressAt = performance.now();
    if (Hls?.isSupported()) {
      const hls = new Hls({
        // Close to the live edge: two segments (a segment follows the teacher's keyframe interval).
        liveSyncDurationCount: 2,
        liveMaxLatencyDurationCount: 6,
        maxLiveSyncPlaybackRate: 1.2,
        maxBufferLength: 10,
        backBufferLength: 10,
        lowLatencyMode: false,
      });
      this.#hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal && this.#hls === hls) this.#failed();
      });
      hls.loadSource(this.#o.src);
      hls.attachMedia(video);
    } else if (video.canPlayType(HLS_MIME)) {
      video.src = this.#o.src; // Safari without MSE (older iPhones)
    } else {
      return this.#failed();
    }
    void this.#play();
  }

  /** The same meaning as the WHEP player gives these statuses. */
  #onHttpError(f: HttpFailure): void {
    if (f.status === 410) return this.stop({ state: 'ended', reason: 'lessonEnded' });
    if (f.status === 401 || f.status === 403) {
      const reason: PlayerReason =
        f.code === 'TOKEN_MISSING'
          ? 'noToken'
          : f.code === 'REMOVED'
            ? 'removed'
            : f.status === 401
              ? 'unauthorized'
              : 'forbidden';
      return this.stop({ state: 'refused', reason });
    }
    if (f.status === 409 || f.status === 404) {
      this.#set('waiting', this.#everLive ? 'paused' : 'noPublisher');
      return this.#retry(Math.min(30, f.retryAfter ?? DEFAULT_RETRY_S) * 1000);
    }
    this.#attempt += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt) * (0.75 + Math.random() * 0.5);
    const delay = f.retryAfter !== undefined ? Math.min(30, f.retryAfter) * 1000 : backoff;
    this.#set(this.#everLive ? 'reconnecting' : 'connecting', 'retry', Math.ceil(delay / 1000));
    this.#retry(delay);
  }

  #retry(ms: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = window.setTimeout(() => void this.#load(), Math.max(250, ms));
  }

  /** A fatal player error: load again (the playlist check then says what is wrong). */
  #failed(): void {
    if (this.#stopped) return;
    this.#detach();
    this.#attempt += 1;
    this.#retry(Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.#attempt));
  }

  /** EXT-X-ENDLIST played out: the stream went offline; wait for it (or for the end: 410). */
  #streamEnded(): void {
    if (this.#stopped) return;
    this.#detach();
    this.#set('waiting', 'paused');
    this.#retry(DEFAULT_RETRY_S * 1000);
  }

  #detach(): void {
    const video = this.#o.video;
    const hls = this.#hls;
    this.#hls = null;
    if (hls) hls.destroy();
    else if (video.hasAttribute('src')) {
      video.removeAttribute('src');
      video.load();
    }
  }

  #poll(): void {
    if (this.#stopped) return;
    const frames = this.framesDecoded();
    const now = performance.now();
    const attached = this.#hls !== null || this.#o.video.hasAttribute('src');
    if (frames > this.#lastFrames) {
      this.#lastFrames = frames;
      this.#lastProgressAt = now;
      if (attached && !this.#o.video.paused) this.#markLive();
    } else if (attached && now - this.#lastProgressAt > STALL_MS) {
      this.#failed();
    } else if (this.view.state === 'live' && now - this.#lastProgressAt > PAUSE_MS) {
      this.#set('waiting', 'paused');
    }
  }

  #markLive(): void {
    this.#everLive = true;
    this.#attempt = 0;
    this.firstFrameAt ??= performance.now();
    if (this.view.state !== 'live') this.#set('live', 'live');
  }

  /** The sound level from what the element plays (captureStream; none in Safari). */
  #listen(): void {
    const video = this.#o.video as HTMLVideoElement & { captureStream?: () => MediaStream };
    if (!this.#captured && typeof video.captureStream === 'function') {
      try {
        const stream = video.captureStream();
        stream.addEventListener('addtrack', () => this.#meter.attach(stream));
        this.#captured = stream;
      } catch (e) {
        console.warn('airclass: captureStream unavailable, audioLevel() stays 0 on HLS', e);
      }
    }
    if (this.#captured) this.#meter.attach(this.#captured);
    if (!video.muted) this.#meter.resume();
  }

  async #play(): Promise<void> {
    const video = this.#o.video;
    video.muted = this.view.needsGesture;
    try {
      await video.play();
    } catch (e) {
      if (!(e instanceof DOMException) || e.name !== 'NotAllowedError') return;
      video.muted = true;
      this.#set(this.view.state, this.view.reason, this.view.retryInS, true);
      video.play().catch(() => {});
    }
  }
}

/** Options of {@link FallbackPlayer}: the WHEP player's, plus the HLS element and URL. */
export interface FallbackOptions extends Omit<PlayerOptions, 'onTransportFailed'> {
  /** A second video element over the WebRTC one, shown while on HLS. */
  hlsVideo: HTMLVideoElement;
  hlsSrc: string;
  onTransport?: (transport: Transport) => void;
}

/**
 * WebRTC first; HLS when its transport fails; back to WebRTC when a background attempt
 * (every 30 s) plays. One `view` and one `monitor` for the page, whichever transport plays.
 */
export class FallbackPlayer {
  readonly monitor: PlayerMonitor;
  view: PlayerView = { state: 'connecting', reason: 'connecting', needsGesture: false };
  transport: Transport = 'webrtc';
  #o: FallbackOptions;
  #whep: WhepPlayer;
  #hls: HlsPlayer;
  #probeTimer: number | undefined;
  #probing = false;
  #final = false;

  constructor(opts: FallbackOptions) {
    this.#o = opts;
    this.#whep = new WhepPlayer({
      ...opts,
      onChange: (v) => this.#fromWhep(v),
      onTransportFailed: () => this.#whepFailed(),
    });
    this.#hls = new HlsPlayer({ video: opts.hlsVideo, src: opts.hlsSrc, onChange: (v) => this.#fromHls(v) });
    const whep = this.#whep.monitor;
    const hls = this.#hls;
    const state = (): PlayerState => this.view.state;
    const transport = (): Transport => this.transport;
    this.monitor = {
      get state() {
        return state();
      },
      get transport() {
        return transport();
      },
      get httpStatus() {
        return whep.httpStatus;
      },
      get sessionUrl() {
        return whep.sessionUrl;
      },
      get postAt() {
        return whep.postAt;
      },
      get answerAt() {
        return whep.answerAt;
      },
      get connectedAt() {
        return whep.connectedAt;
      },
      get firstFrameAt() {
        return whep.firstFrameAt ?? hls.firstFrameAt;
      },
      get reconnects() {
        return whep.reconnects;
      },
      framesDecoded: () => whep.framesDecoded() + hls.framesDecoded(),
      videoSize: () => {
        const v = this.video;
        return { width: v.videoWidth, height: v.videoHeight };
      },
      audioLevel: () => (this.transport === 'hls' ? hls.audioLevel() : whep.audioLevel()),
    };
  }

  /** The element showing the class now. */
  get video(): HTMLVideoElement {
    return this.transport === 'hls' ? this.#o.hlsVideo : this.#o.video;
  }

  start(): void {
    if (this.#final) return;
    if (this.transport === 'hls') {
      this.#hls.start();
      this.#scheduleProbe();
    } else this.#whep.start();
  }

  /** Stops both transports; with `final` the view shows it. */
  stop(final?: { state: 'ended' | 'refused'; reason: PlayerReason }): void {
    if (final) this.#final = true;
    clearTimeout(this.#probeTimer);
    this.#probing = false;
    this.#whep.stop(final);
    this.#hls.stop(final);
    if (final) this.#emit({ state: final.state, reason: final.reason, needsGesture: false });
  }

  unmute(): void {
    if (this.transport === 'hls') this.#hls.unmute();
    else this.#whep.unmute();
  }

  #emit(v: PlayerView): void {
    this.view = v;
    this.#o.onChange?.(v);
  }

  #isFinal(v: PlayerView): boolean {
    return v.state === 'ended' || v.state === 'refused';
  }

  #fromWhep(v: PlayerView): void {
    if (this.#final) return;
    if (this.#isFinal(v)) return this.stop({ state: v.state as 'ended' | 'refused', reason: v.reason });
    if (this.transport === 'webrtc') this.#emit(v);
    else if (this.#probing && v.state === 'live') this.#backToWebrtc();
  }

  #fromHls(v: PlayerView): void {
    if (this.#final) return;
    if (this.#isFinal(v)) return this.stop({ state: v.state as 'ended' | 'refused', reason: v.reason });
    if (this.transport === 'hls') this.#emit(v);
  }

  #whepFailed(): void {
    if (this.#final) return;
    if (this.transport === 'webrtc') {
      if (!HlsPlayer.supported(this.#o.hlsVideo)) return; // nothing better: WebRTC keeps trying
      this.#whep.stop();
      this.transport = 'hls';
      this.#hls.start();
      this.#scheduleProbe();
      this.#emit(this.#hls.view);
      this.#o.onTransport?.('hls');
    } else if (this.#probing) {
      this.#probing = false;
      this.#whep.stop();
      this.#scheduleProbe();
    }
  }

  /** In 30 s: WebRTC in the background, silent, on the covered element. */
  #scheduleProbe(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = window.setTimeout(() => {
      if (this.#final || this.transport !== 'hls') return;
      this.#probing = true;
      this.#o.video.volume = 0;
      this.#whep.start();
    }, PROBE_EVERY_MS);
  }

  #backToWebrtc(): void {
    clearTimeout(this.#probeTimer);
    this.#probing = false;
    this.#hls.stop();
    this.#o.video.volume = 1;
    this.transport = 'webrtc';
    this.#emit(this.#whep.view);
    this.#o.onTransport?.('webrtc');
  }
}
