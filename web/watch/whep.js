// WHEP client (draft-ietf-wish-whep): one receive-only WebRTC session per call.
// Plain ES module; no trickle ICE (we wait for gathering, then POST one complete offer).

/* global performance, AbortController */

/** How long to wait for ICE gathering before sending the offer anyway (ms). */
export const GATHER_TIMEOUT_MS = 1000;

/** How long the optional OPTIONS request (for ice-server Link headers) may take (ms). */
const OPTIONS_TIMEOUT_MS = 300;

/**
 * A failed WHEP request. `status` is the HTTP status (0 for a network error) and
 * `retryAfter` the server's Retry-After in seconds, when it sent one.
 */
export class WhepError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {number | null} retryAfter
   */
  constructor(message, status, retryAfter) {
    super(message);
    this.name = 'WhepError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/**
 * Reads every `Link: <url>; rel="ice-server"` entry (with optional username / credential)
 * into RTCIceServer objects. Other links are ignored.
 * @param {string | null} header the raw Link header (entries separated by commas)
 * @returns {RTCIceServer[]}
 */
export function parseIceServers(header) {
  if (!header) return [];
  const servers = [];
  for (const entry of header.split(/,(?=\s*<)/)) {
    const url = /<([^>]+)>/.exec(entry)?.[1];
    const params = {};
    for (const m of entry.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))/g)) {
      params[m[1].toLowerCase()] = m[2] ?? m[3];
    }
    if (!url || params.rel !== 'ice-server') continue;
    const server = { urls: url };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

/**
 * Retry-After as seconds (a number of seconds or an HTTP date), or null when absent/bad.
 * @param {string | null} header
 * @returns {number | null}
 */
export function parseRetryAfter(header) {
  if (!header) return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.round((at - Date.now()) / 1000));
}

/** Resolves when ICE gathering is complete or after `ms`, whichever comes first. */
function gatheringDone(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, ms);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Asks the endpoint (OPTIONS) for ice-server links; [] on any failure or after a short timeout. */
async function fetchIceServers(endpoint, headers) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), OPTIONS_TIMEOUT_MS);
  try {
    const res = await fetch(endpoint, { method: 'OPTIONS', headers, signal: ctl.signal });
    return res.ok ? parseIceServers(res.headers.get('Link')) : [];
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens one WHEP session: a recvonly video + audio RTCPeerConnection whose offer is POSTed
 * to `endpoint`. The returned `stream` holds the receivers' tracks at once (before any media
 * flows), so a page can attach it immediately. Throws WhepError on any non-201 answer.
 * @param {{ endpoint: string, token: string, iceServers?: RTCIceServer[] | null }} opts
 *   `iceServers`: known servers (from an earlier session); null → ask with OPTIONS first.
 * @returns {Promise<{ pc: RTCPeerConnection, stream: MediaStream, sessionUrl: string | null,
 *   postAt: number, answerAt: number, iceServers: RTCIceServer[] }>}
 */
export async function openWhepSession({ endpoint, token, iceServers = null }) {
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  const pendingIce = iceServers ? Promise.resolve(iceServers) : fetchIceServers(endpoint, auth);
  const pc = new RTCPeerConnection({ iceServers: [] });
  let sessionUrl = null;
  try {
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    const audio = pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream([video.receiver.track, audio.receiver.track]);
    const offer = await pc.createOffer();
    const servers = await pendingIce;
    if (servers.length > 0) pc.setConfiguration({ iceServers: servers });
    await pc.setLocalDescription(offer);
    await gatheringDone(pc, GATHER_TIMEOUT_MS);

    const postAt = performance.now();
    let res;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
        body: pc.localDescription?.sdp ?? offer.sdp,
      });
    } catch (e) {
      throw new WhepError(`network error: ${e instanceof Error ? e.message : e}`, 0, null);
    }
    if (res.status !== 201) {
      const text = await res.text().catch(() => '');
      throw new WhepError(
        text || res.statusText,
        res.status,
        parseRetryAfter(res.headers.get('Retry-After')),
      );
    }
    const answer = await res.text();
    const answerAt = performance.now();
    const location = res.headers.get('Location');
    sessionUrl = location ? new URL(location, new URL(endpoint, document.baseURI)).href : null;
    const linked = parseIceServers(res.headers.get('Link'));
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return { pc, stream, sessionUrl, postAt, answerAt, iceServers: linked.length > 0 ? linked : servers };
  } catch (e) {
    pc.close();
    deleteWhepSession(sessionUrl, token);
    throw e;
  }
}

/**
 * Ends a WHEP session on the server (DELETE its URL). Uses `keepalive` so it also works
 * from `pagehide`. Never throws.
 * @param {string | null} sessionUrl
 * @param {string} token
 */
export function deleteWhepSession(sessionUrl, token) {
  if (!sessionUrl) return;
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  fetch(sessionUrl, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
}
