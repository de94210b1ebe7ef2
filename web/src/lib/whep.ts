/**
 * WHEP client (draft-ietf-wish-whep): one receive-only WebRTC session per call. No trickle
 * ICE: we wait for gathering, then POST one complete offer. The session logic (retries,
 * stalls, states) is in whep-player.ts.
 */
import { parseRetryAfter } from './api.ts';

/** How long to wait for ICE gathering before sending the offer anyway (ms). */
export const GATHER_TIMEOUT_MS = 1000;
/**
 * How long the OPTIONS request (for ice-server Link headers) may take (ms). It brings a viewer's
 * TURN credentials before the first offer, the only way out of a network that blocks UDP.
 */
const OPTIONS_TIMEOUT_MS = 1000;

/**
 * A failed WHEP request: `status` (0 for a network error), the catalogue `code` from a JSON
 * error body when there was one (e.g. LESSON_ENDED, REMOVED) and Retry-After in seconds.
 */
export class WhepError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly retryAfter: number | undefined;
  constructor(message: string, status: number, retryAfter?: number, code?: string) {
    super(message);
    this.name = 'WhepError';
    this.status = status;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

/**
 * Reads every `Link: <url>; rel="ice-server"` entry (with optional username / credential)
 * into RTCIceServer objects. Other links are ignored.
 */
export function parseIceServers(header: string | null): RTCIceServer[] {
  if (!header) return [];
  const servers: RTCIceServer[] = [];
  for (const entry of header.split(/,(?=\s*<)/)) {
    const url = /<([^>]+)>/.exec(entry)?.[1];
    const params: Record<string, string> = {};
    for (const m of entry.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))/g)) {
      params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
    }
    if (!url || params.rel !== 'ice-server') continue;
    const server: RTCIceServer = { urls: url };
    if (params.username !== undefined) server.username = params.username;
    if (params.credential !== undefined) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

/** Resolves when ICE gathering is complete or after `ms`, whichever comes first. */
function gatheringDone(pc: RTCPeerConnection, ms: number): Promise<void> {
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
async function fetchIceServers(endpoint: string, headers: Record<string, string>): Promise<RTCIceServer[]> {
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

/** The catalogue code of an error body (`{ error: { code } }`), if it is one. */
function errorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** An open WHEP session. Times are performance.now() values. */
export interface WhepSession {
  pc: RTCPeerConnection;
  stream: MediaStream;
  sessionUrl: string | null;
  postAt: number;
  answerAt: number;
  iceServers: RTCIceServer[];
}

/**
 * Opens one WHEP session: a recvonly video + audio RTCPeerConnection whose offer is POSTed to
 * `endpoint`. `stream` holds the receivers' tracks at once (before media flows), so a page can
 * attach it immediately. `iceServers`: known servers (from an earlier session); null → ask with
 * OPTIONS first. Throws {@link WhepError} on any non-201 answer.
 */
export async function openWhepSession(opts: {
  endpoint: string;
  token: string;
  iceServers?: RTCIceServer[] | null;
}): Promise<WhepSession> {
  const auth: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const pendingIce = opts.iceServers
    ? Promise.resolve(opts.iceServers)
    : fetchIceServers(opts.endpoint, auth);
  const pc = new RTCPeerConnection({ iceServers: [] });
  let sessionUrl: string | null = null;
  try {
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    const audio = pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream([video.receiver.track, audio.receiver.track]);
    const offer = await pc.createOffer();
    const servers = await pendingIce;
    // Keep the rest of the configuration (setConfiguration resets what it is not given).
    if (servers.length > 0) pc.setConfiguration({ ...pc.getConfiguration(), iceServers: servers });
    await pc.setLocalDescription(offer);
    await gatheringDone(pc, GATHER_TIMEOUT_MS);

    const postAt = performance.now();
    let res: Response;
    try {
      res = await fetch(opts.endpoint, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
        body: pc.localDescription?.sdp ?? offer.sdp ?? '',
      });
    } catch (e) {
      throw new WhepError(`network error: ${e instanceof Error ? e.message : String(e)}`, 0);
    }
    if (res.status !== 201) {
      const text = await res.text().catch(() => '');
      throw new WhepError(
        text || res.statusText,
        res.status,
        parseRetryAfter(res.headers.get('Retry-After')),
        errorCode(text),
      );
    }
    const answer = await res.text();
    const answerAt = performance.now();
    const location = res.headers.get('Location');
    sessionUrl = location ? new URL(location, new URL(opts.endpoint, document.baseURI)).href : null;
    const linked = parseIceServers(res.headers.get('Link'));
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    return { pc, stream, sessionUrl, postAt, answerAt, iceServers: linked.length > 0 ? linked : servers };
  } catch (e) {
    pc.close();
    deleteWhepSession(sessionUrl, opts.token);
    throw e;
  }
}

/**
 * Ends a WHEP session on the server (DELETE its URL). Uses `keepalive` so it also works from
 * `pagehide`. Never throws.
 */
export function deleteWhepSession(sessionUrl: string | null, token: string): void {
  if (!sessionUrl) return;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  fetch(sessionUrl, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
}
