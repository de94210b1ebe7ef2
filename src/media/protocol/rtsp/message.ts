/**
 * RTSP/1.0 messages (RFC 2326 §4, §6, §7) and TCP-interleaved binary data (§10.12), as they
 * share one TCP stream.
 *
 * ```
 * Request-Line  = Method SP Request-URI SP RTSP-Version CRLF     e.g. "SETUP rtsp://h/live/x/trackID=0 RTSP/1.0"
 * Status-Line   = RTSP-Version SP Status-Code SP Reason-Phrase CRLF   e.g. "RTSP/1.0 200 OK"
 * message       = start-line *( header CRLF ) CRLF [ body ]     body length = Content-Length
 *
 * interleaved frame (§10.12):
 * +--------+---------+----------------+----------------------------+
 * | '$' 24 | channel | length (16, BE) | RTP or RTCP packet ...     |
 * +--------+---------+----------------+----------------------------+
 * ```
 */
import { AirError } from '../../../shared/errors.ts';

/** Headers keyed by lower-case name; values trimmed; repeated headers joined with ", ". */
export type RtspHeaders = Map<string, string>;

/** A request, as a server receives it. */
export interface RtspRequest {
  method: string;
  uri: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

/** A response, as a client receives it. */
export interface RtspResponse {
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Uint8Array;
}

/** One item of an RTSP TCP stream. */
export type RtspItem =
  | { type: 'request'; request: RtspRequest }
  | { type: 'response'; response: RtspResponse }
  | { type: 'interleaved'; channel: number; data: Uint8Array };

/** Limits of the parser. */
export interface RtspParserOptions {
  /** Largest start line + headers, bytes (default 8192). */
  maxHeaderBytes?: number;
  /** Largest Content-Length accepted (default 65536). */
  maxBodyBytes?: number;
  /** Largest interleaved frame accepted (default 65535, the most the 16-bit length allows). */
  maxInterleavedBytes?: number;
}

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function protocolError(what: string): never {
  throw new AirError('RTSP_PROTOCOL', `RTSP: ${what}`);
}

function tooLarge(what: string): never {
  throw new AirError('RTSP_TOO_LARGE', `RTSP: ${what}`);
}

/**
 * Incremental parser of an RTSP TCP stream: requests (server side), responses (client side) and
 * `$`-interleaved frames, mixed in any order and split at any byte. Empty lines between messages
 * are skipped; line ends may be CRLF or bare LF. Throws AirError RTSP_PROTOCOL on malformed
 * input and RTSP_TOO_LARGE past a limit; after a throw every push rethrows (close the
 * connection). Returned bodies and frames are copies.
 */
export class RtspParser {
  readonly #maxHeader: number;
  readonly #maxBody: number;
  readonly #maxFrame: number;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Bytes of the current header block already scanned for its end (relative to #start). */
  #scanned = 0;
  /** Parsed head of a message whose body is still arriving. */
  #pending: { head: Head; length: number } | undefined;
  #failed: AirError | undefined;

  constructor(opts: RtspParserOptions = {}) {
    this.#maxHeader = opts.maxHeaderBytes ?? 8192;
    this.#maxBody = opts.maxBodyBytes ?? 65536;
    this.#maxFrame = opts.maxInterleavedBytes ?? 65535;
  }

  /** Consumes `chunk`; returns the items it completes, in order. */
  push(chunk: Uint8Array): RtspItem[] {
    if (this.#failed) throw this.#failed;
    try {
      this.#append(chunk);
      return this.#run();
    } catch (e) {
      this.#failed = e instanceof AirError ? e : new AirError('RTSP_PROTOCOL', String(e));
      throw this.#failed;
    }
  }

  #append(chunk: Uint8Array): void {
    const used = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      if (used + chunk.length <= this.#buf.length / 2) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(Math.max(2 * this.#buf.length, used + chunk.length));
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = used;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #run(): RtspItem[] {
    const out: RtspItem[] = [];
    for (;;) {
      const avail = this.#end - this.#start;
      if (this.#pending) {
        const { head, length } = this.#pending;
        if (avail < length) break;
        const body = this.#take(length);
        this.#pending = undefined;
        out.push(item(head, body));
        continue;
      }
      if (avail === 0) break;
      const first = this.#buf[this.#start]!;
      if (first === DOLLAR) {
        if (avail < 4) break;
        const b = this.#buf;
        const channel = b[this.#start + 1]!;
        const len = (b[this.#start + 2]! << 8) | b[this.#start + 3]!;
        if (len > this.#maxFrame) tooLarge(`interleaved frame of ${len} bytes exceeds ${this.#maxFrame}`);
        if (avail < 4 + len) break;
        this.#start += 4;
        out.push({ type: 'interleaved', channel, data: this.#take(len) });
        continue;
      }
      if (first === CR || first === LF) {
        this.#start++; // empty line between messages
        continue;
      }
      const headEnd = this.#findHeadEnd();
      if (headEnd < 0) break;
      const text = new TextDecoder().decode(this.#buf.subarray(this.#start, this.#start + headEnd));
      this.#start += headEnd;
      this.#scanned = 0;
      const head = parseHead(text);
      const length = contentLength(head.headers);
      if (length > this.#maxBody) tooLarge(`body of ${length} bytes exceeds ${this.#maxBody}`);
      this.#pending = { head, length };
    }
    this.#compact();
    return out;
  }

  /** Length of the header block including its empty line, or -1 when it is incomplete. */
  #findHeadEnd(): number {
    const b = this.#buf;
    const s = this.#start;
    const avail = this.#end - s;
    for (let i = Math.max(this.#scanned, 1); i < avail; i++) {
      if (b[s + i] !== LF) continue;
      if (b[s + i - 1] === LF) return i + 1;
      if (b[s + i - 1] === CR && i >= 2 && b[s + i - 2] === LF) return i + 1;
      if (i > this.#maxHeader) break;
    }
    this.#scanned = avail;
    if (avail > this.#maxHeader) tooLarge(`header block longer than ${this.#maxHeader} bytes`);
    return -1;
  }

  #take(n: number): Uint8Array {
    const data = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return data;
  }

  #compact(): void {
    if (this.#start === this.#end) {
      this.#start = 0;
      this.#end = 0;
      if (this.#buf.length > 65536) this.#buf = new Uint8Array(4096);
    }
  }
}

type Head =
  | { type: 'request'; method: string; uri: string; headers: RtspHeaders }
  | { type: 'response'; status: number; reason: string; headers: RtspHeaders };

function item(head: Head, body: Uint8Array): RtspItem {
  if (head.type === 'request') {
    return { type: 'request', request: { method: head.method, uri: head.uri, headers: head.headers, body } };
  }
  const response = { status: head.status, reason: head.reason, headers: head.headers, body };
  return { type: 'response', response };
}

function parseHead(text: string): Head {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const start = lines[0] ?? '';
  const headers = parseHeaderLines(lines.slice(1));
  if (start.startsWith('RTSP/')) {
    const m = /^RTSP\/(\d+\.\d+) (\d{3})(?: (.*))?$/.exec(start);
    if (!m) protocolError(`bad status line ${JSON.stringify(start.slice(0, 80))}`);
    if (m[1] !== '1.0') protocolError(`version RTSP/${m[1]} (only RTSP/1.0)`);
    return { type: 'response', status: Number(m[2]), reason: (m[3] ?? '').trim(), headers };
  }
  const parts = start.split(' ');
  if (parts.length !== 3 || !TOKEN.test(parts[0]!) || parts[1] === '' || /[\s\0]/.test(parts[1]!)) {
    protocolError(`bad request line ${JSON.stringify(start.slice(0, 80))}`);
  }
  if (parts[2] !== 'RTSP/1.0')
    protocolError(`version ${JSON.stringify(parts[2]!.slice(0, 20))} (only RTSP/1.0)`);
  return { type: 'request', method: parts[0]!, uri: parts[1]!, headers };
}

function parseHeaderLines(lines: readonly string[]): RtspHeaders {
  const headers: RtspHeaders = new Map();
  let last: string | undefined;
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // Obsolete line folding (RFC 2326 §4.2, as HTTP/1.1): continues the previous value.
      if (last === undefined) protocolError('header continuation without a header');
      headers.set(last, `${headers.get(last)!} ${line.trim()}`.trim());
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) protocolError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
    last = key;
  }
  return headers;
}

function contentLength(headers: RtspHeaders): number {
  const v = headers.get('content-length');
  if (v === undefined) return 0;
  if (!/^\d{1,10}$/.test(v)) protocolError(`bad Content-Length ${JSON.stringify(v.slice(0, 20))}`);
  return Number(v);
}

/** Header names whose canonical spelling is not plain Title-Case. */
const CANONICAL: Readonly<Record<string, string>> = {
  cseq: 'CSeq',
  'rtp-info': 'RTP-Info',
  'www-authenticate': 'WWW-Authenticate',
  'content-md5': 'Content-MD5',
};

/** The canonical spelling of a header name: `cseq` → `CSeq`, `content-base` → `Content-Base`. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return (
    CANONICAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())
  );
}

/** Headers as a caller gives them: pairs (a Map or an array) or a record. */
export type HeadersInit = Iterable<[string, string]> | Record<string, string>;

function headerPairs(h: HeadersInit): [string, string][] {
  if (Symbol.iterator in h) return [...(h as Iterable<[string, string]>)];
  return Object.entries(h);
}

const ENCODER = new TextEncoder();

function serializeMessage(start: string, headers: HeadersInit, body: Uint8Array | undefined): Uint8Array {
  if (/[\r\n]/.test(start)) protocolError('line break in the start line');
  let head = `${start}\r\n`;
  let wroteLength = false;
  for (const [name, value] of headerPairs(headers)) {
    if (!TOKEN.test(name)) protocolError(`bad header name ${JSON.stringify(name)}`);
    if (/[\r\n]/.test(value)) protocolError(`line break in header ${name}`);
    if (name.toLowerCase() === 'content-length') {
      if (wroteLength) continue;
      wroteLength = true;
      head += `Content-Length: ${body?.length ?? 0}\r\n`;
      continue;
    }
    head += `${canonicalHeaderName(name)}: ${value}\r\n`;
  }
  if (body && body.length > 0 && !wroteLength) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const h = ENCODER.encode(head);
  if (!body || body.length === 0) return h;
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

/**
 * Serialises a request. Headers keep their order, with canonical names; Content-Length is
 * written (with the real length) where the caller put it, or last when a body is present.
 * Throws RTSP_PROTOCOL on a line break in a value or a bad header name.
 */
export function serializeRequest(r: {
  method: string;
  uri: string;
  headers: HeadersInit;
  body?: Uint8Array;
}): Uint8Array {
  if (!TOKEN.test(r.method) || r.uri === '' || /\s/.test(r.uri)) {
    protocolError(`bad request line ${JSON.stringify(`${r.method} ${r.uri}`)}`);
  }
  return serializeMessage(`${r.method} ${r.uri} RTSP/1.0`, r.headers, r.body);
}

/** Reason phrases of RFC 2326 §7.1.1. */
export const RTSP_REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  452: 'Conference Not Found',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  458: 'Parameter Is Read-Only',
  459: 'Aggregate operation not allowed',
  460: 'Only aggregate operation allowed',
  461: 'Unsupported transport',
  462: 'Destination unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version not supported',
  551: 'Option not supported',
};

/** Serialises a response; `reason` defaults to the RFC 2326 phrase of the status. */
export function serializeResponse(r: {
  status: number;
  reason?: string;
  headers: HeadersInit;
  body?: Uint8Array;
}): Uint8Array {
  if (!Number.isInteger(r.status) || r.status < 100 || r.status > 999) protocolError(`status ${r.status}`);
  const reason = r.reason ?? RTSP_REASONS[r.status] ?? 'Unknown';
  return serializeMessage(`RTSP/1.0 ${r.status} ${reason}`, r.headers, r.body);
}

/** One `$`-interleaved frame (§10.12). Throws RTSP_PROTOCOL on a bad channel or size. */
export function interleavedFrame(channel: number, data: Uint8Array): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255)
    protocolError(`interleaved channel ${channel}`);
  if (data.length > 0xffff) protocolError(`interleaved frame of ${data.length} bytes`);
  const out = new Uint8Array(4 + data.length);
  out[0] = DOLLAR;
  out[1] = channel;
  out[2] = data.length >> 8;
  out[3] = data.length & 0xff;
  out.set(data, 4);
  return out;
}

/** Header values and URIs (Transport, Session, credentials, path and control): see headers.ts. */
export {
  controlOfUri,
  formatTransport,
  parseSessionHeader,
  parseTransport,
  pathOfUri,
  requestCredentials,
  type TransportSpec,
} from './headers.ts';
