/**
 * HTTPS on the LAN with the local CA: a real `airclass start`, its CA fetched over plain HTTP
 * and trusted in a fresh NSS database (what a teacher does once per device), then real
 * Chromium signs in over https:// with no certificate error (no --ignore-certificate-errors),
 * gets a Secure cookie and opens the class channel as WSS. With httpRedirect, plain HTTP
 * answers 308 to https except the CA download.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const ADMIN_EMAIL = 'admin@school.example';
const ADMIN_PASSWORD = 'e2e-admin-password';
const WAIT = { timeout: 30_000 };

describe('HTTPS with the local CA', () => {
  let server: TestServer | undefined;
  let browser: TestBrowser | undefined;
  let home = '';

  beforeAll(async () => {
    server = await startServer({
      env: {
        AIRCLASS_HTTPS: 'true',
        AIRCLASS_HTTP_REDIRECT: 'true',
        AIRCLASS_ADMIN_EMAIL: ADMIN_EMAIL,
        AIRCLASS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    });
    home = mkdtempSync(join(tmpdir(), 'airclass-nss-'));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('serves the CA over plain HTTP and sends everything else to HTTPS (308)', async () => {
    const ca = await fetch(`${server!.httpUrl}/tls/ca.pem`);
    expect(ca.status).toBe(200);
    expect(ca.headers.get('content-type')).toContain('application/x-pem-file');
    expect(ca.headers.get('content-disposition')).toContain('airclass-ca.pem');
    const pem = await ca.text();
    expect(pem).toContain('BEGIN CERTIFICATE');
    writeFileSync(join(home, 'ca.pem'), pem);
    const der = await fetch(`${server!.httpUrl}/tls/ca.crt`);
    expect(der.headers.get('content-type')).toContain('application/x-x509-ca-cert');
    expect((await der.arrayBuffer()).byteLength).toBeGreaterThan(200);

    const page = await fetch(`${server!.httpUrl}/tls`);
    const fp = execFileSync(
      'openssl',
      ['x509', '-in', join(home, 'ca.pem'), '-noout', '-fingerprint', '-sha256'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('=')[1]!;
    expect(await page.text()).toContain(fp);

    const login = await fetch(`${server!.httpUrl}/login`, { redirect: 'manual' });
    expect(login.status).toBe(308);
    expect(login.headers.get('location')).toBe(`${server!.httpsUrl}/login`);
    expect((await fetch(`${server!.httpUrl}/ready`)).status).toBe(200);
  });

  it('signs in over https in Chromium that trusts the CA, with a Secure cookie and a WSS channel', async () => {
    mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
    const db = `sql:${join(home, '.pki', 'nssdb')}`;
    execFileSync('certutil', ['-d', db, '-N', '--empty-password']);
    execFileSync('certutil', ['-d', db, '-A', '-t', 'C,,', '-n', 'airclass', '-i', join(home, 'ca.pem')]);
    browser = await launchBrowser({ env: { HOME: home } });
    const page = await browser.newPage();
    const res = await page.goto(`${server!.httpsUrl}/login`);
    expect(res?.status()).toBe(200);
    await page.fill('#email', ADMIN_EMAIL);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('#submit');
    await page.waitForURL(/\/(console|admin|dashboard)/, WAIT);
    const cookies = await browser.context.cookies(server!.httpsUrl);
    expect(cookies.length).toBeGreaterThan(0);
    expect(cookies.every((c) => c.secure)).toBe(true);

    const first = await page.evaluate(async () => {
      const r = await fetch('/api/classes', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'HTTPS' }),
      });
      const c = (await r.json()) as { id: string };
      return await new Promise<string>((done) => {
        const ws = new WebSocket(`wss://${location.host}/ws?classId=${c.id}`);
        ws.onmessage = (m) => {
          done((JSON.parse(String(m.data)) as { type: string }).type);
          ws.close();
        };
        ws.onerror = () => done('error');
      });
    });
    expect(first).toBe('welcome');
  }, 90_000);
});
