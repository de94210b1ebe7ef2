/**
 * The node registry in Redis (REDIS_URL): two control-plane processes of one school share it,
 * so a sub that registered with one is known to the other, which assigns students to it; a sub
 * marked dead by one is dead for both.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { dropRedisPrefix, TEST_REDIS_URL } from './helpers/redis.ts';

const prefix = `airclass-test-${randomUUID().slice(0, 8)}:`;
let a: TestNode;
let b: TestNode;

async function call<T>(t: TestNode, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${t.http}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}

beforeAll(async () => {
  // Each token below is signed by the replica that checks it (replicas of one school would
  // share one key).
  a = await startTestNode({ redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  b = await startTestNode({ redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
}, 60_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await dropRedisPrefix(prefix);
});

describe('cluster registry in Redis', () => {
  it('a sub registered with one replica is assigned students by the other, and dies for both', async () => {
    const nodeToken = await a.node.tokens.signNode('sub-r', '1h');
    const reg = await call(
      a,
      'POST',
      '/api/cluster/nodes',
      {
        id: 'sub-r',
        name: 'sub-r',
        httpUrl: 'http://127.0.0.1:9',
        capacity: 100,
        startedAt: Date.now(),
      },
      nodeToken,
    );
    expect(reg.status).toBe(201);
    expect(
      (
        await call(
          a,
          'PUT',
          '/api/cluster/nodes/sub-r/heartbeat',
          { viewers: 3, cpu: 1, paths: [] },
          nodeToken,
        )
      ).status,
    ).toBe(204);
    // Another node's token may not speak for sub-r.
    const other = await a.node.tokens.signNode('sub-x', '1h');
    expect(
      (await call(a, 'PUT', '/api/cluster/nodes/sub-r/heartbeat', { viewers: 0, cpu: 0, paths: [] }, other))
        .status,
    ).toBe(403);

    const student = await b.token('student', 'live/r', ['read']);
    const got = await call<{ whepUrl: string; node: { id: string } }>(
      b,
      'POST',
      '/api/cluster/assign',
      {},
      student,
    );
    expect(got.status).toBe(200);
    expect(got.body).toEqual({
      whepUrl: 'http://127.0.0.1:9/live/r/whep',
      node: { id: 'sub-r', name: 'sub-r' },
    });

    const login = await call<{ token: string }>(a, 'POST', '/api/auth/login', {
      email: 'admin@airclass.local',
      password: TEST_ADMIN_PASSWORD,
    });
    const list = await call<{ nodes: { name: string; state: string; viewers: number }[] }>(
      a,
      'GET',
      '/api/cluster/nodes',
      undefined,
      login.body.token,
    );
    expect(list.body.nodes.find((n) => n.name === 'sub-r')).toMatchObject({ state: 'alive', viewers: 3 });

    // The player on replica B reports sub-r lost; nothing answers at :9, so B marks it dead —
    // and replica A sees it dead too, and sends its students to itself (no sub left).
    const again = await call<{ whepUrl: string; node: { id: string } }>(
      b,
      'POST',
      '/api/cluster/assign',
      { failed: 'sub-r' },
      student,
    );
    expect(again.body.node.id).toBe('main');
    const seen = await call<{ nodes: { name: string; state: string }[] }>(
      a,
      'GET',
      '/api/cluster/nodes',
      undefined,
      login.body.token,
    );
    expect(seen.body.nodes.find((n) => n.name === 'sub-r')?.state).toBe('dead');
    const fromA = await call<{ node: { id: string } }>(
      a,
      'POST',
      '/api/cluster/assign',
      {},
      await a.token('student', 'live/r', ['read']),
    );
    expect(fromA.body.node.id).toBe('main');
    // A dead node must register again: its heartbeat is refused.
    expect(
      (
        await call(
          a,
          'PUT',
          '/api/cluster/nodes/sub-r/heartbeat',
          { viewers: 0, cpu: 0, paths: [] },
          nodeToken,
        )
      ).status,
    ).toBe(404);
  }, 60_000);
});
