/**
 * The werift KeyObject patch (`patches/werift+*.patch`, applied by patch-package on
 * install): werift's SRTP ciphers must hold KeyObjects made once per context, and what they
 * put on the wire must stay byte for byte what SRTP (RFC 3711, RFC 7714) says: checked
 * against libsrtp's reference packets and against a reference written here with node:crypto
 * directly (Buffer keys, the way unpatched werift calls it).
 */
import { createCipheriv, createHmac, KeyObject, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ProtectionProfileAeadAes128Gcm as GCM,
  ProtectionProfileAes128CmHmacSha1_80 as CM,
  RtpHeader,
  SrtcpSession,
  SrtpSession,
} from 'werift';
import * as nonstandard from 'werift/nonstandard';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

type Cipher = Record<string, unknown>;
type Ctx = { cipher: Cipher };
type SessionCtor = new (c: { keys: Record<string, Buffer>; profile: number }) => {
  localContext: Ctx;
  encrypt(...a: unknown[]): Buffer;
  decrypt(b: Buffer): Buffer;
};

function session<T extends SessionCtor>(Cls: T, key: Buffer, salt: Buffer, profile: number): InstanceType<T> {
  const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
  return new Cls({ keys, profile }) as InstanceType<T>;
}

/** RFC 3711 §4.3.1 key derivation (key_derivation_rate 0, index 0), AES-CM PRF. */
function kdf(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const x = Buffer.concat([masterSalt, Buffer.alloc(14 - masterSalt.length), Buffer.alloc(2)]);
  x[7] = (x[7] ?? 0) ^ label;
  const c = createCipheriv('aes-128-ctr', masterKey, x);
  return c.update(Buffer.alloc(length));
}

/** Session keys for one direction: [rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth]. */
function sessionKeys(mk: Buffer, ms: Buffer): Buffer[] {
  return [
    kdf(mk, ms, 0, 16),
    kdf(mk, ms, 2, 14),
    kdf(mk, ms, 1, 20),
    kdf(mk, ms, 3, 16),
    kdf(mk, ms, 5, 14),
    kdf(mk, ms, 4, 20),
  ];
}

/** SRTP protect as RFC 3711 (AES-CM + HMAC-SHA1-80) / RFC 7714 (AES-128-GCM) say, Buffer keys. */
function refSrtp(profile: number, k: Buffer[], hdr: Buffer, payload: Buffer, roc: number): Buffer {
  const [key, salt, auth] = k as [Buffer, Buffer, Buffer];
  const ssrc = hdr.readUInt32BE(8);
  const seq = hdr.readUInt16BE(2);
  if (profile === CM) {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(ssrc, 4);
    iv.writeUInt32BE(roc, 8);
    iv.writeUInt16BE(seq, 12);
    for (let i = 0; i < 14; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
    const enc = createCipheriv('aes-128-ctr', key, iv).update(payload);
    const rocRaw = Buffer.alloc(4);
    rocRaw.writeUInt32BE(roc);
    const tag = createHmac('sha1', auth).update(hdr).update(enc).update(rocRaw).digest().subarray(0, 10);
    return Buffer.concat([hdr, enc, tag]);
  }
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(roc, 6);
  iv.writeUInt16BE(seq, 10);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(hdr);
  const enc = Buffer.concat([c.update(payload), c.final()]);
  return Buffer.concat([hdr, enc, c.getAuthTag()]);
}

/** SRTCP protect (encrypted, E flag set) per RFC 3711 §3.4 / RFC 7714 §9, Buffer keys. */
function refSrtcp(profile: number, k: Buffer[], rtcp: Buffer, index: number): Buffer {
  const [, , , key, salt, auth] = k as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  const ssrc = rtcp.readUInt32BE(4);
  const eIndex = Buffer.alloc(4);
  eIndex.writeUInt32BE((0x8000_0000 | index) >>> 0);
  if (profile === CM) {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(ssrc, 4);
    iv.writeUInt16BE(index >>> 16, 10);
    iv.writeUInt16BE(index & 0xffff, 12);
    for (let i = 0; i < 14; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
    const enc = createCipheriv('aes-128-ctr', key, iv).update(rtcp.subarray(8));
    const body = Buffer.concat([rtcp.subarray(0, 8), enc, eIndex]);
    return Buffer.concat([body, createHmac('sha1', auth).update(body).digest().subarray(0, 10)]);
  }
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(ssrc, 2);
  iv.writeUInt32BE(index, 8);
  for (let i = 0; i < 12; i++) iv[i] = (iv[i] ?? 0) ^ (salt[i] ?? 0);
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(Buffer.concat([rtcp.subarray(0, 8), eIndex]));
  const enc = Buffer.concat([c.update(rtcp.subarray(8)), c.final()]);
  return Buffer.concat([rtcp.subarray(0, 8), enc, c.getAuthTag(), eIndex]);
}

const libsrtpHeader = hex('800f1234 decafbad cafebabe');
const libsrtpPayload = Buffer.alloc(16, 0xab);

describe('werift SRTP KeyObject patch', () => {
  it('is applied: every cipher werift can load holds KeyObjects equal to its session keys', () => {
    const cjs = createRequire(import.meta.url)('werift') as { SrtpSession: SessionCtor };
    const classes = [SrtpSession, nonstandard.SrtpSession, cjs.SrtpSession] as unknown as SessionCtor[];
    for (const Cls of classes) {
      for (const profile of [CM, GCM]) {
        const ctx = session(Cls, randomBytes(16), randomBytes(14), profile).localContext as Ctx & Cipher;
        const names = ['srtpSessionKey', 'srtcpSessionKey'];
        if (profile === CM) names.push('srtpSessionAuth', 'srtcpSessionAuth');
        for (const name of names) {
          const ko = ctx.cipher[`${name}${name.endsWith('Auth') ? 'KeyObject' : 'Object'}`];
          expect(ko, `${Cls.name} ${profile} ${name}`).toBeInstanceOf(KeyObject);
          const raw = ctx[name.endsWith('Auth') ? `${name}Tag` : name] as Buffer;
          expect((ko as KeyObject).export().equals(raw)).toBe(true);
        }
      }
    }
  });

  it('derives the RFC 3711 B.3 session keys', () => {
    const ctx = session(
      SrtpSession as unknown as SessionCtor,
      hex('e1f97a0d3e018be0d64fa32c06de4139'),
      hex('0ec675ad498afeebb6960b3aabe6'),
      CM,
    ).localContext as unknown as Record<string, Buffer>;
    expect(ctx.srtpSessionKey?.toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(ctx.srtpSessionSalt?.toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(ctx.srtpSessionAuthTag?.toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it.each([
    [
      'AES_CM_128_HMAC_SHA1_80',
      CM,
      'e1f97a0d3e018be0d64fa32c06de4139',
      '0ec675ad498afeebb6960b3aabe6',
      '4e55dc4ce79978d88ca4d215949d2402 b78d6acc99ea179b8dbb',
    ],
    [
      'AEAD_AES_128_GCM',
      GCM,
      '000102030405060708090a0b0c0d0e0f',
      'a0a1a2a3a4a5a6a7a8a9aaab',
      'c5002ede04cfdd2eb91159e0880aa06e d2976826f796b201df3131a127e8a392',
    ],
  ])('%s: protects and unprotects libsrtp’s reference packet', (_name, profile, key, salt, cipherText) => {
    const s = session(SrtpSession as unknown as SessionCtor, hex(key), hex(salt), profile);
    const expected = Buffer.concat([libsrtpHeader, hex(cipherText)]);
    expect(s.encrypt(libsrtpPayload, RtpHeader.deSerialize(libsrtpHeader)).toString('hex')).toBe(
      expected.toString('hex'),
    );
    expect(s.decrypt(expected).toString('hex')).toBe(
      Buffer.concat([libsrtpHeader, libsrtpPayload]).toString('hex'),
    );
  });

  it.each([
    ['AES_CM_128_HMAC_SHA1_80', CM],
    ['AEAD_AES_128_GCM', GCM],
  ])('%s: SRTP and SRTCP output is byte-identical to node:crypto with Buffer keys', (_name, profile) => {
    const mk = randomBytes(16);
    const ms = randomBytes(profile === CM ? 14 : 12);
    const keys = sessionKeys(mk, ms);
    const srtp = session(SrtpSession as unknown as SessionCtor, mk, ms, profile);
    // a one-byte header extension like the ones werift sends (mid, abs-send-time, transport-cc)
    const ext = hex('bede0002 10 30 22 123456 000000');
    let roc = 0;
    for (let n = 0; n < 120; n++) {
      const seq = (65_500 + n) & 0xffff;
      if (n > 0 && seq === 0) roc++;
      const raw = Buffer.concat([hex('90e00000 00000000 11223344'), ext]);
      raw.writeUInt16BE(seq, 2);
      raw.writeUInt32BE(n * 3000, 4);
      const header = RtpHeader.deSerialize(raw);
      const payload = randomBytes(1 + ((n * 97) % 1200));
      const out = srtp.encrypt(payload, header);
      const hdr = header.serialize(header.serializeSize);
      expect(out.equals(refSrtp(profile, keys, hdr, payload, roc)), `packet ${n}`).toBe(true);
      expect(srtp.decrypt(out).equals(Buffer.concat([hdr, payload]))).toBe(true);
    }
    const srtcp = session(SrtcpSession as unknown as SessionCtor, mk, ms, profile);
    for (let index = 1; index <= 20; index++) {
      const rtcp = Buffer.concat([hex('80c80006 11223344'), randomBytes(20)]);
      const out = srtcp.encrypt(rtcp);
      expect(out.equals(refSrtcp(profile, keys, rtcp, index)), `rtcp ${index}`).toBe(true);
      expect(srtcp.decrypt(out).equals(rtcp)).toBe(true);
    }
  });
});

describe('werift ICE patch', () => {
  it('asks no STUN server unless one is configured (werift defaulted to a public one, even with iceServers: [])', async () => {
    const { Connection } = await import('werift');
    const ice = new Connection(true, {});
    expect(ice.stunServer).toBeUndefined();
    const configured = new Connection(true, { stunServer: ['stun.example.org', 3478] });
    expect(configured.stunServer).toEqual(['stun.example.org', 3478]);
  });
});
