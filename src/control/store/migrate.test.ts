import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logger.ts';
import { migrate, pgliteTarget, poolTarget, readMigrations, type MigrationTarget } from './migrate.ts';
import type { DrizzleStore } from './db.ts';
import { tables } from './schema.ts';
import {
  createTestSchema,
  dropTestSchema,
  openPostgresTestStore,
  TEST_DATABASE_URL,
  urlWithSchema,
} from './testing.ts';

const logger = createLogger({ level: 'silent' });

type Run = <R>(text: string, params?: unknown[]) => Promise<R[]>;

/** Columns of the migrated database, "table.column" → "type null|not null". */
async function dbColumns(run: Run): Promise<Map<string, string>> {
  const rows = await run<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
    `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'`,
  );
  return new Map(
    rows.map((r) => [
      `${r.table_name}.${r.column_name}`,
      `${r.data_type} ${r.is_nullable === 'YES' ? 'null' : 'not null'}`,
    ]),
  );
}

/** The same, as Drizzle's schema.ts declares it. */
function drizzleColumns(): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of Object.values(tables)) {
    const cfg = getTableConfig(t);
    for (const c of cfg.columns) {
      out.set(`${cfg.name}.${c.name}`, `${c.getSQLType()} ${c.notNull ? 'not null' : 'null'}`);
    }
  }
  return out;
}

/** Index and unique-constraint names of the migrated database (primary keys aside), sorted. */
async function dbIndexes(run: Run): Promise<string[]> {
  const rows = await run<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' AND indexname NOT LIKE '%_pkey'`,
  );
  return rows.map((r) => r.indexname).sort();
}

/** The same, as Drizzle's schema.ts declares them. */
function drizzleIndexes(): string[] {
  return Object.values(tables)
    .flatMap((t): string[] => {
      const cfg = getTableConfig(t);
      return [
        ...cfg.indexes.map((i) => i.config.name ?? '?'),
        ...cfg.uniqueConstraints.map((u) => u.getName() ?? '?'),
      ];
    })
    .sort();
}

/** Checks an empty database migrates once, matches schema.ts, and a second run is a no-op. */
async function migratesEmpty(target: MigrationTarget, run: Run): Promise<void> {
  const names = (await readMigrations()).map((m) => m.name);
  expect(names[0]).toBe('0001_init.sql');
  expect(await migrate(target, { logger })).toEqual(names);
  expect(await migrate(target, { logger })).toEqual([]);
  const recorded = await run<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  expect(recorded.map((r) => r.name)).toEqual(names);
  expect(await dbColumns(run)).toEqual(drizzleColumns());
  expect(await dbIndexes(run)).toEqual(drizzleIndexes());
}

describe('migrations on an empty PGlite', () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await PGlite.create();
  });
  afterAll(async () => {
    await db.close();
  });

  it('apply once, match schema.ts, and are a no-op the second time', async () => {
    await migratesEmpty(
      pgliteTarget(db),
      async (text, params) => (await db.query(text, params)).rows as never,
    );
  });

  it('roll back a failing migration and record nothing of it', async () => {
    const bad = { name: '9999_bad.sql', sql: 'CREATE TABLE half_done (a int); SELECT no_such_function();' };
    await expect(migrate(pgliteTarget(db), { logger, migrations: [bad] })).rejects.toThrow(/9999_bad\.sql/);
    const left = await db.query(`SELECT to_regclass('half_done') AS t`);
    expect(left.rows).toEqual([{ t: null }]);
    const recorded = await db.query(`SELECT 1 FROM schema_migrations WHERE name = '9999_bad.sql'`);
    expect(recorded.rows).toEqual([]);
  });
});

describe('migrations on an empty PostgreSQL schema', () => {
  let schema: string;
  const pools: pg.Pool[] = [];
  const pool = () => {
    const p = new pg.Pool({ connectionString: urlWithSchema(TEST_DATABASE_URL, schema), max: 2 });
    pools.push(p);
    return p;
  };
  beforeAll(async () => {
    schema = await createTestSchema();
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    if (schema) await dropTestSchema(schema);
  });

  it('apply once, match schema.ts, and are a no-op the second time', async () => {
    const p = pool();
    await migratesEmpty(poolTarget(p), async (text, params) => (await p.query(text, params)).rows);
  });

  it('apply exactly once when two migrators race on one schema', async () => {
    const fresh = await createTestSchema();
    try {
      // Two pools = two processes' connections; both race through the migrator.
      const a = new pg.Pool({ connectionString: urlWithSchema(TEST_DATABASE_URL, fresh), max: 1 });
      const b = new pg.Pool({ connectionString: urlWithSchema(TEST_DATABASE_URL, fresh), max: 1 });
      pools.push(a, b);
      const results = await Promise.all([
        migrate(poolTarget(a), { logger }),
        migrate(poolTarget(b), { logger }),
      ]);
      const names = (await readMigrations()).map((m) => m.name);
      expect(results.flat().sort()).toEqual([...names].sort());
      expect(results.some((r) => r.length === 0)).toBe(true);
      const recorded = await a.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(recorded.rows[0]).toEqual({ n: names.length });
    } finally {
      await dropTestSchema(fresh);
    }
  });

  it('lets two stores open at once on an empty schema, each usable', async () => {
    const fresh = await createTestSchema();
    try {
      const stores = await Promise.all([
        openPostgresTestStore({ schema: fresh }),
        openPostgresTestStore({ schema: fresh }),
      ]);
      const [s1, s2] = stores as [DrizzleStore, DrizzleStore];
      const u = await s1.users.create({
        email: 'race@example.kr',
        name: 'R',
        role: 'teacher',
        passwordHash: 'x',
      });
      expect((await s2.users.byId(u.id))?.email).toBe('race@example.kr');
      const rows = (await s2.db.execute(
        sql`SELECT count(*)::int AS n FROM schema_migrations`,
      )) as unknown as {
        rows: { n: number }[];
      };
      expect(rows.rows[0]?.n).toBe((await readMigrations()).length);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await dropTestSchema(fresh);
    }
  });
});
