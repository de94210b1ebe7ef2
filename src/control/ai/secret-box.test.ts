import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMasterKey, mask, open, parseKey, seal } from './secret-box.ts';

const dir = mkdtempSync(join(tmpdir(), 'airclass-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secret box (AES-256-GCM at rest)', () => {
  const key = randomBytes(32);
  const secret = 'AIzaSyD-example-key-1234';

  it('round-trips a secret, and the sealed form does not contain it', () => {
    const sealed = seal(key, secret, 'gemini');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(secret);
    expect(sealed).not.toContain('1234');
    expect(open(key, sealed, 'gemini')).toBe(secret);
    // A fresh IV each time.
    expect(seal(key, secret, 'gemini')).not.toBe(sealed);
  });

  it('refuses another key, another purpose and any altered byte, without showing the secret', () => {
    const sealed = seal(key, secret, 'gemini');
    expect(() => open(randomBytes(32), sealed, 'gemini')).toThrow(/does not open/);
    expect(() => open(key, sealed, 'other')).toThrow(/does not open/);
    const parts = sealed.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    let message = '';
    try {
      open(key, parts.join('.'), 'gemini');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/does not open/);
    expect(message).not.toContain(secret);
    expect(() => open(key, 'plain-text', 'gemini')).toThrow(/not a sealed secret/);
  });

  it('makes the master key once in the data dir (0600), or takes AIRCLASS_SECRET_KEY', () => {
    const k1 = loadMasterKey(dir, {});
    expect(k1.length).toBe(32);
    expect(statSync(join(dir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(loadMasterKey(dir, {}).equals(k1)).toBe(true);
    expect(parseKey(readFileSync(join(dir, 'secret.key'), 'utf8'))?.equals(k1)).toBe(true);
    const env = randomBytes(32);
    expect(loadMasterKey(dir, { AIRCLASS_SECRET_KEY: env.toString('base64') }).equals(env)).toBe(true);
    expect(loadMasterKey(dir, { AIRCLASS_SECRET_KEY: env.toString('hex') }).equals(env)).toBe(true);
    expect(() => loadMasterKey(dir, { AIRCLASS_SECRET_KEY: 'short' })).toThrow(/32 bytes/);
  });

  it('masks a secret to its last four characters', () => {
    expect(mask(secret)).toBe('••••1234');
    expect(mask('abc')).toBe('••••');
  });
});
