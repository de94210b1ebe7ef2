/**
 * The pure part of the TURN/TCP interop shim (stun-shim.ts): rewrites a STUN Binding request
 * whose ICE-CONTROLLING / ICE-CONTROLLED tiebreaker is 0 to 1 and signs it again.
 *
 * Why: Chromium sends its connectivity checks over TURN/TCP with an ICE-CONTROLLING tiebreaker
 * of 0; libjuice (node-datachannel 0.33.4) reads a 0 tiebreaker as "attribute absent" and
 * answers every such check 400 ("Controlling and controlled attributes mismatch in request"),
 * so ICE never completes (paullouisageneau/libjuice#355, fixed by #356, not released). The
 * tiebreaker only matters in a role conflict; 1 and 0 mean the same thing to a controlled
 * agent, so the rewrite changes nothing else. Everything else passes byte-for-byte.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

const HEADER = 20;
const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_ICE_CONTROLLED = 0x8029;
const ATTR_ICE_CONTROLLING = 0x802a;
const ATTR_FINGERPRINT = 0x8028;
const FINGERPRINT_XOR = 0x5354554e;

/** Where the attributes the fix needs sit in a STUN message (offsets of the attribute headers). */
interface Layout {
  type: number;
  username?: string;
  /** Offset of the value of a zero ICE-CONTROLLING / ICE-CONTROLLED tiebreaker. */
  zeroTiebreaker?: number;
  /** Offset of the value of an IPv4 XOR-MAPPED-ADDRESS. */
  mappedV4?: number;
  integrity?: number;
  fingerprint?: number;
}

/** Reads a STUN message's attributes; undefined if it is not a well-formed STUN message. */
function layout(msg: Buffer): Layout | undefined {
  if (msg.length < HEADER || (msg[0]! & 0xc0) !== 0) return undefined;
  if (msg.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  const length = msg.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length !== msg.length) return undefined;
  const out: Layout = { type: msg.readUInt16BE(0) };
  for (let pos = HEADER; pos < msg.length;) {
    if (pos + 4 > msg.length) return undefined;
    const t = msg.readUInt16BE(pos);
    const len = msg.readUInt16BE(pos + 2);
    const end = pos + 4 + len;
    if (end > msg.length) return undefined;
    if (out.integrity === undefined && out.fingerprint === undefined) {
      if (t === ATTR_USERNAME) out.username = msg.toString('utf8', pos + 4, end);
      else if ((t === ATTR_ICE_CONTROLLING || t === ATTR_ICE_CONTROLLED) && len === 8) {
        if (msg.readBigUInt64BE(pos + 4) === 0n) out.zeroTiebreaker = pos + 4;
      } else if (t === ATTR_XOR_MAPPED_ADDRESS && len === 8 && msg[pos + 5] === 1) out.mappedV4 = pos + 4;
      else if (t === ATTR_MESSAGE_INTEGRITY && len === 20) out.integrity = pos;
    }
    if (t === ATTR_FINGERPRINT && len === 4) {
      out.fingerprint = pos;
      if (end !== msg.length) return undefined; // FINGERPRINT is the last attribute
    }
    pos = end + ((4 - (len % 4)) % 4);
  }
  return out;
}

/** HMAC-SHA1 of the message up to MESSAGE-INTEGRITY at `at`, the header length covering it. */
function integrityOf(msg: Buffer, at: number, password: string): Buffer {
  const head = Buffer.from(msg.subarray(0, at));
  head.writeUInt16BE(at + 24 - HEADER, 2);
  return createHmac('sha1', Buffer.from(password, 'utf8')).update(head).digest();
}

/** FINGERPRINT of the message up to the attribute at `at`, the header length covering it. */
function fingerprintOf(msg: Buffer, at: number): number {
  const head = Buffer.from(msg.subarray(0, at));
  head.writeUInt16BE(at + 8 - HEADER, 2);
  return (crc32(head) ^ FINGERPRINT_XOR) >>> 0;
}

/** The local ICE ufrag a Binding request is for (USERNAME is `<receiver ufrag>:<sender ufrag>`). */
export function requestUfrag(msg: Buffer): string | undefined {
  const l = layout(msg);
  if (!l || l.type !== BINDING_REQUEST || l.username === undefined) return undefined;
  const i = l.username.indexOf(':');
  return i > 0 ? l.username.slice(0, i) : undefined;
}

/**
 * A Binding request with a zero ICE-CONTROLLING / ICE-CONTROLLED tiebreaker, with the tiebreaker
 * set to 1 and MESSAGE-INTEGRITY (keyed with the receiver's ICE password, looked up by the
 * USERNAME's part before ':') and FINGERPRINT computed again. Returns the very same buffer for
 * anything else: another STUN message, a non-zero tiebreaker, an unknown ufrag, not STUN at all.
 */
export function fixZeroTiebreaker(msg: Buffer, passwordOf: (ufrag: string) => string | undefined): Buffer {
  const l = layout(msg);
  if (!l || l.type !== BINDING_REQUEST || l.zeroTiebreaker === undefined) return msg;
  let password: string | undefined;
  if (l.integrity !== undefined) {
    const i = l.username?.indexOf(':') ?? -1;
    if (i <= 0) return msg;
    password = passwordOf(l.username!.slice(0, i));
    if (password === undefined) return msg;
  }
  const out = Buffer.from(msg);
  out[l.zeroTiebreaker + 7] = 1;
  resign(out, l, password);
  return out;
}

/** Signs `out` again in place: MESSAGE-INTEGRITY (if present) with `password`, then FINGERPRINT. */
function resign(out: Buffer, l: Layout, password: string | undefined): void {
  if (l.integrity !== undefined) integrityOf(out, l.integrity, password!).copy(out, l.integrity + 4);
  if (l.fingerprint !== undefined) out.writeUInt32BE(fingerprintOf(out, l.fingerprint), l.fingerprint + 4);
}

/**
 * A Binding success response with its IPv4 XOR-MAPPED-ADDRESS set to `address`:`port` and signed
 * again with `password` (the ICE password it was signed with: the answering agent's own). The
 * shim's replies carry the client's own address, as if no shim were in between, so a viewer
 * behind a TURN relay keeps seeing its relay candidate (not a peer-reflexive one). The same
 * buffer for anything else, or when it already says so.
 */
export function rewriteMappedAddress(msg: Buffer, address: string, port: number, password: string): Buffer {
  const l = layout(msg);
  if (!l || l.type !== BINDING_SUCCESS || l.mappedV4 === undefined) return msg;
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return msg;
  const xport = (port ^ (MAGIC_COOKIE >>> 16)) & 0xffff;
  const xaddr =
    (((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) ^ MAGIC_COOKIE) >>> 0;
  if (msg.readUInt16BE(l.mappedV4 + 2) === xport && msg.readUInt32BE(l.mappedV4 + 4) === xaddr) return msg;
  const out = Buffer.from(msg);
  out.writeUInt16BE(xport, l.mappedV4 + 2);
  out.writeUInt32BE(xaddr, l.mappedV4 + 4);
  resign(out, l, password);
  return out;
}

/** Whether a STUN message's MESSAGE-INTEGRITY (if `password`) and FINGERPRINT (if present) verify. */
export function verifyStun(msg: Buffer, password?: string): { integrity: boolean; fingerprint: boolean } {
  const l = layout(msg);
  if (!l) return { integrity: false, fingerprint: false };
  const integrity =
    password !== undefined &&
    l.integrity !== undefined &&
    timingSafeEqual(integrityOf(msg, l.integrity, password), msg.subarray(l.integrity + 4, l.integrity + 24));
  const fingerprint =
    l.fingerprint !== undefined && fingerprintOf(msg, l.fingerprint) === msg.readUInt32BE(l.fingerprint + 4);
  return { integrity, fingerprint };
}

/**
 * Whether a datagram looks like STUN, DTLS or RTP/RTCP (RFC 7983's first-byte ranges: STUN
 * 0–3, DTLS 20–63, RTP/RTCP 128–191): what the shim forwards; anything else is dropped.
 */
export function isWebRtcDatagram(d: Buffer): boolean {
  if (d.length === 0) return false;
  const b = d[0]!;
  return b <= 3 || (b >= 20 && b <= 63) || (b >= 128 && b <= 191);
}

/** The first `a=ice-ufrag` / `a=ice-pwd` of an SDP (a BUNDLEd answer has one pair). */
export function iceCredentials(sdp: string): { ufrag: string; pwd: string } | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)\s*$/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)\s*$/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

/**
 * Adds, to an answer's first media section (the BUNDLE transport), one host candidate at the
 * shim's `port` for each IPv4 address the answer already has a UDP host candidate on, with the
 * lowest priorities (type preference 0): a viewer uses them only when nothing else works.
 */
export function addShimCandidates(answer: string, port: number): string {
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  const lines = answer.split(/\r?\n/);
  const firstM = lines.findIndex((l) => l.startsWith('m='));
  if (firstM < 0) return answer;
  let nextM = lines.findIndex((l, i) => i > firstM && l.startsWith('m='));
  if (nextM < 0) nextM = lines.length;
  const addresses: string[] = [];
  for (const l of lines) {
    const m = /^a=candidate:\S+ \d+ udp \d+ ([0-9.]+) \d+ typ host/i.exec(l);
    if (m && !addresses.includes(m[1]!)) addresses.push(m[1]!);
  }
  if (addresses.length === 0) return answer;
  let at = lines.findIndex((l, i) => i > firstM && i < nextM && l === 'a=end-of-candidates');
  if (at < 0) at = nextM === lines.length && lines[nextM - 1] === '' ? nextM - 1 : nextM;
  const n = Math.min(addresses.length, 255);
  const add = addresses
    .slice(0, n)
    .map((addr, i) => `a=candidate:shim${i + 1} 1 UDP ${((n - i) << 8) | 255} ${addr} ${port} typ host`);
  lines.splice(at, 0, ...add);
  return lines.join(eol);
}
