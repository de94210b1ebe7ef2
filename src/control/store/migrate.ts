/**
 * A small SQL migrator: applies `migrations/NNNN_name.sql` in name order, each in its own
 * transaction, and records it in `schema_migrations(name, applied_at)`. Idempotent; two
 * processes starting at once against one PostgreSQL serialise on an advisory lock (keyed by
 * the current schema), so each migration is applied exactly once.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../shared/logger.ts';

/** The repo's `migrations/` directory. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

/** One migration file. */
export interface Migration {
  name: string;
  sql: string;
}

/** One database session (a single connection) the migrator runs on. */
export interface SqlSession {
  /** Runs one or more statements (simple query protocol). */
  exec(sql: string): Promise<void>;
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs `fn` in a transaction on this session: COMMIT on success, ROLLBACK on error. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
}

/** Something that lends the migrator a session for the duration of a call. */
export interface MigrationTarget {
  withSession<T>(fn: (s: SqlSession) => Promise<T>): Promise<T>;
}

const NAME_RE = /^\d{4}_[a-z0-9_]+\.sql$/;

/** Reads the migration files of `dir`, sorted by name (files not named `NNNN_name.sql` are ignored). */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => NAME_RE.test(n)).sort();
  return Promise.all(names.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
}

function pgliteSession(db: PGlite | Transaction): SqlSession {
  return {
    exec: async (sql) => void (await db.exec(sql)),
    query: async <R>(sql: string, params: unknown[] = []) => (await db.query<R>(sql, params)).rows,
    transaction: async (fn) => {
      if (!('transaction' in db)) throw new Error('nested transactions are not supported');
      return db.transaction((tx) => fn(pgliteSession(tx)));
    },
  };
}

/** A PGlite instance as a migration target (PGlite is one session; its transactions are exclusive). */
export function pgliteTarget(db: PGlite): MigrationTarget {
  return { withSession: (fn) => fn(pgliteSession(db)) };
}

function clientSession(client: PoolClient, inTx = false): SqlSession {
  return {
    exec: async (sql) => void (await client.query(sql)),
    query: async <R>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as R[],
    transaction: async (fn) => {
      if (inTx) throw new Error('nested transactions are not supported');
      await client.query('BEGIN');
      try {
        const r = await fn(clientSession(client, true));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    },
  };
}

/**
 * A node-postgres pool as a migration target: one client is held for the whole run and then
 * discarded (closing the connection also drops any session lock it still holds).
 */
export function poolTarget(pool: Pool): MigrationTarget {
  return {
    withSession: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn(clientSession(client));
      } finally {
        client.release(true);
      }
    },
  };
}

/** Advisory lock key (first half): "AirC". The second half is a hash of the current schema. */
const LOCK_CLASS = 0x41697243;
const LOCK_KEY = `${LOCK_CLASS}, hashtext(coalesce(current_schema(), ''))`;

/** Options of `migrate`. */
export interface MigrateOptions {
  logger: Logger;
  /** The migrations to apply; default: the files of `MIGRATIONS_DIR`. */
  migrations?: Migration[];
}

/**
 * Applies every migration not yet recorded, in name order, each in one transaction, under a
 * session-level advisory lock. Returns the names applied by this call (empty when up to date).
 */
export async function migrate(target: MigrationTarget, opts: MigrateOptions): Promise<string[]> {
  const migrations = opts.migrations ?? (await readMigrations());
  return target.withSession(async (s) => {
    await s.query(`SELECT pg_advisory_lock(${LOCK_KEY})`);
    try {
      await s.exec(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           name text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      const rows = await s.query<{ name: string }>('SELECT name FROM schema_migrations');
      const done = new Set(rows.map((r) => r.name));
      const known = new Set(migrations.map((m) => m.name));
      const unknown = [...done].filter((n) => !known.has(n));
      if (unknown.length > 0) {
        opts.logger.warn({ unknown }, 'database has migrations this version does not know (newer version?)');
      }
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        const t0 = performance.now();
        try {
          await s.transaction(async (tx) => {
            await tx.exec(m.sql);
            await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
          });
        } catch (e) {
          throw new Error(`Migration ${m.name} failed: ${(e as Error).message}`, { cause: e });
        }
        applied.push(m.name);
        opts.logger.info({ migration: m.name, ms: Math.round(performance.now() - t0) }, 'migration applied');
      }
      return applied;
    } finally {
      await s.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`).catch(() => undefined);
    }
  });
}
