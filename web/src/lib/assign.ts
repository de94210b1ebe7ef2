/**
 * Where a viewer's player connects in a cluster: the main assigns each student a sub node
 * (`POST /api/cluster/assign`, rendezvous hashing) and the player asks again whenever its
 * session broke, naming the node it lost so the main can check it and send the student
 * elsewhere. A single node (or a main that cannot be reached) falls back to `fallback`.
 */
import { WhepError } from './whep.ts';

/** Resolves the WHEP endpoint before each connection; `lost`: the last session broke. */
export type EndpointResolver = (lost: boolean) => Promise<string>;

/**
 * The assignment resolver of a token (a student's token from /api/join, or a monitor's) for
 * `path` (`live/<classId>`); `fallback` is the main's own WHEP endpoint.
 */
export function clusterEndpoint(token: string, path: string, fallback: string): EndpointResolver {
  let last: { url: string; node: string } | null = null;
  return async (lost) => {
    let res: Response;
    try {
      res = await fetch('/api/cluster/assign', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(lost && last ? { path, failed: last.node } : { path }),
      });
    } catch {
      return last?.url ?? fallback; // the main is unreachable: try where we were
    }
    if (res.status === 404) return fallback; // no cluster API (an older main)
    const body = (await res.json().catch(() => null)) as {
      whepUrl?: string;
      node?: { id: string };
      error?: { code?: string; message?: string };
    } | null;
    if (!res.ok || !body?.whepUrl) {
      const ra = Number(res.headers.get('Retry-After'));
      throw new WhepError(
        body?.error?.message ?? `assignment answered ${res.status}`,
        res.status,
        Number.isFinite(ra) && ra > 0 ? ra : undefined,
        body?.error?.code,
      );
    }
    // The main itself: its endpoint on this page's own origin (a TLS proxy's, a LAN name's).
    const url = body.node?.id === 'main' ? fallback : body.whepUrl;
    last = { url, node: body.node?.id ?? '' };
    return url;
  };
}
