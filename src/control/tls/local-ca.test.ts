import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLocalTls, needsRenewal, sanList } from './local-ca.ts';

const DAY = 86_400_000;

describe('sanList', () => {
  it('names localhost, loopbacks, LAN addresses and publicHost; skips internal and link-local', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: '192.168.0.10', family: 'IPv4', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: 'fd00::10', family: 'IPv6', internal: false },
      ],
    } as unknown as Parameters<typeof sanList>[0];
    expect(sanList(ifaces, 'Class.School.kr')).toEqual(
      ['127.0.0.1', '192.168.0.10', '::1', 'class.school.kr', 'fd00::10', 'localhost'].sort(),
    );
  });
});

describe('needsRenewal', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('renews when a wanted name is missing or expiry is within 30 days', () => {
    const far = new Date(now.getTime() + 200 * DAY);
    expect(needsRenewal(['localhost', '10.0.0.2'], ['localhost', '10.0.0.2'], far, now)).toBe(false);
    expect(needsRenewal(['localhost'], ['localhost', '10.0.0.2'], far, now)).toBe(true);
    expect(needsRenewal(['localhost'], ['localhost'], new Date(now.getTime() + 29 * DAY), now)).toBe(true);
  });
});

describe('ensureLocalTls', () => {
  it('makes a CA and a server certificate openssl verifies, and reuses the CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airclass-tls-'));
    const sans = ['127.0.0.1', '192.168.0.10', '::1', 'localhost'];
    const t = await ensureLocalTls({ dataDir: dir, sans, label: 'test' });
    expect(t.issued).toBe(true);
    expect(statSync(t.files.key).mode & 0o777).toBe(0o600);
    expect(statSync(t.files.caKey).mode & 0o777).toBe(0o600);
    const ok = execFileSync('openssl', ['verify', '-CAfile', t.files.caCert, t.files.cert], {
      encoding: 'utf8',
    });
    expect(ok).toContain(': OK');
    const text = execFileSync('openssl', ['x509', '-in', t.files.cert, '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('DNS:localhost');
    expect(text).toContain('IP Address:192.168.0.10');
    expect(text).toContain('TLS Web Server Authentication');
    const caText = execFileSync('openssl', ['x509', '-in', t.files.caCert, '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(caText).toContain('CA:TRUE');
    expect(caText).toContain('AirClass local CA test');
    expect(t.caFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const again = await ensureLocalTls({ dataDir: dir, sans, label: 'test' });
    expect(again.issued).toBe(false);
    const moved = await ensureLocalTls({ dataDir: dir, sans: [...sans, '10.1.2.3'], label: 'test' });
    expect(moved.issued).toBe(true);
    expect(moved.caFingerprint).toBe(t.caFingerprint);
    expect(moved.sans).toContain('10.1.2.3');
    expect(readFileSync(t.files.caCert, 'utf8')).toBe(t.caPem);
  });
});
