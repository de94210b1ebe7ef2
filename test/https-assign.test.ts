/**
 * Assignment on a cluster with HTTPS: a player on an https page is sent only to subs that
 * serve HTTPS, at their https URL (an http:// WHEP URL would be mixed content), or to the
 * main's https endpoint; a page on plain http keeps http URLs. A sub tells the main its https
 * URL when it registers, and again once it begins serving HTTPS.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../src/control/cluster/cluster.ts';
import { ClusterMember } from '../src/control/cluster/member.ts';
import { MemoryNodeRegistry } from '../src/control/cluster/node-registry.ts';
import { createLogger } from '../src/shared/logger.ts';

const logger = createLogger({ level: 'silent' });
const keys = Array.from({ length: 60 }, (_, i) => `participant-${i}`);

function cluster(): Cluster {
  return new Cluster({
    registry: new MemoryNodeRegistry({ heartbeatMs: 60_000, missed: 3 }),
    logger,
    heartbeatMs: 60_000,
    mainHasRoom: () => true,
    mainWhepUrl: (path, secure) => `${secure ? 'https://main:8443' : 'http://main:8000'}/${path}/whep`,
  });
}

const base = { capacity: 100, startedAt: 1, viewers: 0, cpu: 0, paths: [] as string[] };

describe('assignment and HTTPS', () => {
  it('sends https pages only to subs serving HTTPS, at their https URL; http pages anywhere over http', async () => {
    const c = cluster();
    await c.register({ id: 'a', name: 'a', httpUrl: 'http://10.0.0.5:8001', ...base });
    await c.register({
      id: 'b',
      name: 'b',
      httpUrl: 'http://10.0.0.6:8002',
      httpsUrl: 'https://10.0.0.6:8445',
      ...base,
    });
    const plain = await Promise.all(keys.map((k) => c.assign(k, 'live/x')));
    expect(new Set(plain.map((a) => a.node.id))).toEqual(new Set(['a', 'b']));
    for (const a of plain) expect(a.whepUrl).toMatch(/^http:\/\/10\.0\.0\.[56]:800[12]\/live\/x\/whep$/);

    const secure = await Promise.all(keys.map((k) => c.assign(k, 'live/x', undefined, true)));
    for (const a of secure) {
      expect(a.node.id).toBe('b');
      expect(a.whepUrl).toBe('https://10.0.0.6:8445/live/x/whep');
    }
    await c.close();
  });

  it('sends an https page to the main’s https endpoint when no sub serves HTTPS', async () => {
    const c = cluster();
    await c.register({ id: 'a', name: 'a', httpUrl: 'http://10.0.0.5:8001', ...base });
    const a = await c.assign('participant-1', 'live/x', undefined, true);
    expect(a).toEqual({ whepUrl: 'https://main:8443/live/x/whep', node: { id: 'main', name: 'main' } });
    expect((await c.assign('participant-1', 'live/x')).whepUrl).toBe('http://10.0.0.5:8001/live/x/whep');
    await c.close();
  });

  it('a sub registers with its https URL, and again when it begins serving HTTPS', async () => {
    const bodies: Record<string, unknown>[] = [];
    const fake = (async (url: string, init?: RequestInit) => {
      if (String(url).endsWith('/api/cluster/nodes') && init?.method === 'POST') {
        bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
        return new Response(JSON.stringify({ heartbeatMs: 60_000, rtspUrl: 'rtsp://main:8554' }), {
          status: 201,
        });
      }
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const sub: { https?: string } = {};
    const m = new ClusterMember({
      mainUrl: 'http://main:8000',
      token: 'node-token',
      id: 'sub-1',
      name: 'sub-1',
      httpUrl: 'http://10.0.0.5:8001',
      httpsUrl: () => sub.https,
      capacity: 10,
      load: () => ({ viewers: 0, cpu: 0, paths: [] }),
      logger,
      fetch: fake,
    });
    await m.start();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.httpsUrl).toBeUndefined();
    sub.https = 'https://10.0.0.5:8444';
    await m.announce();
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toMatchObject({ id: 'sub-1', httpUrl: 'http://10.0.0.5:8001', httpsUrl: sub.https });
    await m.close();
  });
});
