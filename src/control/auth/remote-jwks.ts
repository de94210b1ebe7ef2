import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { AirError } from '../../shared/errors.ts';

/** Options of a RemoteJwks. */
export interface RemoteJwksOptions {
  /** The main's JWKS, e.g. http://main:8000/.well-known/jwks.json. */
  url: string;
  /** Least time between two fetches caused by an unknown `kid`, ms (default 60 000). */
  refetchMs?: number;
  /** Longest a fetch may take, ms (default 3000). */
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * The main's public keys, as a sub verifies viewers' tokens with them (DESIGN §4): fetched once,
 * kept, and fetched again when a token names a `kid` the set lacks (a rotated key), at most once
 * per `refetchMs`. A failed fetch keeps the last good set, so a main that is down or restarting
 * never cuts off viewers whose tokens the sub already knows how to check.
 */
export class RemoteJwks {
  private readonly opts: Required<Omit<RemoteJwksOptions, 'fetch'>> & { fetch: typeof fetch };
  private set: ReturnType<typeof createLocalJWKSet> | undefined;
  private kids = new Set<string>();
  private lastAttempt = -Infinity;
  private inflight: Promise<boolean> | undefined;
  /** Fetches made (tests, /health). */
  fetches = 0;

  constructor(opts: RemoteJwksOptions) {
    this.opts = {
      refetchMs: 60_000,
      timeoutMs: 3000,
      now: Date.now,
      ...opts,
      fetch: opts.fetch ?? fetch,
    };
  }

  /** True once a key set has been fetched. */
  get loaded(): boolean {
    return this.set !== undefined;
  }

  /** Fetches the set now (start-up); true on success. Concurrent calls share one fetch. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<boolean> {
    this.lastAttempt = this.opts.now();
    this.fetches++;
    try {
      const res = await this.opts.fetch(this.opts.url, { signal: AbortSignal.timeout(this.opts.timeoutMs) });
      if (!res.ok) return false;
      const doc = (await res.json()) as JSONWebKeySet;
      if (!doc || !Array.isArray(doc.keys) || doc.keys.length === 0) return false;
      this.set = createLocalJWKSet(doc);
      this.kids = new Set(doc.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
      return true;
    } catch {
      return false;
    }
  }

  /** The key resolver jose's jwtVerify takes. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const known = header.kid !== undefined && this.kids.has(header.kid);
    // With no set yet (the main was down at start) a fetch is tried every 2 s.
    const wait = this.set ? this.opts.refetchMs : Math.min(2000, this.opts.refetchMs);
    if (!known && this.opts.now() - this.lastAttempt >= wait) {
      await this.refresh();
    } else if (!this.set && this.inflight) {
      await this.inflight;
    }
    if (!this.set) throw new AirError('TOKEN_INVALID', 'The main node’s keys are not known yet.');
    return this.set(header, token);
  };
}
