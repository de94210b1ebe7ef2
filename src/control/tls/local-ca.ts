/**
 * The local certificate authority for HTTPS on a school LAN: one CA made on first start (10
 * years, ECDSA P-256) that a teacher or the IT person trusts once per device, and a server
 * certificate signed by it (≤ 397 days) naming localhost, the loopbacks, every LAN address and
 * `publicHost`. PEM files live in `<dataDir>/tls/` (keys 0600); the CA is reused, the server
 * certificate remade when its names changed or it expires within 30 days.
 */
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, hostname, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** Longest server certificate browsers accept. */
export const SERVER_CERT_DAYS = 397;
/** Remake the server certificate when it expires sooner than this. */
export const RENEW_BEFORE_DAYS = 30;

/** The files of the local CA and server certificate. */
export interface TlsFiles {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/** What the HTTPS listener and `/tls` need. */
export interface TlsMaterial {
  files: TlsFiles;
  /** PEM of the CA certificate (GET /tls/ca.pem). */
  caPem: string;
  /** DER of the CA certificate (GET /tls/ca.crt). */
  caDer: Buffer;
  /** SHA-256 fingerprint of the CA, "AB:CD:…". */
  caFingerprint: string;
  certPem: string;
  keyPem: string;
  sans: string[];
  notAfter: Date;
  /** True when the server certificate was (re)made on this call. */
  issued: boolean;
}

/** The file paths under `<dataDir>/tls/`. */
export function tlsFiles(dataDir: string): TlsFiles {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
}

/** localhost, the loopbacks, every non-internal LAN address and `publicHost`; sorted, unique. */
export function sanList(
  ifaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
  publicHost = '',
): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1']);
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      // A link-local IPv6 address needs a zone id in a URL; no browser reaches it by name.
      if (a.family === 'IPv6' && /^fe80:/i.test(a.address)) continue;
      names.add(a.address.toLowerCase());
    }
  }
  if (publicHost) names.add(publicHost.toLowerCase());
  return [...names].sort();
}

/** True when a server certificate with `have` names, valid until `notAfter`, must be remade. */
export function needsRenewal(
  have: readonly string[],
  want: readonly string[],
  notAfter: Date,
  now = new Date(),
): boolean {
  if (notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY) return true;
  const h = new Set(have.map((s) => s.toLowerCase()));
  return want.some((s) => !h.has(s.toLowerCase()));
}

function isIp(s: string): boolean {
  return /^[0-9.]+$/.test(s) || s.includes(':');
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0]!;
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']) as Promise<CryptoKey>;
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString('hex');
}

function write(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode });
}

/** The names of a certificate's subjectAltName extension. */
export function certSans(pem: string): string[] {
  const alt = new NodeX509(pem).subjectAltName ?? '';
  return (
    alt
      .split(', ')
      .map((s) => s.replace(/^(DNS|IP Address):/, '').toLowerCase())
      .filter(Boolean)
      // Node spells an IPv6 name in full (0:0:0:0:0:0:0:1); compare the short form (::1).
      .map((s) => (s.includes(':') ? new URL(`http://[${s}]/`).hostname.slice(1, -1) : s))
  );
}

/**
 * Loads the local CA and server certificate from `<dataDir>/tls/`, making what is missing,
 * stale or naming other addresses. `label` goes in the CA's name ("AirClass local CA <label>").
 */
export async function ensureLocalTls(opts: {
  dataDir: string;
  sans?: string[];
  label?: string;
  now?: Date;
}): Promise<TlsMaterial> {
  const files = tlsFiles(opts.dataDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const now = opts.now ?? new Date();
  const sans = opts.sans ?? sanList();

  let caPem: string;
  let caKey: CryptoKey;
  if (existsSync(files.caCert) && existsSync(files.caKey)) {
    caPem = readFileSync(files.caCert, 'utf8');
    caKey = await importKey(readFileSync(files.caKey, 'utf8'));
  } else {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const name = `CN=AirClass local CA ${(opts.label ?? hostname()).replace(/[,=+<>#;"\\]/g, ' ')}, O=AirClass`;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 3650 * DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caPem = ca.toString('pem') + '\n';
    caKey = keys.privateKey;
    write(files.caKey, pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), 0o600);
    write(files.caCert, caPem, 0o644);
  }
  const ca = new x509.X509Certificate(caPem);

  let issued = false;
  let certPem = existsSync(files.cert) ? readFileSync(files.cert, 'utf8') : '';
  let keyPem = existsSync(files.key) ? readFileSync(files.key, 'utf8') : '';
  let stale = !certPem || !keyPem;
  if (!stale) {
    const cur = new NodeX509(certPem);
    stale =
      needsRenewal(certSans(certPem), sans, new Date(cur.validTo), now) ||
      !cur.checkIssued(new NodeX509(caPem));
  }
  if (stale) {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${sans.find((s) => s !== 'localhost' && !isIp(s)) ?? sans.find((s) => !s.startsWith('127.') && s !== '::1' && s !== 'localhost') ?? 'localhost'}, O=AirClass`,
      issuer: ca.subject,
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + SERVER_CERT_DAYS * DAY),
      signingKey: caKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          sans.map((s) => (isIp(s) ? { type: 'ip', value: s } : { type: 'dns', value: s })),
          false,
        ),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    certPem = cert.toString('pem') + '\n';
    keyPem = pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    write(files.key, keyPem, 0o600);
    write(files.cert, certPem, 0o644);
    issued = true;
  }
  const node = new NodeX509(certPem);
  return {
    files,
    caPem,
    caDer: Buffer.from(ca.rawData),
    caFingerprint: new NodeX509(caPem).fingerprint256,
    certPem,
    keyPem,
    sans: certSans(certPem),
    notAfter: new Date(node.validTo),
    issued,
  };
}
