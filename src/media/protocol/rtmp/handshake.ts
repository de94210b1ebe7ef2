/**
 * The RTMP handshake, server side (RTMP spec 1.0, §5.2), with the Flash Player 9 digest variant
 * that nginx-rtmp and MediaMTX also answer.
 *
 * ```
 * client                                server
 *   C0 (1 byte: version 3)      ──▶
 *   C1 (1536 bytes)             ──▶
 *                               ◀──  S0 (1 byte: 3)
 *                               ◀──  S1 (1536 bytes)
 *                               ◀──  S2 (1536 bytes)
 *   C2 (1536 bytes)             ──▶
 *
 * C1/S1:  time (32) | version (32; zero = simple handshake) | random (1528)
 * C2/S2:  simple: echo of the peer's C1/S1
 *
 * Digest variant (version ≠ 0): C1 holds a 32-byte HMAC-SHA256 digest of the other 1504 bytes,
 * keyed with "Genuine Adobe Flash Player 001", at offset (sum of 4 bytes at base) % 728 + base + 4
 * with base 772 or 8. S1 then carries a digest keyed with "Genuine Adobe Flash Media Server 001"
 * (base 8), and S2 ends with HMAC(HMAC(server full key, C1 digest), S2[0..1504)).
 * ```
 *
 * Clients that send a digest and do not check ours (ffmpeg and OBS when publishing) work either
 * way; ffmpeg checks it when playing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { AirError } from '../../../shared/errors.ts';

/** Size of C1, C2, S1, S2. */
export const HANDSHAKE_SIZE = 1536;
/** The RTMP version in C0/S0. */
export const RTMP_VERSION = 3;

const GENUINE_FP = 'Genuine Adobe Flash Player 001';
const GENUINE_FMS = 'Genuine Adobe Flash Media Server 001';
const KEY_TAIL = Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex');
const CLIENT_PARTIAL_KEY = Buffer.from(GENUINE_FP);
const SERVER_PARTIAL_KEY = Buffer.from(GENUINE_FMS);
const SERVER_FULL_KEY = Buffer.concat([SERVER_PARTIAL_KEY, KEY_TAIL]);
const SERVER_VERSION = [0x0d, 0x0e, 0x0a, 0x0d];

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Offset of the digest in a 1536-byte C1/S1 for a given scheme base (8 or 772). */
export function digestOffset(packet: Uint8Array, base: number): number {
  const sum = packet[base]! + packet[base + 1]! + packet[base + 2]! + packet[base + 3]!;
  return (sum % 728) + base + 4;
}

/** The digest of `packet` with the 32 bytes at `offset` left out. */
function digestAt(packet: Uint8Array, offset: number, key: Uint8Array): Buffer {
  return hmac(key, packet.subarray(0, offset), packet.subarray(offset + 32));
}

/** Finds a valid client digest in C1 (scheme base 772, then 8); `undefined` if there is none. */
export function findClientDigest(c1: Uint8Array): Uint8Array | undefined {
  for (const base of [772, 8]) {
    const off = digestOffset(c1, base);
    const d = digestAt(c1, off, CLIENT_PARTIAL_KEY);
    if (d.equals(c1.subarray(off, off + 32))) return new Uint8Array(c1.subarray(off, off + 32));
  }
  return undefined;
}

/** Options of the server handshake (injectable for tests). */
export interface HandshakeOptions {
  random?: (n: number) => Uint8Array;
  /** Milliseconds for S1's time field. */
  now?: () => number;
}

/** Builds S0+S1+S2 in answer to C1. */
export function serverResponse(c1: Uint8Array, opts: HandshakeOptions = {}): Uint8Array {
  const random = opts.random ?? ((n: number) => randomBytes(n));
  const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
  out[0] = RTMP_VERSION;
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = out.subarray(1 + HANDSHAKE_SIZE);
  s1.set(random(HANDSHAKE_SIZE));
  new DataView(s1.buffer, s1.byteOffset, 8).setUint32(0, (opts.now?.() ?? 0) >>> 0);
  const clientVersion = new DataView(c1.buffer, c1.byteOffset, 8).getUint32(4);
  const clientDigest = clientVersion !== 0 ? findClientDigest(c1) : undefined;
  if (!clientDigest) {
    s1.fill(0, 4, 8);
    s2.set(c1);
    return out;
  }
  s1.set(SERVER_VERSION, 4);
  const off = digestOffset(s1, 8);
  s1.set(digestAt(s1, off, SERVER_PARTIAL_KEY), off);
  s2.set(random(HANDSHAKE_SIZE));
  const key = hmac(SERVER_FULL_KEY, clientDigest);
  s2.set(hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32)), HANDSHAKE_SIZE - 32);
  return out;
}

/** What one step of the handshake produced. */
export interface HandshakeStep {
  /** Bytes to send to the client (S0+S1+S2), once. */
  send?: Uint8Array;
  /** True once C2 is in: the chunk stream starts. */
  done: boolean;
  /** Bytes after C2 (the start of the chunk stream). */
  rest: Uint8Array;
}

/**
 * Pure server handshake: feed bytes, get S0+S1+S2 to send once C0+C1 are in, and `done` once C2
 * is in. Throws AirError('RTMP_PROTOCOL') on a version other than 3.
 */
export class ServerHandshake {
  private buf = new Uint8Array(0);
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  /** True when the client sent a digest handshake and got one back. */
  digest = false;
  private readonly opts: HandshakeOptions;

  constructor(opts: HandshakeOptions = {}) {
    this.opts = opts;
  }

  process(input: Uint8Array): HandshakeStep {
    if (this.state === 'done') return { done: true, rest: input };
    const b = new Uint8Array(this.buf.length + input.length);
    b.set(this.buf);
    b.set(input, this.buf.length);
    this.buf = b;
    let send: Uint8Array | undefined;
    if (this.state === 'c0c1') {
      if (this.buf.length >= 1 && this.buf[0] !== RTMP_VERSION) {
        throw new AirError(
          'RTMP_PROTOCOL',
          `unsupported RTMP version ${this.buf[0]} (not RTMP, or encrypted RTMPE which is not supported)`,
        );
      }
      if (this.buf.length < 1 + HANDSHAKE_SIZE) return { done: false, rest: new Uint8Array(0) };
      const c1 = this.buf.slice(1, 1 + HANDSHAKE_SIZE);
      send = serverResponse(c1, this.opts);
      this.digest = send[1 + 4] !== 0;
      this.buf = this.buf.slice(1 + HANDSHAKE_SIZE);
      this.state = 'c2';
    }
    if (this.buf.length < HANDSHAKE_SIZE) return { send, done: false, rest: new Uint8Array(0) };
    const rest = this.buf.slice(HANDSHAKE_SIZE);
    this.buf = new Uint8Array(0);
    this.state = 'done';
    return { send, done: true, rest };
  }
}
