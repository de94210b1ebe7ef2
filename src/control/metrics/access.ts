/**
 * Who may read `/metrics`: loopback callers, addresses of the `metricsAllow` list (IPs or
 * CIDRs, IPv4 or IPv6), and anyone presenting `Authorization: Bearer <metricsToken>` (no token
 * is accepted while metricsToken is empty).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { AirError } from '../../shared/errors.ts';

/** The access rules of /metrics, from the config. */
export interface MetricsAccessConfig {
  /** Addresses or CIDRs that may scrape without a token. */
  allow: readonly string[];
  /** The scrape token; empty = none accepted. */
  token: string;
}

/** `::ffff:10.0.0.1` → `10.0.0.1` (a dual-stack socket's IPv4 peer). */
function plain(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Parses the allow-list; CONFIG_INVALID naming the entry that is neither an IP nor a CIDR. */
export function allowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  for (const raw of entries) {
    const entry = raw.trim();
    const [addr = '', bits, extra] = entry.split('/');
    const family = isIP(plain(addr));
    const bad = (): AirError =>
      new AirError(
        'CONFIG_INVALID',
        `metricsAllow: "${raw}" is not an IP address or a CIDR (e.g. 10.0.0.0/8).`,
      );
    if (family === 0 || extra !== undefined) throw bad();
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(plain(addr), type);
      continue;
    }
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) throw bad();
    list.addSubnet(plain(addr), prefix, type);
  }
  return list;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** What the guard looks at in a request. */
export interface ScrapeRequest {
  /** The peer address of the connection (no proxy headers are trusted). */
  ip: string;
  authorization?: string;
  /**
   * The request came through a proxy (X-Forwarded-For / Forwarded): its peer address is the
   * proxy's, so a reverse proxy on loopback does not open /metrics to everyone behind it.
   */
  forwarded?: boolean;
}

/**
 * The check of one scrape: passes for an allowed address or the right Bearer token, else
 * throws 401 TOKEN_MISSING / TOKEN_INVALID (a token is configured) or 403 FORBIDDEN (none is).
 */
export function metricsGuard(cfg: MetricsAccessConfig): (req: ScrapeRequest) => void {
  const list = allowList(cfg.allow);
  const expected = cfg.token ? digest(cfg.token) : undefined;
  return ({ ip, authorization, forwarded }) => {
    const address = plain(ip);
    const family = isIP(address);
    if (!forwarded && family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return;
    if (!expected) {
      throw new AirError(
        'FORBIDDEN',
        'Metrics are open to loopback and metricsAllow addresses only, not through a proxy (no metricsToken is set).',
      );
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    const challenge = { 'WWW-Authenticate': 'Bearer realm="metrics"' };
    if (!bearer) throw new AirError('TOKEN_MISSING', 'Send Authorization: Bearer <metricsToken>.', challenge);
    if (!timingSafeEqual(digest(bearer), expected)) {
      throw new AirError('TOKEN_INVALID', 'Wrong metrics token.', challenge);
    }
  };
}
