// The class channel from the browser: one WebSocket to `/ws` that reconnects on its own with
// backoff and `since=<last seq>`, so a dropped connection misses nothing (the server replays
// chat from the database and recent class events). Messages are those of
// src/control/ws/messages.ts.

/* global WebSocket */

const PING_EVERY_MS = 20_000; // application ping (browsers cannot send WebSocket pings)
const SILENCE_MS = 50_000; // nothing heard this long on an open socket → treat it as dead
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

/**
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ChannelStatus
 * `connecting`: first attempt; `reconnecting`: after a drop (`retryInMs` until the next try).
 */

/**
 * Opens the class channel.
 * @param {{
 *   params: Record<string, string>,
 *   onMessage: (msg: any) => void,
 *   onStatus?: (status: ChannelStatus, info: { retryInMs: number, attempt: number, code: number | null }) => void,
 * }} opts `params`: `{ token }` (students, monitors) or `{ classId }` (teachers: session cookie)
 * @returns {{ send(msg: object): boolean, close(): void, lastSeq(): number, status(): ChannelStatus }}
 */
export function openChannel(opts) {
  let ws = null;
  let status = /** @type {ChannelStatus} */ ('connecting');
  let lastSeq = 0; // highest seq applied; sent as since= (0 at first: the whole chat history)
  let welcomeSeq = null;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastHeard = 0;
  let closed = false;

  const setStatus = (next, info = {}) => {
    status = next;
    opts.onStatus?.(next, { retryInMs: 0, attempt, code: null, ...info });
  };

  function url() {
    const u = new URL('/ws', location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const [k, v] of Object.entries(opts.params)) u.searchParams.set(k, v);
    u.searchParams.set('since', String(lastSeq));
    return u.href;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (closed) return;
    setStatus(attempt === 0 && welcomeSeq === null ? 'connecting' : 'reconnecting');
    const sock = new WebSocket(url());
    ws = sock;
    let welcomed = false;
    sock.addEventListener('open', () => {
      lastHeard = Date.now();
      clearInterval(pingTimer);
      pingTimer = setInterval(() => keepAlive(sock), PING_EVERY_MS);
    });
    sock.addEventListener('message', (ev) => {
      if (sock !== ws) return;
      lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (!msg || typeof msg.type !== 'string') return;
      if (msg.type === 'welcome') {
        welcomed = true;
        welcomeSeq = msg.seq;
        attempt = 0;
        setStatus('open');
      } else if (msg.type === 'replayed') {
        // Everything up to our own join is now applied (the roster came with `welcome`).
        if (welcomed && typeof welcomeSeq === 'number') lastSeq = Math.max(lastSeq, welcomeSeq);
      } else if (typeof msg.seq === 'number') {
        lastSeq = Math.max(lastSeq, msg.seq);
      }
      opts.onMessage(msg);
    });
    sock.addEventListener('close', (ev) => {
      if (sock !== ws) return;
      drop(sock, ev.code);
    });
  }

  /** Forgets a socket (closing it) and schedules the next attempt. */
  function drop(sock, code = null) {
    if (sock !== ws) return;
    ws = null;
    clearInterval(pingTimer);
    try {
      sock.close();
    } catch {
      // already closed
    }
    if (closed) return;
    attempt += 1;
    // 1008: the server thinks we misbehaved; wait longer before trying again.
    const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1)) * (code === 1008 ? 4 : 1);
    const delay = Math.round(Math.min(60_000, base) * (0.75 + Math.random() * 0.5));
    setStatus('reconnecting', { retryInMs: delay, code });
    retryTimer = setTimeout(connect, attempt === 1 ? Math.min(delay, 300) : delay);
  }

  function keepAlive(sock) {
    if (sock !== ws) return;
    if (Date.now() - lastHeard > SILENCE_MS) {
      drop(sock);
      return;
    }
    if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify({ type: 'ping' }));
  }

  /** Back on the network or back in the tab: do not wait out the backoff. */
  const retryNow = () => {
    if (!closed && !ws && status === 'reconnecting') connect();
  };
  const onVisible = () => document.visibilityState === 'visible' && retryNow();
  window.addEventListener('online', retryNow);
  document.addEventListener('visibilitychange', onVisible);

  connect();

  return {
    send(msg) {
      if (!ws || ws.readyState !== WebSocket.OPEN || status !== 'open') return false;
      ws.send(JSON.stringify(msg));
      return true;
    },
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      window.removeEventListener('online', retryNow);
      document.removeEventListener('visibilitychange', onVisible);
      const sock = ws;
      ws = null;
      sock?.close(1000);
      setStatus('closed');
    },
    lastSeq: () => lastSeq,
    status: () => status,
  };
}
