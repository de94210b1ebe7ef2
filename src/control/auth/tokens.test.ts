import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateKeys } from './keys.ts';
import { TokenService } from './tokens.ts';

describe('keys and tokens', () => {
  it('makes a key once, keeps it private, and reloads the same one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-keys-'));
    const a = await loadOrCreateKeys(dir);
    const b = await loadOrCreateKeys(dir);
    expect(b.kid).toBe(a.kid);
    expect(a.publicJwk).not.toHaveProperty('d');
    expect(statSync(join(dir, 'keys', 'ed25519.jwk.json')).mode & 0o077).toBe(0);
  });

  it('scopes a token to one path and action', async () => {
    const svc = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-keys-'))));
    const t = await svc.sign({ sub: 's1', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    await expect(svc.authorize(t, 'live/a', 'read')).resolves.toMatchObject({ role: 'student' });
    await expect(svc.authorize(t, 'live/b', 'read')).rejects.toMatchObject({ code: 'TOKEN_SCOPE' });
    await expect(svc.authorize(t, 'live/a', 'publish')).rejects.toMatchObject({ code: 'TOKEN_SCOPE' });
    await expect(svc.authorize(undefined, 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_MISSING' });
    await expect(svc.authorize(t + 'x', 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('refuses a token signed by another key and an expired one', async () => {
    const mine = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-keys-'))));
    const other = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-keys-'))));
    const foreign = await other.sign(
      { sub: 'x', role: 'teacher', path: 'live/a', actions: ['publish'] },
      '1h',
    );
    await expect(mine.authorize(foreign, 'live/a', 'publish')).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    const expired = await mine.sign({ sub: 'x', role: 'teacher', path: 'live/a', actions: ['read'] }, '-1s');
    await expect(mine.authorize(expired, 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('gives a student one token for the API and for reading the class path', async () => {
    const svc = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-keys-'))));
    const t = await svc.signAccess(
      {
        sub: 'p1',
        role: 'student',
        classId: 'c1',
        name: '민지',
        media: { path: 'live/c1', actions: ['read'] },
        epoch: 3,
      },
      '1h',
    );
    const claims = await svc.verifyAccess(t);
    expect(claims).toMatchObject({
      sub: 'p1',
      role: 'student',
      classId: 'c1',
      name: '민지',
      media: { path: 'live/c1', actions: ['read'] },
      epoch: 3,
    });
    // Every token has an id (for sign-out) and its issue time in ms (for session resets).
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(claims.issuedAtMs! - Date.now())).toBeLessThan(60_000);
    await expect(svc.authorize(t, 'live/c1', 'read')).resolves.toMatchObject({ classId: 'c1', epoch: 3 });
    await expect(svc.authorize(t, 'live/c1', 'publish')).rejects.toMatchObject({ code: 'TOKEN_SCOPE' });
    await expect(svc.authorize(t, 'live/c2', 'read')).rejects.toMatchObject({ code: 'TOKEN_SCOPE' });
  });

  it('keeps session tokens out of media and media tokens out of the API', async () => {
    const svc = new TokenService(await loadOrCreateKeys(mkdtempSync(join(tmpdir(), 'airclass-keys-'))));
    const session = await svc.signAccess({ sub: 'u1', role: 'teacher' }, '1h');
    await expect(svc.verifyAccess(session)).resolves.toMatchObject({ sub: 'u1', role: 'teacher' });
    await expect(svc.verify(session)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const media = await svc.sign({ sub: 'x', role: 'admin', path: 'live/a', actions: ['read'] }, '1h');
    await expect(svc.verifyAccess(media)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const noClass = await svc.signAccess({ sub: 'm', role: 'monitor' }, '1h');
    await expect(svc.verifyAccess(noClass)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const expired = await svc.signAccess({ sub: 'u1', role: 'admin' }, '-1s');
    await expect(svc.verifyAccess(expired)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});
