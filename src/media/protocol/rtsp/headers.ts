/**
 * The values of RTSP headers and URIs that a server or client acts on: Transport (RFC 2326
 * §12.39), Session (§12.37), the credential of a request, and the stream path and media
 * control in a request URI. Re-exported by message.ts.
 */
import { AirError } from '../../../shared/errors.ts';
import type { RtspRequest } from './message.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function protocolError(what: string): never {
  throw new AirError('RTSP_PROTOCOL', `RTSP: ${what}`);
}

/** One alternative of a Transport header (RFC 2326 §12.39), the parameters AirClass uses. */
export interface TransportSpec {
  /** `RTP/AVP` is RTP over UDP (`RTP/AVP/UDP` is read as the same). */
  protocol: 'RTP/AVP' | 'RTP/AVP/TCP';
  unicast: boolean;
  /** Interleaved channels (RTP, RTCP); a single `interleaved=n` reads as [n, n + 1]. */
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  ssrc?: number;
  /** As written, unquoted (`record`, `PLAY`…): compare case-insensitively. */
  mode?: string;
}

function range(value: string, max: number, what: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(value);
  if (!m) protocolError(`bad ${what} ${JSON.stringify(value)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) protocolError(`${what} ${value} out of range`);
  return [a, b];
}

/**
 * Parses a Transport header: comma-separated alternatives in the client's order of preference.
 * Well-formed alternatives of another profile (RTP/SAVP, RAW/RAW/UDP…) are left out, so the
 * result may be empty (answer 461). Unknown parameters are ignored; without `multicast` an
 * alternative reads as unicast (RFC 2326 says multicast, but no client means that). Throws
 * RTSP_PROTOCOL on anything that is not a transport specification.
 */
export function parseTransport(value: string): TransportSpec[] {
  const out: TransportSpec[] = [];
  for (const alt of value.split(',')) {
    const params = alt.split(';').map((p) => p.trim());
    const proto = params[0]!.toUpperCase();
    if (!/^[A-Z0-9]+\/[A-Z0-9]+(\/[A-Z0-9]+)?$/.test(proto)) {
      protocolError(`bad transport ${JSON.stringify(alt.trim().slice(0, 80))}`);
    }
    const spec: TransportSpec = {
      protocol: proto === 'RTP/AVP/TCP' ? 'RTP/AVP/TCP' : 'RTP/AVP',
      unicast: true,
    };
    for (const p of params.slice(1)) {
      if (p === '') continue;
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
      const v = eq < 0 ? '' : p.slice(eq + 1).trim();
      if (!TOKEN.test(key)) protocolError(`bad transport parameter ${JSON.stringify(p.slice(0, 40))}`);
      if (key === 'unicast') spec.unicast = true;
      else if (key === 'multicast') spec.unicast = false;
      else if (key === 'interleaved') spec.interleaved = range(v, 255, 'interleaved channels');
      else if (key === 'client_port') spec.clientPort = range(v, 65535, 'client_port');
      else if (key === 'server_port') spec.serverPort = range(v, 65535, 'server_port');
      else if (key === 'ssrc') {
        if (!/^[0-9A-Fa-f]{1,8}$/.test(v)) protocolError(`bad ssrc ${JSON.stringify(v.slice(0, 20))}`);
        spec.ssrc = parseInt(v, 16);
      } else if (key === 'mode') {
        const mode = v.replace(/^"(.*)"$/, '$1');
        if (!/^[A-Za-z_, -]+$/.test(mode)) protocolError(`bad mode ${JSON.stringify(v.slice(0, 20))}`);
        spec.mode = mode;
      }
    }
    if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP' || proto === 'RTP/AVP/TCP') out.push(spec);
  }
  return out;
}

/** Writes one transport specification, e.g. `RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=1A2B3C4D`. */
export function formatTransport(t: TransportSpec): string {
  const parts: string[] = [t.protocol, t.unicast ? 'unicast' : 'multicast'];
  if (t.clientPort) parts.push(`client_port=${t.clientPort[0]}-${t.clientPort[1]}`);
  if (t.serverPort) parts.push(`server_port=${t.serverPort[0]}-${t.serverPort[1]}`);
  if (t.interleaved) parts.push(`interleaved=${t.interleaved[0]}-${t.interleaved[1]}`);
  if (t.ssrc !== undefined) parts.push(`ssrc=${(t.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (t.mode !== undefined) parts.push(`mode=${t.mode}`);
  return parts.join(';');
}

/** Parses a Session header (RFC 2326 §12.37): `id[;timeout=seconds]`. Throws RTSP_PROTOCOL. */
export function parseSessionHeader(v: string): { id: string; timeout?: number } {
  const [id, ...params] = v.split(';').map((p) => p.trim());
  if (!id || !/^[A-Za-z0-9$\-_.+]{1,128}$/.test(id))
    protocolError(`bad session ${JSON.stringify(v.slice(0, 40))}`);
  const out: { id: string; timeout?: number } = { id };
  for (const p of params) {
    const m = /^timeout\s*=\s*(\d{1,9})$/i.exec(p);
    if (m) out.timeout = Number(m[1]);
    else if (/^timeout/i.test(p)) protocolError(`bad session timeout ${JSON.stringify(p.slice(0, 40))}`);
  }
  return out;
}

const SEGMENT = /^[A-Za-z0-9._~-]{1,128}$/;

/**
 * Splits an RTSP URI into path segments, query and control. ffmpeg appends a relative control
 * to the request URL as text, so with a query it sends `rtsp://h/live/x?token=t/trackID=0`:
 * a `/…` after the query is read as the control.
 */
function splitUri(uri: string): { segments: string[]; query: string; tail: string | undefined } {
  let rest = uri;
  const scheme = /^rtsps?:\/\/[^/?]*/i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const q = rest.indexOf('?');
  let path = q < 0 ? rest : rest.slice(0, q);
  let query = q < 0 ? '' : rest.slice(q + 1);
  let tail: string | undefined;
  const slash = query.indexOf('/');
  if (slash >= 0) {
    tail = query.slice(slash + 1);
    query = query.slice(0, slash);
  }
  path = path.replace(/^\/+/, '');
  const segments = path === '' ? [] : path.split('/');
  return { segments, query, tail };
}

/**
 * The stream path of an RTSP URI: its first two path segments, e.g.
 * `rtsp://host:554/live/abc/trackID=0?token=x` → `live/abc`. Undefined when there are fewer
 * than two or one does not match /^[A-Za-z0-9._~-]{1,128}$/.
 */
export function pathOfUri(uri: string): string | undefined {
  const [a, b] = splitUri(uri).segments;
  if (a === undefined || b === undefined || !SEGMENT.test(a) || !SEGMENT.test(b)) return undefined;
  return `${a}/${b}`;
}

/**
 * The media control of an RTSP URI: what follows the stream path (`trackID=0`), also when
 * ffmpeg put it after the query (`…/live/abc?token=x/trackID=0`). Undefined for the aggregate.
 */
export function controlOfUri(uri: string): string | undefined {
  const { segments, tail } = splitUri(uri);
  const rest = segments.slice(2).filter((s) => s !== '');
  if (rest.length > 0) return rest.join('/');
  return tail === undefined || tail === '' ? undefined : tail;
}

function decodeBase64(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64').toString('utf8');
}

/**
 * The credential a request carries: `?token=` (or `?jwt=`) in the URI query, else
 * `Authorization: Bearer <t>`, else `Authorization: Basic base64(user:pass)` → the password
 * (the user when the password is empty). Undefined when there is none.
 */
export function requestCredentials(req: RtspRequest): string | undefined {
  const params = new URLSearchParams(splitUri(req.uri).query);
  const fromQuery = params.get('token') || params.get('jwt');
  if (fromQuery) return fromQuery;
  const auth = req.headers.get('authorization');
  if (!auth) return undefined;
  const m = /^(\w+)\s+(\S+)$/.exec(auth.trim());
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme !== 'basic') return undefined;
  const decoded = decodeBase64(m[2]!);
  if (decoded === undefined) return undefined;
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const pass = colon < 0 ? '' : decoded.slice(colon + 1);
  return pass || user || undefined;
}
