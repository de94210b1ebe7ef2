/**
 * The states, view and numbers of the WHEP player (whep-player.ts) and of the HLS fallback
 * (hls-fallback.ts), for the pages that draw them.
 */

/** The player's state (also `window.airclass.state` on the watch page). */
export type PlayerState = 'connecting' | 'live' | 'reconnecting' | 'waiting' | 'ended' | 'refused';

/**
 * Why the player is in its state: `noPublisher` (nobody on air yet), `paused` (the publisher
 * dropped after playing), `retry` (an error; `retryInS`), `lessonEnded`, the refusals
 * `noToken` / `unauthorized` / `forbidden` / `removed`; else the state's own name.
 */
export type PlayerReason =
  | 'connecting'
  | 'reconnecting'
  | 'retry'
  | 'noPublisher'
  | 'paused'
  | 'lessonEnded'
  | 'noToken'
  | 'unauthorized'
  | 'forbidden'
  | 'removed'
  | 'live';

/** What a page draws: state, reason, and whether a tap is needed for sound. */
export interface PlayerView {
  state: PlayerState;
  reason: PlayerReason;
  retryInS?: number;
  needsGesture: boolean;
}

/** Live numbers of the session (bitrate in kbit/s over the last poll). */
export interface PlayerStats {
  framesDecoded: number;
  width: number;
  height: number;
  fps: number | null;
  bitrateKbps: number | null;
}

/** What tests and monitoring read (test/helpers/chromium.ts `AirclassMonitor`). */
export interface PlayerMonitor {
  state: PlayerState;
  httpStatus: number | null;
  sessionUrl: string | null;
  postAt: number | null;
  answerAt: number | null;
  connectedAt: number | null;
  firstFrameAt: number | null;
  reconnects: number;
  /** How the picture arrives: WebRTC (WHEP), or live HLS after WebRTC could not connect. */
  transport: 'webrtc' | 'hls';
  framesDecoded(): number;
  videoSize(): { width: number; height: number };
  audioLevel(): number;
}
