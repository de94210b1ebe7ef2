/**
 * A HOME whose NSS database (~/.pki/nssdb, made with certutil) trusts one CA for TLS servers:
 * what a teacher does once per device with the local CA. Chromium launched with this HOME
 * (launchBrowser({ env: { HOME } })) accepts certificates that CA issued, with no
 * --ignore-certificate-errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary HOME trusting a CA. */
export interface TrustingHome {
  home: string;
  /** Removes the HOME. Idempotent. */
  remove(): void;
}

/** Makes a temporary HOME whose NSS database trusts `caPem` ("C,,": TLS server CA). */
export function homeTrusting(caPem: string, nickname = 'airclass'): TrustingHome {
  const home = mkdtempSync(join(tmpdir(), 'airclass-nss-'));
  const nssdb = join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  const caFile = join(home, 'ca.pem');
  writeFileSync(caFile, caPem);
  const db = `sql:${nssdb}`;
  execFileSync('certutil', ['-d', db, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', db, '-A', '-t', 'C,,', '-n', nickname, '-i', caFile]);
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}
