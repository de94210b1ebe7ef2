/**
 * The main's CSR signing endpoint (`POST /api/cluster/nodes/:id/certificate`): a sub's node
 * token is required and must name the node; a CSR asking for a wildcard, a malformed name or
 * a non-address name is refused (CSR_INVALID); a good CSR is answered with a chain that
 * verifies against the main's CA (served over real TLS); a main without a local CA answers
 * LOCAL_CA_UNAVAILABLE.
 */
import { webcrypto, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalTls } from '../src/control/tls/local-ca.ts';
import { makeNodeCsr, NodeCertificate, signNodeCsr } from '../src/control/tls/node-cert.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startTestNode, type TestNode } from './helpers/node.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A CSR naming whatever `names` says, unchecked (what a misbehaving sub could send). */
async function rawCsr(names: { type: string; value: string }[]): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=sub',
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.SubjectAlternativeNameExtension(names as { type: 'dns'; value: string }[], false)],
  });
  return csr.toString('pem');
}

let main: TestNode;
let plain: TestNode;

async function ask(
  base: string,
  id: string,
  csr: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  const res = await fetch(`${base}/api/cluster/nodes/${id}/certificate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ csr }),
  });
  return { status: res.status, body: (await res.json()) as never };
}

beforeAll(async () => {
  main = await startTestNode({ https: true, httpsPort: 0, publicHost: 'class.school.example' });
  plain = await startTestNode();
}, 60_000);
afterAll(async () => {
  await main?.stop();
  await plain?.stop();
});

describe('POST /api/cluster/nodes/:id/certificate', () => {
  it('refuses a request without a node token, with a bad one, or with another node’s', async () => {
    const { csr } = await makeNodeCsr(['127.0.0.1', 'localhost']);
    const none = await ask(main.http, 'sub-1', csr);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('TOKEN_MISSING');
    const student = await main.token('student', 'live/x', ['read']);
    const wrong = await ask(main.http, 'sub-1', csr, student);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('TOKEN_INVALID');
    const other = await ask(main.http, 'sub-1', csr, await main.node.tokens.signNode('sub-2', '1h'));
    expect(other.status).toBe(403);
    expect(other.body.error?.code).toBe('TOKEN_SCOPE');
    expect(JSON.stringify([none, wrong, other])).not.toContain('BEGIN CERTIFICATE');
  });

  it('refuses CSRs naming wildcards, malformed names, e-mail names or no name at all', async () => {
    const token = await main.node.tokens.signNode('sub-1', '1h');
    const bad: { type: string; value: string }[][] = [
      [{ type: 'dns', value: '*.school.kr' }],
      [
        { type: 'ip', value: '10.0.0.5' },
        { type: 'dns', value: '*' },
      ],
      [{ type: 'dns', value: 'bad_name.local' }],
      [{ type: 'dns', value: 'trailing.dot.' }],
      [{ type: 'dns', value: '10.0.0.256' }],
      [{ type: 'email', value: 'it@school.kr' }],
      [{ type: 'ip', value: '0.0.0.0' }],
      // Every device of the school trusts the CA: no names of other sites.
      [{ type: 'dns', value: 'www.google.com' }],
      [{ type: 'dns', value: 'school.example.evil.com' }],
      [
        { type: 'dns', value: 'sub1.local' },
        { type: 'dns', value: 'accounts.example.org' },
      ],
      [],
    ];
    for (const names of bad) {
      const r = await ask(main.http, 'sub-1', await rawCsr(names), token);
      expect(r.status, JSON.stringify(names)).toBe(400);
      expect(r.body.error?.code, JSON.stringify(names)).toBe('CSR_INVALID');
    }
    const garbage = await ask(main.http, 'sub-1', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n', token);
    expect(garbage.status).toBe(400);
    expect(garbage.body.error?.code).toBe('CSR_INVALID');
  });

  it('answers a chain that verifies against the main’s CA, for exactly the names asked', async () => {
    const token = await main.node.tokens.signNode('sub-1', '1h');
    const { csr, key } = await makeNodeCsr([
      '127.0.0.1',
      '::1',
      'localhost',
      'sub1',
      'sub1.local',
      'sub1.school.example',
    ]);
    expect(csr).not.toContain('PRIVATE KEY');
    const r = await ask(main.http, 'sub-1', csr, token);
    expect(r.status).toBe(200);
    const caPem = await (await fetch(`${main.http}/tls/ca.pem`)).text();
    expect(r.body.ca).toBe(caPem);
    const chain = String(r.body.chain);
    expect(chain.startsWith(String(r.body.cert))).toBe(true);
    expect(chain.endsWith(caPem)).toBe(true);

    const leaf = new X509Certificate(String(r.body.cert));
    const ca = new X509Certificate(caPem);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual(
      [
        'DNS:localhost',
        'DNS:sub1',
        'DNS:sub1.local',
        'DNS:sub1.school.example',
        'IP Address:0:0:0:0:0:0:0:1',
        'IP Address:127.0.0.1',
      ].sort(),
    );
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(new Date(leaf.validTo).getTime()).toBeLessThanOrEqual(Date.now() + 398 * 86_400_000);

    // Real TLS with the chain and the sub's own key: a client trusting only the CA accepts it.
    const server = createServer({ cert: chain, key }, (s) => s.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      const sock = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'sub1.school.example' });
      await once(sock, 'secureConnect');
      expect(sock.authorized).toBe(true);
      expect(sock.getPeerCertificate().issuer.CN).toBe(ca.subject.match(/CN=([^\n,]+)/)?.[1]);
      sock.destroy();
    } finally {
      server.close();
    }
  });

  it('answers LOCAL_CA_UNAVAILABLE on a main without HTTPS', async () => {
    const token = await plain.node.tokens.signNode('sub-1', '1h');
    const { csr } = await makeNodeCsr(['127.0.0.1']);
    const r = await ask(plain.http, 'sub-1', csr, token);
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('LOCAL_CA_UNAVAILABLE');
  });
});

describe('a sub’s certificate (NodeCertificate)', () => {
  it('keeps it in its data dir, reuses it, and renews it before expiry or when its names change', async () => {
    const mainDir = mkdtempSync(join(tmpdir(), 'airclass-main-ca-'));
    const subDir = mkdtempSync(join(tmpdir(), 'airclass-sub-ca-'));
    try {
      let caDir = mainDir;
      const ca = await ensureLocalTls({ dataDir: caDir, sans: ['localhost'], label: 'test' });
      const sent: string[] = [];
      let clock = new Date();
      // The main's endpoints, in process: what the sub sends is checked and signed as the main does.
      const fake = (async (url: string, init?: RequestInit) => {
        if (url.endsWith('/tls/ca.pem')) {
          return new Response(readFileSync(join(caDir, 'tls', 'ca.pem'), 'utf8'), { status: 200 });
        }
        sent.push(String(init?.body));
        const { csr } = JSON.parse(String(init?.body)) as { csr: string };
        const issued = await signNodeCsr({ dataDir: caDir, nodeId: 'sub-1', csr, now: clock });
        return new Response(JSON.stringify(issued), { status: 200 });
      }) as typeof fetch;
      const make = (sans: string[]) =>
        new NodeCertificate({
          dataDir: subDir,
          mainUrl: 'http://main:8000',
          token: 'node-token',
          id: 'sub-1',
          sans,
          logger: createLogger({ level: 'silent' }),
          fetch: fake,
          now: () => clock,
        });
      const first = make(['127.0.0.1', 'localhost']);
      expect(first.current).toBeUndefined();
      expect(await first.refresh()).toBe(true);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toContain('CERTIFICATE REQUEST');
      expect(sent[0]).not.toContain('PRIVATE KEY');
      const keyFile = join(first.dir, 'key.pem');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(new X509Certificate(first.current!.cert).checkIssued(new X509Certificate(ca.caPem))).toBe(true);

      // A restart reuses the stored certificate.
      const again = make(['127.0.0.1', 'localhost']);
      expect(again.current?.cert).toBe(first.current!.cert);
      expect(await again.refresh()).toBe(false);
      expect(sent).toHaveLength(1);

      // A new address: a new certificate naming it, with a new key.
      const moved = make(['127.0.0.1', 'localhost', '10.9.8.7']);
      expect(await moved.refresh()).toBe(true);
      expect(moved.current!.sans).toContain('10.9.8.7');
      const key2 = readFileSync(keyFile, 'utf8');
      expect(key2).not.toBe(first.current!.key);

      // 380 days on, 17 days before its 397-day expiry: renewed.
      clock = new Date(Date.now() + 380 * 86_400_000);
      const later = make(['127.0.0.1', 'localhost', '10.9.8.7']);
      expect(later.stale()).toBe(true);
      expect(await later.refresh()).toBe(true);
      expect(later.current!.notAfter.getTime()).toBeGreaterThan(clock.getTime() + 300 * 86_400_000);

      // The main got a new CA (its data dir was remade): the sub asks again at once.
      caDir = mkdtempSync(join(tmpdir(), 'airclass-main-ca2-'));
      const ca2 = await ensureLocalTls({ dataDir: caDir, sans: ['localhost'], label: 'test 2' });
      const after = make(['127.0.0.1', 'localhost', '10.9.8.7']);
      expect(after.stale()).toBe(false);
      expect(await after.refresh()).toBe(true);
      expect(new X509Certificate(after.current!.cert).checkIssued(new X509Certificate(ca2.caPem))).toBe(true);
      expect(await after.refresh()).toBe(false);
      rmSync(caDir, { recursive: true, force: true });
    } finally {
      rmSync(mainDir, { recursive: true, force: true });
      rmSync(subDir, { recursive: true, force: true });
    }
  });
});
