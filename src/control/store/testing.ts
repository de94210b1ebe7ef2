/**
 * Stores for tests (not used in production). PGlite: a fresh in-memory instance costs ≈ 3 s of
 * initdb (DESIGN §10), so the first call makes one, migrates it and caches a gzipped dump of it
 * in the OS temp dir (keyed by PGlite's version and the migrations); later calls, in any test
 * file or run, load that dump (≈ 1 s). A node started on a new data dir makes its PGlite database
 * in `<dataDir>/db` with the same initdb (6–9 s here); {@link seedPgliteDb} copies a migrated
 * template there first (made once per PGlite version and migration set, then ≈ 0.3 s to open),
 * so the node finds it migrated. PostgreSQL: a fresh schema per store in the database
 * at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), dropped on close.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { createLogger, type Logger } from '../../shared/logger.ts';
import type { ClassRepoOptions } from './class-repo.ts';
import { storeOnPglite, storeOnPool, type DrizzleStore } from './db.ts';
import { readMigrations, type Migration } from './migrate.ts';

/** The PostgreSQL the tests use (CI starts it in `.ci/run`). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Options of the test store openers. */
export interface TestStoreOptions {
  logger?: Logger;
  classes?: ClassRepoOptions;
}

/** PGlite's installed version (its package.json sits next to `dist/`). */
async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  try {
    const pkg = await readFile(join(dirname(entry), '..', 'package.json'), 'utf8');
    return (JSON.parse(pkg) as { version?: string }).version ?? entry;
  } catch {
    return entry;
  }
}

async function dumpKey(migrations: Migration[]): Promise<string> {
  const h = createHash('sha256').update(await pgliteVersion());
  for (const m of migrations) h.update(m.name).update('\0').update(m.sql).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Bytes of a migrated, empty PGlite data dir (made once, then read from the cache file). */
async function migratedDump(logger: Logger): Promise<Buffer> {
  const migrations = await readMigrations();
  const file = join(tmpdir(), `airclass-pglite-${await dumpKey(migrations)}.tar.gz`);
  try {
    return await readFile(file);
  } catch {
    // not cached yet
  }
  const client = await PGlite.create();
  const store = await storeOnPglite(client, { logger, migrations });
  const dump = Buffer.from(await (await client.dumpDataDir('gzip')).arrayBuffer());
  await store.close();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, dump);
  await rename(tmp, file); // atomic: concurrent test processes never read half a file
  return dump;
}

/** A migrated, empty on-disk PGlite data dir in the OS temp dir (made once, then reused). */
async function migratedDataDir(logger: Logger): Promise<string> {
  const migrations = await readMigrations();
  const dir = join(tmpdir(), `airclass-pglite-${await dumpKey(migrations)}.dir`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const store = await storeOnPglite(await PGlite.create({ dataDir: tmp }), { logger, migrations });
  await store.close();
  try {
    await rename(tmp, dir); // atomic: a concurrent test process never copies half a directory
  } catch (e) {
    // Another process made it first: use theirs.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(join(dir, 'PG_VERSION'))) throw e;
  }
  return dir;
}

/**
 * Puts a migrated, empty PGlite database in `<dataDir>/db` for a node about to start there on
 * the embedded default (nothing when the directory already has one): the node skips initdb.
 */
export async function seedPgliteDb(
  dataDir: string,
  logger = createLogger({ level: 'silent' }),
): Promise<void> {
  const target = join(dataDir, 'db');
  if (existsSync(join(target, 'PG_VERSION'))) return;
  const template = await migratedDataDir(logger);
  await mkdir(dataDir, { recursive: true });
  await cp(template, target, { recursive: true });
}

/** A migrated, empty in-memory PGlite store, fast after the first call (see the module doc). */
export async function openMemoryStore(opts: TestStoreOptions = {}): Promise<DrizzleStore> {
  const logger = opts.logger ?? createLogger({ level: 'silent' });
  const dump = await migratedDump(logger);
  const client = await PGlite.create({ loadDataDir: new Blob([new Uint8Array(dump)]) });
  // The dump is already migrated; migrating again is a cheap check that keeps it honest.
  return storeOnPglite(client, { logger, classes: opts.classes });
}

/** The test database URL with `search_path` set to `schema`. */
export function urlWithSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Test schemas older than this are left over from crashed runs and dropped. */
const STALE_SCHEMA_MS = 3600_000;
const SCHEMA_RE = /^t_([0-9a-z]+)_[0-9a-f]{12}$/;

/**
 * Creates an empty schema `t_<time>_<random>` in the test database (and drops test schemas
 * over an hour old that a crashed run left behind); fails loudly if PostgreSQL is down.
 */
export async function createTestSchema(url: string = TEST_DATABASE_URL): Promise<string> {
  const schema = `t_${Date.now().toString(36)}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    const old = await client.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'`,
    );
    for (const { nspname } of old.rows) {
      const born = SCHEMA_RE.exec(nspname)?.[1];
      if (born && Date.now() - parseInt(born, 36) > STALE_SCHEMA_MS) {
        await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`).catch(() => undefined);
      }
    }
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw new Error(
      `The repository tests need PostgreSQL at ${url} (${err.message || err.code}). ` +
        'Start it (.ci/run does: pg_ctlcluster <version> main start) or set TEST_DATABASE_URL.',
      { cause: e },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return schema;
}

/** Drops a schema made by `createTestSchema`. */
export async function dropTestSchema(schema: string, url: string = TEST_DATABASE_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A PostgreSQL store in `schema` (default: a fresh one, dropped again on `close()`). Pass a
 * schema to open several stores on one database (it is then left for the caller to drop).
 */
export async function openPostgresTestStore(
  opts: TestStoreOptions & { schema?: string; migrate?: boolean } = {},
): Promise<DrizzleStore> {
  const logger = opts.logger ?? createLogger({ level: 'silent' });
  if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) {
    throw new Error(`Bad schema name ${opts.schema}`);
  }
  const owned = opts.schema === undefined;
  const schema = opts.schema ?? (await createTestSchema());
  const pool = new pg.Pool({ connectionString: urlWithSchema(TEST_DATABASE_URL, schema), max: 5 });
  pool.on('error', () => undefined);
  return storeOnPool(pool, {
    logger,
    migrate: opts.migrate,
    classes: opts.classes,
    afterClose: owned ? () => dropTestSchema(schema) : undefined,
  });
}

/** Both back ends, for `describe.each`: every repository test runs on PGlite and PostgreSQL. */
export const STORE_BACKENDS: ReadonlyArray<{
  name: 'pglite' | 'postgres';
  open: (opts?: TestStoreOptions) => Promise<DrizzleStore>;
}> = [
  { name: 'pglite', open: openMemoryStore },
  { name: 'postgres', open: openPostgresTestStore },
];
