/** The Redis that tests and benchmarks use, and cleanup of a run's own keys. */
import { Redis } from 'ioredis';

/** The Redis the tests use (CI starts it). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Deletes every key under `prefix` (a run's own keys; other runs may share this Redis). */
export async function dropRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  if (!prefix) throw new Error('dropRedisPrefix needs a prefix');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
