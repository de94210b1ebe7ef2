import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeys } from './keys.ts';
import { RemoteJwks } from './remote-jwks.ts';
import { TokenService, TokenVerifier } from './tokens.ts';

describe('RemoteJwks (a sub verifying the main’s tokens)', () => {
  let server: Server;
  let url = '';
  let served: TokenService;
  let down = false;
  let requests = 0;
  const dirs: string[] = [];

  async function keys(): Promise<TokenService> {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-jwks-'));
    dirs.push(dir);
    return new TokenService(await loadOrCreateKeys(dir));
  }

  beforeAll(async () => {
    served = await keys();
    server = createServer((_req, res) => {
      requests++;
      if (down) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served.jwksDocument()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/.well-known/jwks.json`;
  });
  afterAll(() => {
    server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('verifies, follows a key rotation with one fetch, and fetches at most once a minute for unknown keys', async () => {
    let now = 1_000_000;
    const jwks = new RemoteJwks({ url, now: () => now });
    const verifier = new TokenVerifier(jwks.getKey);
    const first = served;
    const t1 = await first.sign({ sub: 's1', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    requests = 0;
    expect((await verifier.authorize(t1, 'live/a', 'read')).sub).toBe('s1');
    expect(requests).toBe(1);
    await verifier.authorize(t1, 'live/a', 'read');
    expect(requests).toBe(1); // cached

    // The main rotates its key: the first token with the new kid refetches once.
    served = await keys();
    now += 61_000;
    const t2 = await served.sign({ sub: 's2', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    expect((await verifier.authorize(t2, 'live/a', 'read')).sub).toBe('s2');
    expect(requests).toBe(2);

    // A token signed by a key the main never served: refused, and no second fetch within a minute.
    const stranger = await keys();
    const t3 = await stranger.sign({ sub: 'x', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    await expect(verifier.authorize(t3, 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    now += 10_000;
    await expect(verifier.authorize(t3, 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(requests).toBe(2);
    // Scope is still checked.
    await expect(verifier.authorize(t2, 'live/b', 'read')).rejects.toMatchObject({ code: 'TOKEN_SCOPE' });
  });

  it('keeps the last good keys while the main is down', async () => {
    let now = 5_000_000;
    served = await keys();
    const jwks = new RemoteJwks({ url, now: () => now });
    const verifier = new TokenVerifier(jwks.getKey);
    expect(await jwks.refresh()).toBe(true);
    const t = await served.sign({ sub: 's', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    down = true;
    now += 120_000;
    expect((await verifier.authorize(t, 'live/a', 'read')).sub).toBe('s');
    const other = await keys();
    const u = await other.sign({ sub: 'o', role: 'student', path: 'live/a', actions: ['read'] }, '1h');
    await expect(verifier.authorize(u, 'live/a', 'read')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(jwks.loaded).toBe(true);
    down = false;
  });

  it('a node token is accepted only as a node token', async () => {
    const svc = await keys();
    const node = await svc.signNode('sub-1', '1h');
    expect((await svc.verifyNode(node)).sub).toBe('sub-1');
    await expect(svc.verify(node)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const media = await svc.sign({ sub: 'a', role: 'admin', path: 'live/a', actions: ['read'] }, '1h');
    await expect(svc.verifyNode(media)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});
