import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { Message, classes, methods, parseMessage } from 'werift';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addShimCandidates,
  fixZeroTiebreaker,
  iceCredentials,
  isWebRtcDatagram,
  requestUfrag,
  rewriteMappedAddress,
  verifyStun,
} from './stun-fix.ts';
import { StunShim } from './stun-shim.ts';

const PWD = 'serverIcePasswordOf24chr';
const passwords = (u: string) => (u === 'srvU' ? PWD : undefined);

/** A Binding request as a browser sends it (werift's STUN encoder): USERNAME, tiebreaker, MI, FINGERPRINT. */
function bindingRequest(tiebreaker: bigint, attr: 'ICE-CONTROLLING' | 'ICE-CONTROLLED' = 'ICE-CONTROLLING') {
  const m = new Message(methods.BINDING, classes.REQUEST);
  m.setAttribute('USERNAME', 'srvU:cliU');
  m.setAttribute('PRIORITY', 1853824767);
  m.setAttribute(attr, tiebreaker);
  if (attr === 'ICE-CONTROLLING') m.setAttribute('USE-CANDIDATE', null);
  m.addMessageIntegrity(Buffer.from(PWD, 'utf8'));
  m.addFingerprint();
  return Buffer.from(m.bytes);
}

describe('fixZeroTiebreaker (libjuice#355)', () => {
  it('sets a zero ICE-CONTROLLING to 1 and signs again: MI and FINGERPRINT verify (ours and werift)', () => {
    const req = bindingRequest(0n);
    expect(verifyStun(req, PWD)).toEqual({ integrity: true, fingerprint: true });
    const fixed = fixZeroTiebreaker(req, passwords);
    expect(fixed).not.toBe(req);
    expect(fixed.length).toBe(req.length);
    expect(verifyStun(fixed, PWD)).toEqual({ integrity: true, fingerprint: true });
    expect(verifyStun(fixed, 'another password').integrity).toBe(false);
    const parsed = parseMessage(fixed, Buffer.from(PWD, 'utf8'));
    expect(parsed?.getAttributeValue('ICE-CONTROLLING')).toBe(1n);
    expect(parsed?.getAttributeValue('USERNAME')).toBe('srvU:cliU');
    expect(parsed?.transactionId.equals(req.subarray(8, 20))).toBe(true);
    // The original's bytes are untouched; only the tiebreaker, MI and FINGERPRINT differ.
    expect(verifyStun(req, PWD).integrity).toBe(true);
    const differing = [...fixed.keys()].filter((i) => fixed[i] !== req[i]);
    expect(differing.length).toBeGreaterThan(1);
    expect(differing.every((i) => i >= req.length - 36 || i === differing[0])).toBe(true);
  });

  it('fixes a zero ICE-CONTROLLED too', () => {
    const fixed = fixZeroTiebreaker(bindingRequest(0n, 'ICE-CONTROLLED'), passwords);
    expect(parseMessage(fixed, Buffer.from(PWD))?.getAttributeValue('ICE-CONTROLLED')).toBe(1n);
  });

  it('passes everything else byte-for-byte (the same buffer)', () => {
    const nonZero = bindingRequest(0x1234_5678_9abc_def0n);
    expect(fixZeroTiebreaker(nonZero, passwords)).toBe(nonZero);
    const unknownUfrag = bindingRequest(0n);
    expect(fixZeroTiebreaker(unknownUfrag, () => undefined)).toBe(unknownUfrag);
    const response = new Message(methods.BINDING, classes.RESPONSE);
    response.setAttribute('XOR-MAPPED-ADDRESS', ['10.0.0.1', 5000]);
    response.addMessageIntegrity(Buffer.from(PWD)).addFingerprint();
    const r = Buffer.from(response.bytes);
    expect(fixZeroTiebreaker(r, passwords)).toBe(r);
    for (const junk of [Buffer.alloc(0), randomBytes(100), Buffer.from([0x80, 0x60, 0, 1]), req20()]) {
      expect(fixZeroTiebreaker(junk, passwords)).toBe(junk);
    }
  });

  it('reads the receiver ufrag of a request', () => {
    expect(requestUfrag(bindingRequest(7n))).toBe('srvU');
    expect(requestUfrag(randomBytes(40))).toBeUndefined();
  });
});

/** A truncated header-only "STUN" whose length field lies. */
function req20(): Buffer {
  const b = bindingRequest(0n).subarray(0, 24);
  return Buffer.from(b);
}

describe('isWebRtcDatagram (RFC 7983)', () => {
  it('accepts STUN, DTLS and RTP first bytes and refuses the rest', () => {
    for (const b of [0, 1, 3, 20, 22, 63, 128, 144, 191])
      expect(isWebRtcDatagram(Buffer.from([b, 0]))).toBe(true);
    for (const b of [4, 19, 64, 127, 192, 255]) expect(isWebRtcDatagram(Buffer.from([b, 0]))).toBe(false);
    expect(isWebRtcDatagram(Buffer.alloc(0))).toBe(false);
  });
});

describe('answer SDP helpers', () => {
  const answer = [
    'v=0',
    'o=rtc 1 0 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=mid:0',
    'a=ice-ufrag:AbCd',
    'a=ice-pwd:0123456789abcdefghijkl',
    'a=candidate:1 1 UDP 2122317823 192.168.1.5 8189 typ host',
    'a=candidate:2 1 UDP 2122317823 fe80::1 8189 typ host',
    'a=candidate:x1 1 UDP 2114977535 127.0.0.1 8189 typ host',
    'a=end-of-candidates',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    '',
  ].join('\r\n');

  it('finds the ICE credentials', () => {
    expect(iceCredentials(answer)).toEqual({ ufrag: 'AbCd', pwd: '0123456789abcdefghijkl' });
    expect(iceCredentials('v=0\r\n')).toBeUndefined();
  });

  it('adds lowest-priority host candidates at the shim port for each IPv4 address, in the first section', () => {
    const out = addShimCandidates(answer, 40001);
    const lines = out.split('\r\n');
    const shim = lines.filter((l) => l.includes(' 40001 typ host'));
    expect(shim).toEqual([
      'a=candidate:shim1 1 UDP 767 192.168.1.5 40001 typ host',
      'a=candidate:shim2 1 UDP 511 127.0.0.1 40001 typ host',
    ]);
    // Before a=end-of-candidates of the first m-section; below every other candidate's priority.
    expect(lines.indexOf(shim[1]!) + 1).toBe(lines.indexOf('a=end-of-candidates'));
    const prios = lines.filter((l) => l.startsWith('a=candidate:')).map((l) => Number(l.split(' ')[3]));
    expect(Math.max(...prios.slice(-2))).toBeLessThan(Math.min(...prios.slice(0, -2)));
    expect(out.endsWith('a=mid:1\r\n')).toBe(true);
  });
});

describe('StunShim (real UDP sockets)', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  async function udp(): Promise<dgram.Socket> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => s.close(() => r())));
    return s;
  }
  const next = (s: dgram.Socket) =>
    new Promise<{ d: Buffer; port: number }>((r) => s.once('message', (d, ri) => r({ d, port: ri.port })));

  it('forwards both ways from one upstream socket per client, fixing zero tiebreakers only', async () => {
    const upstream = await udp();
    const logger = { warn: () => {} } as never;
    const shim = new StunShim({
      port: 0,
      upstreamHost: '127.0.0.1',
      upstreamPort: upstream.address().port,
      logger,
    });
    await shim.start();
    closers.push(() => shim.close());
    shim.register('srvU', PWD);
    const [a, b] = [await udp(), await udp()];

    let got = next(upstream);
    a.send(bindingRequest(0n), shim.port, '127.0.0.1');
    const fromA = await got;
    expect(verifyStun(fromA.d, PWD)).toEqual({ integrity: true, fingerprint: true });
    expect(parseMessage(fromA.d, Buffer.from(PWD))?.getAttributeValue('ICE-CONTROLLING')).toBe(1n);
    expect(shim.fixed).toBe(1);

    // A reply goes back to the client it is for, from the shim's port.
    let back = next(a);
    upstream.send(Buffer.from([0x80, 0x60, 1, 2]), fromA.port, '127.0.0.1');
    expect(await back).toEqual({ d: Buffer.from([0x80, 0x60, 1, 2]), port: shim.port });
    // The Binding response names the client's own address, not the upstream socket's.
    const res = new Message(methods.BINDING, classes.RESPONSE, Buffer.from(fromA.d.subarray(8, 20)));
    res.setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', fromA.port]);
    res.addMessageIntegrity(Buffer.from(PWD)).addFingerprint();
    back = next(a);
    upstream.send(Buffer.from(res.bytes), fromA.port, '127.0.0.1');
    const answered = parseMessage((await back).d, Buffer.from(PWD));
    expect(answered?.getAttributeValue('XOR-MAPPED-ADDRESS')).toEqual(['127.0.0.1', a.address().port]);

    // Another client: another upstream address; a non-zero request passes unchanged.
    const req = bindingRequest(99n);
    got = next(upstream);
    b.send(req, shim.port, '127.0.0.1');
    const fromB = await got;
    expect(fromB.port).not.toBe(fromA.port);
    expect(fromB.d.equals(req)).toBe(true);
    expect(shim.remoteCount).toBe(2);

    // Not WebRTC-looking (first byte 0x47 'G'): dropped; the next good one still passes.
    got = next(upstream);
    a.send(Buffer.from('GET / HTTP/1.1\r\n'), shim.port, '127.0.0.1');
    a.send(Buffer.from([0x16, 0xfe, 0xfd]), shim.port, '127.0.0.1');
    expect((await got).d).toEqual(Buffer.from([0x16, 0xfe, 0xfd]));
    expect(shim.dropped).toBe(1);

    // After unregister, a zero tiebreaker is no longer rewritten (the password is gone).
    shim.unregister('srvU');
    const z = bindingRequest(0n);
    got = next(upstream);
    a.send(z, shim.port, '127.0.0.1');
    expect((await got).d.equals(z)).toBe(true);
  });

  it('serves at most maxRemotes clients', async () => {
    const upstream = await udp();
    const shim = new StunShim({
      port: 0,
      upstreamHost: '127.0.0.1',
      upstreamPort: upstream.address().port,
      logger: { warn: () => {} } as never,
      maxRemotes: 1,
    });
    await shim.start();
    closers.push(() => shim.close());
    const [a, b] = [await udp(), await udp()];
    const got = next(upstream);
    a.send(Buffer.from([0x80, 1]), shim.port, '127.0.0.1');
    await got;
    b.send(Buffer.from([0x80, 2]), shim.port, '127.0.0.1');
    await expect.poll(() => shim.dropped).toBe(1);
    expect(shim.remoteCount).toBe(1);
  });
});

describe('rewriteMappedAddress', () => {
  it("sets a Binding response's XOR-MAPPED-ADDRESS to the client's address and signs it again", () => {
    const tx = randomBytes(12);
    const res = new Message(methods.BINDING, classes.RESPONSE, tx);
    res.setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', 54321]);
    res.addMessageIntegrity(Buffer.from(PWD)).addFingerprint();
    const bytes = Buffer.from(res.bytes);
    const out = rewriteMappedAddress(bytes, '192.168.7.9', 30012, PWD);
    expect(verifyStun(out, PWD)).toEqual({ integrity: true, fingerprint: true });
    expect(parseMessage(out, Buffer.from(PWD))?.getAttributeValue('XOR-MAPPED-ADDRESS')).toEqual([
      '192.168.7.9',
      30012,
    ]);
    // Already right, a request, or not STUN: the same buffer.
    expect(rewriteMappedAddress(out, '192.168.7.9', 30012, PWD)).toBe(out);
    const req = bindingRequest(0n);
    expect(rewriteMappedAddress(req, '192.168.7.9', 30012, PWD)).toBe(req);
    const junk = randomBytes(64);
    expect(rewriteMappedAddress(junk, '192.168.7.9', 30012, PWD)).toBe(junk);
  });
});
