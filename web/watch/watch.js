// Student watch page: plays /<path>/whep over WebRTC, reconnects on its own, and exposes
// `window.airclass` for tests and monitoring. Loaded by /watch/<path>?jwt=TOKEN[&lang=ko|en].

/* global performance, history, DOMException */
import { applyTranslations, createTranslator, pickLanguage } from '/web/i18n.js';
import { deleteWhepSession, openWhepSession, WhepError } from '/web/watch/whep.js';

const DISCONNECT_GRACE_MS = 2000; // 'disconnected'/'failed' this long → new session
const CONNECT_TIMEOUT_MS = 10000; // 201 received but ICE/DTLS never connects → new session
// Connected but no new frame: after PAUSE_MS the page says the teacher's stream paused and keeps
// the session (the server holds viewers 30 s for a publisher that drops and returns); only
// after STALL_MS, past that grace, does it start a new session.
const PAUSE_MS = 3000;
const STALL_MS = 35000;
const STATS_INTERVAL_MS = 500;
const DEFAULT_RETRY_S = 2; // 409 without Retry-After
const MAX_BACKOFF_MS = 10000;

const params = new URLSearchParams(location.search);
const rawPath = location.pathname.replace(/^\/watch\//, '').replace(/\/+$/, '');
const token = params.get('jwt') ?? '';
const endpoint = `/${rawPath}/whep`;
let lang = pickLanguage(location.search, navigator.languages ?? [navigator.language]);
let t = createTranslator(lang);

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const video = /** @type {HTMLVideoElement} */ ($('video'));
const unmuteButton = $('unmute');

let session = null; // { pc, stream, sessionUrl, frames, lastProgressAt, connected, timers }
let generation = 0; // bumps on every connect(); stale async results compare against it
let framesBase = 0; // frames decoded by sessions already closed
let everLive = false;
let attempt = 0; // consecutive failures, for backoff
let retryTimer = null;
let stopped = false;
let knownIceServers = null;
let needsGesture = false;
let view = { state: 'connecting', detail: 'detail.connecting', vars: {} };
const audio = { ctx: null, analyser: null, source: null, buf: null };

/** What tests and monitoring read: see DESIGN §8. Times are performance.now() values. */
const monitor = {
  state: 'connecting',
  httpStatus: null,
  sessionUrl: null,
  connectedAt: null,
  postAt: null,
  answerAt: null,
  firstFrameAt: null,
  reconnects: 0,
  framesDecoded: () => framesBase + (session?.frames ?? 0),
  videoSize: () => ({ width: video.videoWidth, height: video.videoHeight }),
  audioLevel,
};
window.airclass = monitor;

function setState(state, detail = `detail.${state}`, vars = {}) {
  monitor.state = state;
  view = { state, detail, vars };
  render();
}

function render() {
  const { state, detail, vars } = view;
  const title = t(`state.${state}`);
  $('status').dataset.state = state;
  $('status-text').textContent = title;
  $('stage').dataset.state = state;
  $('overlay').hidden = state === 'live';
  $('overlay-title').textContent = title;
  $('overlay-detail').textContent = detail ? t(detail, vars) : '';
  $('lang').textContent = t('lang.switch');
  document.title = `${title} · ${decodeURIComponent(rawPath)} · AirClass`;
}

function markLive() {
  everLive = true;
  attempt = 0;
  if (monitor.state !== 'live') setState('live', '');
}

/** Starts a new WHEP session (the previous one must already be dropped). */
async function connect() {
  clearTimeout(retryTimer);
  if (stopped) return;
  const gen = ++generation;
  if (!['waiting', 'ended'].includes(monitor.state)) setState(everLive ? 'reconnecting' : 'connecting');
  let opened;
  try {
    opened = await openWhepSession({ endpoint, token, iceServers: knownIceServers });
  } catch (e) {
    if (gen === generation && !stopped) onConnectError(e);
    return;
  }
  if (gen !== generation || stopped) {
    opened.pc.close();
    deleteWhepSession(opened.sessionUrl, token);
    return;
  }
  knownIceServers = opened.iceServers;
  const s = { ...opened, gen, frames: 0, lastProgressAt: performance.now(), connected: false, timers: {} };
  session = s;
  Object.assign(monitor, {
    httpStatus: 201,
    sessionUrl: s.sessionUrl,
    postAt: s.postAt,
    answerAt: s.answerAt,
  });
  Object.assign(monitor, { connectedAt: null, firstFrameAt: null });
  if (!video.srcObject) attach(s);
  s.timers.connect = setTimeout(() => s.connected || reconnect(s), CONNECT_TIMEOUT_MS);
  s.pc.addEventListener('connectionstatechange', () => onConnectionState(s));
}

function onConnectionState(s) {
  if (s !== session) return;
  const state = s.pc.connectionState;
  if (state === 'connected') {
    clearTimeout(s.timers.grace);
    s.timers.grace = null;
    s.lastProgressAt = performance.now();
    if (!s.connected) monitor.connectedAt = s.lastProgressAt;
    s.connected = true;
    if (video.srcObject !== s.stream) attach(s);
  } else if (state === 'disconnected' || state === 'failed') {
    s.timers.grace ??= setTimeout(() => reconnect(s), DISCONNECT_GRACE_MS);
  } else if (state === 'closed') {
    reconnect(s);
  }
}

function onConnectError(e) {
  const status = e instanceof WhepError ? e.status : 0;
  const retryAfter = e instanceof WhepError ? e.retryAfter : null;
  monitor.httpStatus = status || null;
  if (!(e instanceof WhepError)) console.warn('airclass: WHEP session failed', e);
  if (status === 401 || status === 403) {
    setState(
      'refused',
      !token ? 'detail.noToken' : status === 401 ? 'detail.unauthorized' : 'detail.forbidden',
    );
    return; // a new token is needed: retrying cannot help
  }
  if (status === 409 || status === 404) {
    setState(everLive ? 'ended' : 'waiting');
    return scheduleRetry(Math.min(30, retryAfter ?? DEFAULT_RETRY_S) * 1000);
  }
  attempt += 1;
  const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
  const delay = retryAfter !== null ? Math.min(30, retryAfter) * 1000 : backoff;
  setState(everLive ? 'reconnecting' : 'connecting', 'detail.retry', { s: Math.ceil(delay / 1000) });
  scheduleRetry(delay);
}

function scheduleRetry(ms) {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, Math.max(250, ms));
}

/** Closes a session here and on the server (DELETE), keeping its frame count. */
function drop(s) {
  for (const timer of Object.values(s.timers)) clearTimeout(timer);
  framesBase += s.frames;
  s.frames = 0;
  s.pc.close();
  deleteWhepSession(s.sessionUrl, token);
  if (session === s) session = null;
}

/** Replaces a broken session: first retry at once, later ones with backoff. */
function reconnect(s) {
  if (s !== session || stopped) return;
  drop(s);
  monitor.reconnects += 1;
  attempt += 1;
  setState('reconnecting');
  if (attempt <= 1) connect();
  else scheduleRetry(Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt));
}

/** Shows a session's stream in the video element, with sound if the browser allows it. */
function attach(s) {
  video.srcObject = s.stream;
  watchFrames(s);
  attachAudio(s.stream);
  startPlayback();
}

function watchFrames(s) {
  if (!('requestVideoFrameCallback' in video)) return;
  const onFrame = () => {
    if (s !== session || video.srcObject !== s.stream) return;
    if (monitor.firstFrameAt === null) monitor.firstFrameAt = performance.now();
    markLive();
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

async function startPlayback() {
  video.muted = needsGesture;
  try {
    await video.play();
    if (!video.muted) audio.ctx?.resume().catch(() => {});
  } catch (e) {
    if (!(e instanceof DOMException) || e.name !== 'NotAllowedError') return; // e.g. AbortError: newer source
    needsGesture = true;
    video.muted = true;
    unmuteButton.hidden = false;
    video.play().catch(() => {});
  }
}

function unmute() {
  needsGesture = false;
  unmuteButton.hidden = true;
  video.muted = false;
  video.play().catch(() => {});
  audio.ctx?.resume().catch(() => {});
}

function attachAudio(stream) {
  const track = stream.getAudioTracks()[0];
  if (!track) return;
  try {
    audio.ctx ??= new AudioContext();
    if (!audio.analyser) {
      audio.analyser = audio.ctx.createAnalyser();
      audio.analyser.fftSize = 2048;
      audio.buf = new Float32Array(audio.analyser.fftSize);
    }
    audio.source?.disconnect();
    audio.source = audio.ctx.createMediaStreamSource(new MediaStream([track]));
    audio.source.connect(audio.analyser);
  } catch (e) {
    console.warn('airclass: Web Audio unavailable, audioLevel() stays 0', e);
  }
}

/** RMS of the remote audio's latest time-domain window, 0..1 (0 without audio). */
function audioLevel() {
  if (!audio.analyser || !audio.buf) return 0;
  audio.analyser.getFloatTimeDomainData(audio.buf);
  let sum = 0;
  for (const v of audio.buf) sum += v * v;
  return Math.min(1, Math.sqrt(sum / audio.buf.length));
}

/** Reads framesDecoded; marks live on progress, replaces the session when it stalls. */
async function pollStats() {
  const s = session;
  if (!s || stopped) return;
  let frames = s.frames;
  try {
    for (const r of (await s.pc.getStats()).values()) {
      if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded ?? frames;
    }
  } catch {
    return; // closed meanwhile
  }
  if (s !== session) return;
  const now = performance.now();
  if (frames > s.frames) {
    s.frames = frames;
    s.lastProgressAt = now;
    if (video.srcObject === s.stream) markLive();
  } else if (s.connected && now - s.lastProgressAt > STALL_MS) {
    reconnect(s);
  } else if (s.connected && everLive && now - s.lastProgressAt > PAUSE_MS && monitor.state === 'live') {
    setState('waiting', 'detail.paused');
  }
}

function leave() {
  stopped = true;
  clearTimeout(retryTimer);
  if (session) drop(session);
}

function switchLanguage() {
  lang = lang === 'ko' ? 'en' : 'ko';
  t = createTranslator(lang);
  const url = new URL(location.href);
  url.searchParams.set('lang', lang);
  history.replaceState(null, '', url);
  applyTranslations(document, lang);
  render();
}

applyTranslations(document, lang);
$('path').textContent = decodeURIComponent(rawPath);
unmuteButton.addEventListener('click', unmute);
$('lang').addEventListener('click', switchLanguage);
window.addEventListener('pagehide', leave);
window.addEventListener('pageshow', (e) => {
  if (!e.persisted) return;
  stopped = false;
  connect();
});
setInterval(pollStats, STATS_INTERVAL_MS);
render();
connect();
