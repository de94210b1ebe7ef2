/**
 * HTTPS for sub nodes with one CA for the whole school: a sub makes its own key pair (the key
 * never leaves it), sends a certificate request (CSR) naming its addresses to the main with its
 * node token, and the main signs it with its local CA (`local-ca.ts`). The sub keeps the
 * certificate in `<dataDir>/tls/node-<name>/` and asks again before it expires or when its
 * addresses change, so a device that trusts the main's CA trusts every sub too.
 */
import { createPrivateKey, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { AirError, isAirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { certSans, needsRenewal, SERVER_CERT_DAYS, tlsFiles } from './local-ca.ts';
import { describeFetchError } from '../../shared/fetch-error.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** Most names a sub's certificate may carry. */
export const MAX_NODE_SANS = 32;
/** Largest CSR accepted, in PEM characters. */
export const MAX_CSR_CHARS = 16_384;
/** Domain suffixes of LAN-only names a sub may always carry. */
export const LAN_SUFFIXES = ['local', 'lan', 'home.arpa', 'internal', 'intranet', 'localdomain'] as const;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

/**
 * One name a sub may have in its certificate, normalized (lowercase; IPv6 in short form):
 * an IPv4/IPv6 address other than the unspecified one, or a host name of letters, digits and
 * hyphens (no wildcard, no trailing dot, not all-digit at its end). CSR_INVALID otherwise.
 */
export function nodeSan(name: string): { type: 'ip' | 'dns'; value: string } {
  const s = name.trim().toLowerCase();
  const v = isIP(s);
  if (v === 4) {
    if (s === '0.0.0.0' || s === '255.255.255.255')
      throw new AirError('CSR_INVALID', `The name "${s}" may not be in a certificate.`);
    return { type: 'ip', value: s };
  }
  if (v === 6) {
    const short = new URL(`http://[${s}]/`).hostname.slice(1, -1);
    if (short === '::') throw new AirError('CSR_INVALID', 'The name "::" may not be in a certificate.');
    return { type: 'ip', value: short };
  }
  if (s.includes('*')) throw new AirError('CSR_INVALID', `Wildcard names are refused ("${s.slice(0, 80)}").`);
  if (!HOSTNAME.test(s) || /^[0-9]+$/.test(s.slice(s.lastIndexOf('.') + 1))) {
    throw new AirError('CSR_INVALID', `"${s.slice(0, 80)}" is neither an IP address nor a host name.`);
  }
  return { type: 'dns', value: s };
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0]! &= 0x7f;
  return Buffer.from(b).toString('hex');
}

/**
 * True when a sub may carry the host name `dns`: a single-label name (`sub1`, `localhost`), a
 * LAN-only name (`.local`, `.lan`, `.home.arpa`, …), or a name in the domain of one of
 * `domains` (the main's own host name: `class.school.kr` allows `*.school.kr`). Every device
 * of the school trusts the CA, so it must not sign other sites' names for a leaked node token.
 */
export function nodeNameAllowed(dns: string, domains: readonly string[] = []): boolean {
  if (!dns.includes('.')) return true;
  const under = (d: string): boolean => dns === d || dns.endsWith(`.${d}`);
  if (LAN_SUFFIXES.some(under)) return true;
  return domains.some((h) => {
    const d = h.toLowerCase().replace(/\.$/, '');
    if (isIP(d) || !d.includes('.')) return false;
    const labels = d.split('.');
    // class.school.kr → school.kr; school.kr stays itself (never a bare TLD).
    return under(labels.length > 2 ? labels.slice(1).join('.') : d);
  });
}

/** A node's certificate as the main issues it. */
export interface IssuedNodeCert {
  /** PEM of the node's certificate. */
  cert: string;
  /** PEM of the certificate then the CA: what the node's HTTPS serves. */
  chain: string;
  /** PEM of the CA. */
  ca: string;
  /** ISO time the certificate expires. */
  notAfter: string;
}

/**
 * The main signs a sub's CSR with the local CA in `<dataDir>/tls/`: the CSR's signature must
 * verify (the sub holds the key), its key must be ECDSA P-256, and every name in its
 * subjectAltName must pass {@link nodeSan} and {@link nodeNameAllowed}. The certificate is a server certificate for those
 * names, ≤ 397 days and never past the CA. CSR_INVALID for a bad request; LOCAL_CA_UNAVAILABLE
 * when this main has no local CA.
 */
export async function signNodeCsr(opts: {
  dataDir: string;
  nodeId: string;
  csr: string;
  /** The main's host names, whose domain the sub's names may be in ({@link nodeNameAllowed}). */
  domains?: readonly string[];
  now?: Date;
}): Promise<IssuedNodeCert> {
  const files = tlsFiles(opts.dataDir);
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) throw new AirError('LOCAL_CA_UNAVAILABLE');
  if (opts.csr.length > MAX_CSR_CHARS) throw new AirError('CSR_INVALID', 'The CSR is too large.');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(opts.csr);
  } catch {
    throw new AirError('CSR_INVALID', 'The CSR is not a PEM PKCS#10 certificate request.');
  }
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    throw new AirError('CSR_INVALID', 'The CSR’s key must be ECDSA P-256.');
  }
  if (!(await csr.verify().catch(() => false))) {
    throw new AirError('CSR_INVALID', 'The CSR’s signature does not verify.');
  }
  const ext = csr.getExtension('2.5.29.17');
  if (!ext) throw new AirError('CSR_INVALID', 'The CSR names no address (subjectAltName).');
  const items = new x509.SubjectAlternativeNameExtension(ext.rawData).names.items;
  if (items.length === 0 || items.length > MAX_NODE_SANS) {
    throw new AirError('CSR_INVALID', `The CSR must name 1 to ${MAX_NODE_SANS} addresses.`);
  }
  const names = new Map<string, { type: 'ip' | 'dns'; value: string }>();
  for (const it of items) {
    if (it.type !== 'dns' && it.type !== 'ip') {
      throw new AirError('CSR_INVALID', `Only IP addresses and host names may be named (not ${it.type}).`);
    }
    const n = nodeSan(it.value);
    if (it.type === 'ip' && n.type !== 'ip')
      throw new AirError('CSR_INVALID', `"${n.value}" is no IP address.`);
    if (n.type === 'dns' && !nodeNameAllowed(n.value, opts.domains)) {
      throw new AirError(
        'CSR_INVALID',
        `"${n.value}" is outside this school's names (single-label, .local/.lan/.home.arpa/.internal, or the main's domain); give the sub a tlsCert, or set the main's publicHost in that domain.`,
      );
    }
    names.set(n.value, n);
  }

  const caPem = readFileSync(files.caCert, 'utf8');
  const caKeyDer = x509.PemConverter.decode(readFileSync(files.caKey, 'utf8'))[0]!;
  const caKey = (await webcrypto.subtle.importKey('pkcs8', caKeyDer, ALG, false, ['sign'])) as CryptoKey;
  const ca = new x509.X509Certificate(caPem);
  const now = opts.now ?? new Date();
  const notAfter = new Date(Math.min(now.getTime() + SERVER_CERT_DAYS * DAY, ca.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.nodeId.replace(/[^A-Za-z0-9._-]/g, '-')}, OU=AirClass sub node, O=AirClass`,
    issuer: ca.subject,
    notBefore: new Date(now.getTime() - DAY),
    notAfter,
    signingKey: caKey,
    publicKey: csr.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([...names.values()], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return { cert: certPem, chain: certPem + caPem, ca: caPem, notAfter: notAfter.toISOString() };
}

/** A CSR for `sans` signed with a new key pair; the private key stays with the caller. */
export async function makeNodeCsr(sans: readonly string[]): Promise<{ csr: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=AirClass sub node',
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        sans.map((s) => nodeSan(s)),
        false,
      ),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csr: csr.toString('pem') + '\n', key: x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n' };
}

/** What a sub's HTTPS serves. */
export interface NodeTlsMaterial {
  /** PEM chain: the node's certificate, then the CA. */
  cert: string;
  key: string;
  notAfter: Date;
  sans: string[];
}

/** Options of {@link NodeCertificate}. */
export interface NodeCertificateOptions {
  /** The sub's data dir; files go to `<dataDir>/tls/node-<id>/`. */
  dataDir: string;
  /** The main's HTTP base URL. */
  mainUrl: string;
  /** The node token (Bearer); never logged. */
  token: string;
  id: string;
  /** The names the certificate must carry (`sanList()` of the sub). */
  sans: readonly string[];
  logger: Logger;
  /** Called with the new material each time a certificate is (re)issued after `start()`. */
  onChange?: (m: NodeTlsMaterial) => void;
  fetch?: typeof fetch;
  now?: () => Date;
}

/**
 * A sub's certificate from its main's CA: loaded from disk when it still names every address
 * and is valid for 30 days more, else requested again. `start()` keeps it fresh: it retries
 * with backoff while the main cannot be reached, every 10 minutes while the main has no local
 * CA, and checks hourly for renewal.
 */
export class NodeCertificate {
  /** The certificate served now, if any. */
  current: NodeTlsMaterial | undefined;
  readonly dir: string;
  private readonly opts: NodeCertificateOptions;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private warnedNoCa = false;

  constructor(opts: NodeCertificateOptions) {
    this.opts = opts;
    this.dir = join(tlsFiles(opts.dataDir).dir, `node-${opts.id}`);
    this.log = opts.logger.child({ part: 'tls' });
    this.current = this.load();
  }

  private get certFile(): string {
    return join(this.dir, 'cert.pem');
  }

  private get keyFile(): string {
    return join(this.dir, 'key.pem');
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private load(): NodeTlsMaterial | undefined {
    if (!existsSync(this.certFile) || !existsSync(this.keyFile)) return undefined;
    try {
      const cert = readFileSync(this.certFile, 'utf8');
      const key = readFileSync(this.keyFile, 'utf8');
      const leaf = new NodeX509(cert);
      return { cert, key, notAfter: new Date(leaf.validTo), sans: certSans(cert) };
    } catch {
      return undefined;
    }
  }

  /** True when there is no certificate, or it lacks a name or expires within 30 days. */
  stale(): boolean {
    const c = this.current;
    return !c || needsRenewal(c.sans, this.opts.sans, c.notAfter, this.now());
  }

  /**
   * Requests a certificate from the main when {@link stale}; true when a new one was stored.
   * Throws LOCAL_CA_UNAVAILABLE when the main has no local CA, or an Error when the main
   * cannot be reached or refuses.
   */
  async refresh(): Promise<boolean> {
    if (!this.stale() && !(await this.caChanged())) return false;
    const { csr, key } = await makeNodeCsr(this.opts.sans);
    const f = this.opts.fetch ?? fetch;
    const res = await f(
      `${this.opts.mainUrl}/api/cluster/nodes/${encodeURIComponent(this.opts.id)}/certificate`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ csr }),
        signal: AbortSignal.timeout(10_000),
      },
    );
    const body = (await res.json().catch(() => ({}))) as Partial<IssuedNodeCert> & {
      error?: { code?: string; message?: string };
    };
    if (res.status === 409 && body.error?.code === 'LOCAL_CA_UNAVAILABLE') {
      throw new AirError('LOCAL_CA_UNAVAILABLE');
    }
    if (res.status === 400 && body.error?.code === 'CSR_INVALID') {
      throw new AirError('CSR_INVALID', body.error.message);
    }
    if (res.status !== 200 || typeof body.chain !== 'string') {
      throw new Error(
        `the main answered the certificate request with ${res.status} ${body.error?.code ?? ''}`.trim(),
      );
    }
    const leaf = new NodeX509(body.chain);
    if (!leaf.checkPrivateKey(createPrivateKey(key))) {
      throw new Error('the main returned a certificate for another key');
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.keyFile, key, { mode: 0o600 });
    writeFileSync(this.certFile, body.chain, { mode: 0o644 });
    if (body.ca) writeFileSync(join(this.dir, 'ca.pem'), body.ca, { mode: 0o644 });
    this.current = { cert: body.chain, key, notAfter: new Date(leaf.validTo), sans: certSans(body.chain) };
    this.log.info(
      { notAfter: this.current.notAfter.toISOString(), names: this.current.sans },
      'HTTPS certificate issued by the main’s CA',
    );
    return true;
  }

  /** True when the main's CA (GET /tls/ca.pem) did not issue the current certificate (a new CA). */
  private async caChanged(): Promise<boolean> {
    if (!this.current) return true;
    try {
      const res = await (this.opts.fetch ?? fetch)(`${this.opts.mainUrl}/tls/ca.pem`, {
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) return false;
      return !new NodeX509(this.current.cert).checkIssued(new NodeX509(await res.text()));
    } catch {
      return false; // the main is away: keep serving what we have
    }
  }

  /** One attempt now (resolves either way), then keeps the certificate fresh in the background. */
  async start(): Promise<void> {
    await this.tick(false);
  }

  private async tick(notify: boolean): Promise<void> {
    if (this.closed) return;
    let delay = 3_600_000;
    try {
      if ((await this.refresh()) && notify && !this.closed) this.opts.onChange?.(this.current!);
      this.failures = 0;
    } catch (e) {
      if (isAirError(e, 'LOCAL_CA_UNAVAILABLE')) {
        if (!this.warnedNoCa) {
          this.log.warn(
            'the main has no local CA (HTTPS off there, or a real certificate): this sub serves HTTP only unless tlsCert/tlsKey are set',
          );
        }
        this.warnedNoCa = true;
        delay = 600_000;
      } else if (isAirError(e, 'CSR_INVALID')) {
        // The main refuses one of this node's names: asking again soon would not change that.
        this.log.warn({ err: e.message }, 'the main refused this node’s certificate request');
        delay = 600_000;
      } else {
        this.failures++;
        if (this.failures === 1 || this.failures % 12 === 0) {
          this.log.warn(
            { err: describeFetchError(e, this.opts.mainUrl) },
            'cannot get an HTTPS certificate from the main; retrying',
          );
        }
        delay = Math.min(10_000, 500 * 2 ** this.failures);
      }
    }
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(true), delay);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
