/**
 * Secrets at rest (issue 10: a school's Gemini key): AES-256-GCM under a master key that is
 * `AIRCLASS_SECRET_KEY` (32 bytes, base64 or hex) or, without it, `<dataDir>/secret.key` made on
 * first use (32 random bytes, mode 0600). A sealed value is `v1.<iv>.<tag>.<ciphertext>`
 * (base64url); the API only ever shows `mask()` of a secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_FILE = 'secret.key';

/** Decodes a 32-byte key given as base64, base64url or hex; undefined for anything else. */
export function parseKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return b.length === 32 ? b : undefined;
}

/**
 * The master key: `AIRCLASS_SECRET_KEY` when set (a malformed one stops the start with a clear
 * error), else the data dir's key file, made on first use.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const given = env.AIRCLASS_SECRET_KEY;
  if (given) {
    const k = parseKey(given);
    if (!k) {
      throw new Error(
        'AIRCLASS_SECRET_KEY must be 32 bytes in base64 or hex (e.g. `openssl rand -base64 32`).',
      );
    }
    return k;
  }
  const file = join(dataDir, KEY_FILE);
  if (existsSync(file)) {
    const k = parseKey(readFileSync(file, 'utf8'));
    if (!k) throw new Error(`${file} does not hold a 32-byte key.`);
    return k;
  }
  mkdirSync(dataDir, { recursive: true });
  const k = randomBytes(32);
  writeFileSync(file, k.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return k;
}

/** Encrypts `plain` (AES-256-GCM, random 96-bit IV; `aad` binds it to its use, e.g. "gemini"). */
export function seal(key: Buffer, plain: string, aad = ''): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const b = (x: Buffer): string => x.toString('base64url');
  return `v1.${b(iv)}.${b(c.getAuthTag())}.${b(ct)}`;
}

/** Decrypts what `seal` made; throws (without the secret in the message) when it fails. */
export function open(key: Buffer, sealed: string, aad = ''): string {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('not a sealed secret');
  const [iv, tag, ct] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  } catch {
    throw new Error('the sealed secret does not open with this key (another master key, or altered)');
  }
}

/** What the API shows of a secret: its last 4 characters. */
export function mask(secret: string): string {
  return secret.length <= 4 ? '••••' : `••••${secret.slice(-4)}`;
}
