/**
 * Puts a recording's HLS playlist into a `<video>`: hls.js where Media Source Extensions exist
 * (Chromium, Firefox, Edge), else the browser's own HLS (Safari, iOS). Reports when the video
 * can be played and why it cannot: `gone` when the server no longer has the recording (404 or
 * 410 on the playlist or a segment: deleted, or removed by the retention job), `failed` else.
 */
import Hls, { type ErrorData } from 'hls.js';

/** Why a recording cannot be played. */
export type PlayerFailure = 'gone' | 'failed';

/** What {@link attachRecording} reports. */
export interface PlayerEvents {
  /** The playlist is read: duration known, seeking works. */
  onReady(): void;
  /** Playback cannot go on. */
  onFail(why: PlayerFailure): void;
}

/** HTTP statuses that mean the recording is not there any more. */
const GONE = new Set([404, 410]);

/** The HLS MIME type browsers with native HLS say they can play. */
const HLS_MIME = 'application/vnd.apple.mpegurl';

/** Whether this browser can play the recording at all (hls.js or native HLS). */
export function canPlayHls(video: HTMLVideoElement): boolean {
  return Hls.isSupported() || video.canPlayType(HLS_MIME) !== '';
}

/**
 * Starts loading `playlistUrl` into `video`; returns a function that stops and releases it.
 * A fatal media error is recovered once before giving up; a fatal network error is final.
 */
export function attachRecording(video: HTMLVideoElement, playlistUrl: string, ev: PlayerEvents): () => void {
  if (Hls.isSupported()) {
    const hls = new Hls({ enableWorker: true, startPosition: 0 });
    let recovered = false;
    let done = false;
    hls.on(Hls.Events.MANIFEST_PARSED, () => ev.onReady());
    hls.on(Hls.Events.ERROR, (_event, data: ErrorData) => {
      if (!data.fatal || done) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
        recovered = true;
        hls.recoverMediaError();
        return;
      }
      done = true;
      const code = data.response?.code ?? 0;
      ev.onFail(data.type === Hls.ErrorTypes.NETWORK_ERROR && GONE.has(code) ? 'gone' : 'failed');
      hls.destroy();
    });
    hls.loadSource(playlistUrl);
    hls.attachMedia(video);
    return () => {
      done = true;
      hls.destroy();
    };
  }
  if (video.canPlayType(HLS_MIME)) {
    const ready = () => ev.onReady();
    const fail = () => ev.onFail('failed');
    video.addEventListener('loadedmetadata', ready);
    video.addEventListener('error', fail);
    video.src = playlistUrl;
    return () => {
      video.removeEventListener('loadedmetadata', ready);
      video.removeEventListener('error', fail);
      video.removeAttribute('src');
      video.load();
    };
  }
  queueMicrotask(() => ev.onFail('failed'));
  return () => {};
}

/**
 * Starts playing (asked for with `?autoplay=1`): with sound when the browser allows it, else
 * muted (browsers block autoplay with sound until the user has interacted with the site).
 */
export async function autoplay(video: HTMLVideoElement): Promise<void> {
  try {
    await video.play();
  } catch {
    video.muted = true;
    await video.play().catch(() => {});
  }
}
