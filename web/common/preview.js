// A small live preview of a class for the teacher console and the monitor page: one WHEP
// session (web/watch/whep.js) shown muted in a <video>, retried while the stream is offline
// and replaced when it breaks. The student page has its own, fuller player (watch.js).

/* global performance */
import { deleteWhepSession, openWhepSession, WhepError } from '/web/watch/whep.js';

const OFFLINE_RETRY_MS = 3000;
const STALL_MS = 6000;
const GRACE_MS = 2000;
const MAX_BACKOFF_MS = 15000;

/**
 * @typedef {'connecting' | 'offline' | 'live' | 'error'} PreviewState
 */

/**
 * Plays `endpoint` (e.g. /live/<classId>/whep) in `video`, muted.
 * @param {HTMLVideoElement} video
 * @param {{ endpoint: string, token: (fresh: boolean) => Promise<string>, onState?: (s: PreviewState) => void }} o
 *   `token(fresh)`: a media token with read on the path; `fresh` after a 401/403
 * @returns {{ kick(): void, close(): void, state(): PreviewState, frames(): number }}
 */
export function createPreview(video, o) {
  let state = /** @type {PreviewState} */ ('connecting');
  let session = null;
  let timer = null;
  let pollTimer = null;
  let attempt = 0;
  let closed = false;
  let fresh = false;
  let frames = 0;
  let busy = false;

  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;

  const set = (s) => {
    if (s === state) return;
    state = s;
    o.onState?.(s);
  };

  function retry(ms) {
    clearTimeout(timer);
    if (!closed) timer = setTimeout(connect, ms);
  }

  async function connect() {
    clearTimeout(timer);
    if (closed || busy) return;
    busy = true;
    try {
      drop();
      const token = await o.token(fresh);
      fresh = false;
      const opened = await openWhepSession({ endpoint: o.endpoint, token });
      if (closed) {
        opened.pc.close();
        deleteWhepSession(opened.sessionUrl, token);
        return;
      }
      session = { ...opened, token, frames: 0, progressAt: performance.now(), grace: null };
      video.srcObject = opened.stream;
      video.play().catch(() => {});
      const s = session;
      s.pc.addEventListener('connectionstatechange', () => {
        if (s !== session) return;
        const cs = s.pc.connectionState;
        if (cs === 'connected') clearTimeout(s.grace);
        else if (cs === 'failed' || cs === 'closed') broken();
        else if (cs === 'disconnected') s.grace = setTimeout(() => s === session && broken(), GRACE_MS);
      });
    } catch (e) {
      const status = e instanceof WhepError ? e.status : 0;
      if (status === 404 || status === 409) {
        attempt = 0;
        set('offline');
        retry(e.retryAfter ? Math.max(1000, Math.min(30, e.retryAfter) * 1000) : OFFLINE_RETRY_MS);
      } else {
        if (status === 401 || status === 403) fresh = true;
        attempt += 1;
        set('error');
        retry(Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt));
      }
    } finally {
      busy = false;
    }
  }

  function broken() {
    drop();
    set('connecting');
    attempt += 1;
    retry(attempt <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt));
  }

  function drop() {
    const s = session;
    if (!s) return;
    session = null;
    clearTimeout(s.grace);
    s.pc.close();
    deleteWhepSession(s.sessionUrl, s.token);
    video.srcObject = null;
  }

  async function poll() {
    const s = session;
    if (!s) return;
    let decoded = s.frames;
    try {
      for (const r of (await s.pc.getStats()).values()) {
        if (r.type === 'inbound-rtp' && r.kind === 'video') decoded = r.framesDecoded ?? decoded;
      }
    } catch {
      return;
    }
    if (s !== session) return;
    if (decoded > s.frames) {
      frames += decoded - s.frames;
      s.frames = decoded;
      s.progressAt = performance.now();
      attempt = 0;
      set('live');
    } else if (performance.now() - s.progressAt > STALL_MS) {
      broken();
    }
  }

  pollTimer = setInterval(poll, 500);
  connect();

  return {
    /** The stream just went live: try now instead of waiting out the retry. */
    kick() {
      if (state !== 'live') connect();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(pollTimer);
      drop();
    },
    state: () => state,
    frames: () => frames,
  };
}
