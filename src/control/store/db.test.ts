import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/logger.ts';
import { openStore, redactDatabaseUrl } from './db.ts';
import { createTestSchema, dropTestSchema, TEST_DATABASE_URL, urlWithSchema } from './testing.ts';

const logger = createLogger({ level: 'silent' });

describe('openStore', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps PGlite data in <dataDir>/db across a restart; close is idempotent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'airclass-store-'));
    dirs.push(dataDir);
    const first = await openStore({ dataDir, logger });
    expect(first.dialect).toBe('pglite');
    await first.ping();
    const u = await first.users.create({
      email: 'admin@airclass.local',
      name: 'A',
      role: 'admin',
      passwordHash: 'h',
    });
    await first.close();
    await first.close();
    expect(isAirError(await first.ping().catch((e: unknown) => e), 'DB_UNAVAILABLE')).toBe(true);

    const again = await openStore({ dataDir, databaseUrl: '', logger });
    try {
      expect(await again.users.byEmail('ADMIN@airclass.local')).toEqual(u);
    } finally {
      await again.close();
    }
  });

  it('uses PostgreSQL when a database URL is given', async () => {
    const schema = await createTestSchema();
    try {
      const store = await openStore({
        databaseUrl: urlWithSchema(TEST_DATABASE_URL, schema),
        dataDir: '/nonexistent',
        logger,
      });
      expect(store.dialect).toBe('postgres');
      await store.ping();
      expect(await store.users.count()).toBe(0);
      await Promise.all([store.close(), store.close()]);
      expect(isAirError(await store.ping().catch((e: unknown) => e), 'DB_UNAVAILABLE')).toBe(true);
    } finally {
      await dropTestSchema(schema);
    }
  });

  it('reports an unreachable PostgreSQL as DB_UNAVAILABLE without the password', async () => {
    const err = await openStore({
      databaseUrl: 'postgres://u:s3cret@127.0.0.1:1/x',
      dataDir: '/nonexistent',
      logger,
    }).catch((e: unknown) => e);
    expect(isAirError(err, 'DB_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /Cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/,
    );
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('redacts passwords from database URLs', () => {
    expect(redactDatabaseUrl('postgres://a:b@h:5432/d?x=1')).toBe('postgres://a:***@h:5432/d?x=1');
    expect(redactDatabaseUrl('postgres://a@h/d')).toBe('postgres://a@h/d');
  });
});
