import { describe, expect, it } from 'vitest';
import { hashPassword, verifyDummy, verifyPassword } from './passwords.ts';

const FAST = { N: 1 << 10, r: 8, p: 1 };

describe('passwords', () => {
  it('stores the parameters and a random salt in the hash string', async () => {
    const a = await hashPassword('correct horse', FAST);
    const b = await hashPassword('correct horse', FAST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashPassword('비밀번호 123', FAST);
    expect(await verifyPassword('비밀번호 123', h)).toBe(true);
    expect(await verifyPassword('비밀번호 124', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('uses the default parameters (N=2^15) when none are given', async () => {
    const h = await hashPassword('pw');
    expect(h.startsWith('scrypt$32768$8$1$')).toBe(true);
    expect(await verifyPassword('pw', h)).toBe(true);
  });

  it('never matches a malformed or hostile stored string', async () => {
    const h = await hashPassword('pw', FAST);
    const parts = h.split('$');
    for (const bad of [
      '',
      'plain',
      'bcrypt$1$2$3$4$5',
      h.replace(/^scrypt\$1024/, 'scrypt$1000'), // not a power of two
      h.replace(/^scrypt\$1024/, `scrypt$${2 ** 24}`), // too expensive
      [...parts.slice(0, 5), ''].join('$'),
    ]) {
      expect(await verifyPassword('pw', bad)).toBe(false);
    }
  });

  it('spends time on unknown accounts and always says no', async () => {
    expect(await verifyDummy('anything')).toBe(false);
  });
});
