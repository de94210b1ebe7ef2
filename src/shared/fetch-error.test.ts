import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLocalTls } from '../control/tls/local-ca.ts';
import { describeFetchError } from './fetch-error.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('describeFetchError', () => {
  it("names an untrusted local CA and what to do (a sub given the main's https URL)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-fetcherr-'));
    dirs.push(dir);
    const tls = await ensureLocalTls({ dataDir: dir, sans: ['127.0.0.1', 'localhost'] });
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_q, r) => r.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/api/cluster/nodes`;
    try {
      const e = await fetch(url).then(
        () => null,
        (err: unknown) => err,
      );
      const text = describeFetchError(e, url);
      expect(text).toMatch(/fetch failed: [A-Z_]+/);
      expect(text).toContain("give it the main's http:// URL");
      expect(text).toContain('NODE_EXTRA_CA_CERTS');
    } finally {
      server.close();
    }
  });

  it('names a refused connection by its code, without the certificate hint', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const url = `http://127.0.0.1:${port}/`;
    const e = await fetch(url).then(
      () => null,
      (err: unknown) => err,
    );
    const text = describeFetchError(e, url);
    expect(text).toContain('ECONNREFUSED');
    expect(text).not.toContain('NODE_EXTRA_CA_CERTS');
  });
});
