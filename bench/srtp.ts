/**
 * SRTP protect cost per packet, as werift does it for every packet it sends to a viewer.
 *
 *   npm run bench:srtp [-- --packets 20000 --size 1200]
 *
 * Uses werift's own `SrtpSession` (the class its RTCDtlsTransport builds once per
 * connection) for both SRTP profiles a browser negotiates, AES-CM + HMAC-SHA1-80 and
 * AEAD AES-128-GCM, and prints microseconds per `encrypt` of an RTP packet of `--size`
 * bytes (header included). It also prints the cost of the bare node:crypto calls with a
 * Buffer key and with a KeyObject, which is what the werift patch
 * (`patches/werift+*.patch`) changes. Figures only: it never asserts.
 */
import { createCipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpHeader,
  SrtpSession,
} from 'werift';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '20000' },
    size: { type: 'string', default: '1200' },
    rounds: { type: 'string', default: '5' },
  },
});
const packets = Number(values.packets);
const size = Number(values.size);
const rounds = Number(values.rounds);

/** Median of the values (sorted copy). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Runs `fn` `packets` times per round and returns the median µs per call. */
function time(fn: (i: number) => void): number {
  for (let i = 0; i < 2000; i++) fn(i); // warm up (JIT, OpenSSL contexts)
  const perRound: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < packets; i++) fn(i);
    perRound.push(Number(process.hrtime.bigint() - t0) / 1000 / packets);
  }
  return median(perRound);
}

const key = randomBytes(16);
const salt = randomBytes(14);
const payload = randomBytes(size - 12);

/** µs per werift `SrtpSession.encrypt` for one profile. */
function weriftProtect(profile: number): number {
  const session = new SrtpSession({
    keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    profile,
  });
  const header = new RtpHeader({ payloadType: 96, ssrc: 0x1234_5678, timestamp: 90_000, marker: false });
  return time((i) => {
    header.sequenceNumber = i & 0xffff;
    session.encrypt(payload, header);
  });
}

/** µs per bare AES-CM + HMAC-SHA1 (the two per-packet node:crypto calls) with this key type. */
function bareCtr(aesKey: Buffer | KeyObject, authKey: Buffer | KeyObject): number {
  const iv = Buffer.alloc(16);
  return time((i) => {
    iv.writeUInt16BE(i & 0xffff, 12);
    const enc = createCipheriv('aes-128-ctr', aesKey, iv).update(payload);
    createHmac('sha1', authKey).update(enc).digest();
  });
}

/** µs per bare AES-128-GCM seal with this key type. */
function bareGcm(aesKey: Buffer | KeyObject): number {
  const iv = Buffer.alloc(12);
  const aad = Buffer.alloc(12);
  return time((i) => {
    iv.writeUInt16BE(i & 0xffff, 10);
    const c = createCipheriv('aes-128-gcm', aesKey, iv);
    c.setAAD(aad);
    c.update(payload);
    c.final();
    c.getAuthTag();
  });
}

const authKey = randomBytes(20);
const session = new SrtpSession({
  keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
  profile: ProtectionProfileAeadAes128Gcm,
});
const patched = Object.values(session.localContext.cipher as object).some(
  (v) => v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'secret',
);

const rows: [string, number][] = [
  [
    'werift SrtpSession.encrypt, AES_CM_128_HMAC_SHA1_80',
    weriftProtect(ProtectionProfileAes128CmHmacSha1_80),
  ],
  ['werift SrtpSession.encrypt, AEAD_AES_128_GCM', weriftProtect(ProtectionProfileAeadAes128Gcm)],
  ['node:crypto AES-CTR + HMAC-SHA1, Buffer keys', bareCtr(key, authKey)],
  ['node:crypto AES-CTR + HMAC-SHA1, KeyObjects', bareCtr(createSecretKey(key), createSecretKey(authKey))],
  ['node:crypto AES-128-GCM, Buffer key', bareGcm(key)],
  ['node:crypto AES-128-GCM, KeyObject', bareGcm(createSecretKey(key))],
];

console.log(
  `SRTP protect, ${size}-byte RTP packets, median of ${rounds} × ${packets} packets, Node ${process.version}`,
);
console.log(`werift KeyObject patch applied: ${patched ? 'yes' : 'NO (npm ci runs patch-package)'}`);
for (const [name, us] of rows) console.log(`${us.toFixed(2).padStart(8)} µs  ${name}`);
