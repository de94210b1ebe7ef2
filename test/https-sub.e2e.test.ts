/**
 * HTTPS on a cluster with one CA for the school (issue 11): a real `airclass main` with HTTPS
 * and a real `airclass sub` that gets its certificate from the main's local CA (its own key,
 * a CSR with its node token). ffmpeg publishes to the main; Chromium trusting only the main's
 * CA (an NSS database, as a teacher installs it) opens the https watch page on the main, is
 * assigned to the sub and plays video with sound over https from the sub (a cross-origin WHEP
 * POST, no mixed content, no certificate error). A page on plain http keeps http URLs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { homeTrusting, type TrustingHome } from './helpers/nss.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { CLI, NODE_BIN, REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';

const run = promisify(execFile);
const ADMIN = { email: 'admin@airclass.local', password: 'https-sub-e2e-admin-1' };

let main: TestServer;
let sub: { proc: ChildProcess; http: string; httpsPort: number; dataDir: string; log: string[] } | undefined;
let publisher: Publisher | undefined;
let browser: TestBrowser | undefined;
let trust: TrustingHome | undefined;
let caPem = '';

async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${main.httpUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (
      await Promise.resolve()
        .then(cond)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function health(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).json()) as Record<
    string,
    unknown
  >;
}

beforeAll(async () => {
  main = await startServer({
    command: 'main',
    env: {
      AIRCLASS_HTTPS: 'true',
      AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
      AIRCLASS_HOST: '127.0.0.1',
      AIRCLASS_PUBLIC_HOST: '127.0.0.1',
      AIRCLASS_CLUSTER_HEARTBEAT_MS: '1000',
    },
  });
  const k = main.portOffset + 1;
  const { stdout } = await run(NODE_BIN, [CLI, 'node-token', '--data-dir', main.dataDir, '--name', 'sub-1'], {
    cwd: REPO_ROOT,
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'airclass-sub-'));
  const proc = spawn(
    NODE_BIN,
    [
      CLI,
      'sub',
      '--main',
      main.httpUrl,
      '--name',
      'sub-1',
      '--port-offset',
      String(k),
      '--data-dir',
      dataDir,
    ],
    {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        AIRCLASS_NODE_TOKEN: stdout.trim(),
        AIRCLASS_HTTPS: 'true',
        AIRCLASS_WEBRTC_UDP_PORT: '0',
        AIRCLASS_HOST: '127.0.0.1',
        AIRCLASS_PUBLIC_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log: string[] = [];
  const keep = (b: Buffer): void => {
    log.push(...b.toString().split('\n'));
    if (log.length > 300) log.splice(0, log.length - 300);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  sub = { proc, http: `http://127.0.0.1:${8000 + k}`, httpsPort: 8443 + k, dataDir, log };
  await until(
    async () => {
      const h = await health(sub!.http);
      return h.registered === true && typeof h.https === 'string';
    },
    30_000,
    'the sub registered and serving HTTPS',
  );
  caPem = await (await fetch(`${main.httpUrl}/tls/ca.pem`)).text();
}, 120_000);

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  console.log('MAIN', main?.logTail().split('\n').slice(-40).join('\n'));
  console.log('SUB', sub?.log.slice(-40).join('\n'));
});

afterAll(async () => {
  await browser?.close();
  await publisher?.stop();
  if (sub) {
    if (sub.proc.exitCode === null) {
      const exited = once(sub.proc, 'exit');
      sub.proc.kill('SIGTERM');
      const killer = setTimeout(() => sub?.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(sub.dataDir, { recursive: true, force: true });
  }
  await main?.stop();
  trust?.remove();
}, 60_000);

describe('HTTPS on a main and a sub with one CA', () => {
  it('the sub serves a certificate issued by the main’s CA; its key never left it', async () => {
    expect((await health(sub!.http)).https).toBe(`https://127.0.0.1:${sub!.httpsPort}`);
    const sock = connect({ host: '127.0.0.1', port: sub!.httpsPort, ca: caPem });
    await once(sock, 'secureConnect');
    expect(sock.authorized).toBe(true);
    const leaf = new X509Certificate(sock.getPeerX509Certificate()!.raw);
    sock.destroy();
    const ca = new X509Certificate(caPem);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('IP Address:127.0.0.1');
    // The main's CA key stays on the main; the sub holds its own key only.
    expect(existsSync(join(sub!.dataDir, 'tls', 'ca-key.pem'))).toBe(false);
    expect(existsSync(join(sub!.dataDir, 'tls', 'node-sub-1', 'key.pem'))).toBe(true);

    // The operator view names the sub's https URL.
    const admin = (await api<{ token: string }>('POST', '/api/auth/login', ADMIN)).body.token;
    const nodes = await api<{ nodes: { id: string; httpsUrl?: string }[] }>(
      'GET',
      '/api/cluster/nodes',
      undefined,
      admin,
    );
    expect(nodes.body.nodes.find((n) => n.id === 'sub-1')?.httpsUrl).toBe(
      `https://127.0.0.1:${sub!.httpsPort}`,
    );
  });

  it('a Chromium student trusting the CA plays with sound over https from the sub', async () => {
    const admin = (await api<{ token: string }>('POST', '/api/auth/login', ADMIN)).body.token;
    const cls = (
      await api<{ id: string; joinCode: string; rtmp: { streamKey: string } }>(
        'POST',
        '/api/classes',
        { title: 'HTTPS 클러스터' },
        admin,
      )
    ).body;
    publisher = publishTestPattern({
      url: `${main.rtmpUrl}/live/${cls.rtmp.streamKey}`,
      size: '640x360',
      rate: 15,
      bitrate: '500k',
    });
    await until(
      async () => {
        const h = (await health(main.httpUrl)) as {
          paths: { path: string; browserAudio: { codec?: string } }[];
        };
        return h.paths.some((p) => p.path === `live/${cls.id}` && p.browserAudio.codec === 'opus');
      },
      30_000,
      'stream with Opus on the main',
    );

    type Joined = { token: string; whepUrl: string; watchUrl: string };
    // A page on plain http keeps http URLs: the sub's http WHEP URL.
    const onHttp = await api<Joined>('POST', '/api/join', { code: cls.joinCode, name: '학생1' });
    expect(onHttp.status).toBe(200);
    expect(onHttp.body.whepUrl).toBe(`${sub!.http}/live/${cls.id}/whep`);
    // A page on https gets the sub's https URL.
    const s = await api<Joined>('POST', '/api/join', { code: cls.joinCode, name: '학생2' }, undefined, {
      origin: main.httpsUrl,
    });
    expect(s.body.whepUrl).toBe(`https://127.0.0.1:${sub!.httpsPort}/live/${cls.id}/whep`);
    expect(s.body.watchUrl.startsWith(`${main.httpsUrl}/`)).toBe(true);

    trust = homeTrusting(caPem);
    browser = await launchBrowser({ env: { HOME: trust.home } });
    const page = await browser.newPage();
    const res = await page.goto(`${s.body.watchUrl}?jwt=${s.body.token}`);
    expect(res?.status()).toBe(200);
    await page.waitForFunction(() => (window.airclass?.framesDecoded?.() ?? 0) > 30, undefined, {
      timeout: 30_000,
    });
    const m = await page.evaluate(() => ({
      sessionUrl: window.airclass!.sessionUrl,
      transport: window.airclass!.transport,
      origin: location.origin,
    }));
    expect(m.origin).toBe(main.httpsUrl);
    expect(m.sessionUrl?.startsWith(`https://127.0.0.1:${sub!.httpsPort}/live/${cls.id}/whep/`)).toBe(true);
    expect(m.transport ?? 'webrtc').toBe('webrtc');
    await page.waitForFunction(() => (window.airclass?.audioLevel() ?? 0) > 0.01, undefined, {
      timeout: 20_000,
    });
    const frames = await page.evaluate(() => window.airclass!.framesDecoded());
    await page.waitForFunction((f) => (window.airclass?.framesDecoded() ?? 0) > f + 15, frames, {
      timeout: 20_000,
    });
  }, 120_000);
});
