import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import {
  digestOffset,
  findClientDigest,
  HANDSHAKE_SIZE,
  ServerHandshake,
  serverResponse,
} from './handshake.ts';
import { capture, HANDSHAKE_BYTES } from './testdata/captures.ts';

const FMS_KEY = Buffer.concat([
  Buffer.from('Genuine Adobe Flash Media Server 001'),
  Buffer.from('f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae', 'hex'),
]);
const hmac = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

const publish = capture('ffmpeg-publish.bin');
const c1 = publish.subarray(1, 1 + HANDSHAKE_SIZE);

describe('RTMP server handshake', () => {
  it("finds the digest in ffmpeg's C1 and answers with a verifiable S1 and S2", () => {
    const clientDigest = findClientDigest(c1);
    expect(clientDigest).toBeDefined();
    const out = serverResponse(c1);
    expect(out.length).toBe(1 + 2 * HANDSHAKE_SIZE);
    expect(out[0]).toBe(3);
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    // S1: the digest keyed with the server's partial key, at the scheme-0 (base 8) offset.
    const off = digestOffset(s1, 8);
    const expected = hmac(FMS_KEY.subarray(0, 36), s1.subarray(0, off), s1.subarray(off + 32));
    expect(Buffer.from(s1.subarray(off, off + 32)).equals(expected)).toBe(true);
    // S2: signed with HMAC(server full key, client digest), as ffmpeg checks when playing.
    const key = hmac(FMS_KEY, clientDigest!);
    const sig = hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32));
    expect(Buffer.from(s2.subarray(HANDSHAKE_SIZE - 32)).equals(sig)).toBe(true);
  });

  it('echoes C1 as S2 for a simple (version 0) handshake', () => {
    const simple = new Uint8Array(HANDSHAKE_SIZE).map((_, i) => (i * 7) & 0xff);
    simple.fill(0, 4, 8);
    const out = serverResponse(simple, { now: () => 1234 });
    expect(Buffer.from(out.subarray(1 + HANDSHAKE_SIZE)).equals(simple)).toBe(true);
    expect(new DataView(out.buffer, 1, 8).getUint32(0)).toBe(1234);
    expect(new DataView(out.buffer, 1, 8).getUint32(4)).toBe(0);
  });

  it('also answers a C1 whose version is set but carries no digest, simply', () => {
    const noDigest = new Uint8Array(HANDSHAKE_SIZE).fill(9);
    const out = serverResponse(noDigest);
    expect(Buffer.from(out.subarray(1 + HANDSHAKE_SIZE)).equals(noDigest)).toBe(true);
  });

  it('runs on the captured bytes fed one at a time and hands back what follows C2', () => {
    const hs = new ServerHandshake();
    const sent: Uint8Array[] = [];
    let done = false;
    let rest = new Uint8Array(0);
    const input = publish.subarray(0, HANDSHAKE_BYTES + 10);
    for (let i = 0; i < input.length && !done; i++) {
      const step = hs.process(input.subarray(i, i + 1));
      if (step.send) sent.push(step.send);
      done = step.done;
      if (done) rest = Uint8Array.from([...step.rest, ...input.subarray(i + 1)]);
    }
    expect(done).toBe(true);
    expect(hs.digest).toBe(true);
    expect(sent).toHaveLength(1);
    expect(Buffer.from(rest).equals(publish.subarray(HANDSHAKE_BYTES, HANDSHAKE_BYTES + 10))).toBe(true);
  });

  it('returns the chunk stream bytes that arrive together with C2', () => {
    const hs = new ServerHandshake();
    const step = hs.process(publish.subarray(0, 4000));
    expect(step.done).toBe(true);
    expect(step.send).toBeDefined();
    expect(Buffer.from(step.rest).equals(publish.subarray(HANDSHAKE_BYTES, 4000))).toBe(true);
  });

  it('refuses another version (RTMPE, random bytes)', () => {
    const hs = new ServerHandshake();
    try {
      hs.process(Uint8Array.of(6, 0, 0));
      throw new Error('accepted');
    } catch (e) {
      expect(isAirError(e, 'RTMP_PROTOCOL')).toBe(true);
    }
  });
});
