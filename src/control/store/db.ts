/**
 * Opens the store: PostgreSQL through a node-postgres pool when a database URL is given, else
 * embedded PGlite in `<dataDir>/db`; one Drizzle schema and the same repositories on both.
 * Migrations are applied before the store is returned.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { DrizzleMonitorLinkRepo, DrizzleRevokedTokenRepo } from './access-repo.ts';
import { DrizzleChatRepo } from './chat-repo.ts';
import { DrizzleGateRepo } from './gate-repo.ts';
import { DrizzleHeldRepo } from './held-repo.ts';
import { DrizzleClassRepo, type ClassRepoOptions } from './class-repo.ts';
import { DrizzleLessonRepo } from './lesson-repo.ts';
import { migrate, pgliteTarget, poolTarget, type Migration } from './migrate.ts';
import { DrizzleParticipantRepo } from './participant-repo.ts';
import { DrizzleRecordingRepo } from './recording-repo.ts';
import { DrizzleAiResultRepo } from './ai-result-repo.ts';
import { DrizzleSecretRepo } from './secret-repo.ts';
import { tables } from './schema.ts';
import { guard, isUnavailable, type Db } from './sql.ts';
import type { Store } from './types.ts';
import { DrizzleUserRepo } from './user-repo.ts';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /** `postgres://…` selects a PostgreSQL server; empty or absent = PGlite in `<dataDir>/db`. */
  databaseUrl?: string;
  dataDir: string;
  logger: Logger;
  /** Most pooled PostgreSQL connections; default 10. */
  poolSize?: number;
  /** Migrations to apply instead of the repo's `migrations/` (tests). */
  migrations?: Migration[];
}

/** Options shared by the `storeOn*` constructors. */
export interface StoreOnOptions {
  logger: Logger;
  /** Apply migrations first; default true. */
  migrate?: boolean;
  migrations?: Migration[];
  /** Close the PGlite / end the pool in `close()`; default true. */
  ownsClient?: boolean;
  /** Run after the client is closed (e.g. drop a test schema). */
  afterClose?: () => Promise<void>;
  /** Join-code / stream-key generators (tests force collisions with them). */
  classes?: ClassRepoOptions;
}

/** The Drizzle-backed `Store`; `db` is exposed for repositories added by later issues. */
export class DrizzleStore implements Store {
  readonly dialect: 'pglite' | 'postgres';
  readonly db: Db;
  readonly users: DrizzleUserRepo;
  readonly classes: DrizzleClassRepo;
  readonly lessons: DrizzleLessonRepo;
  readonly participants: DrizzleParticipantRepo;
  readonly chat: DrizzleChatRepo;
  readonly held: DrizzleHeldRepo;
  readonly revokedTokens: DrizzleRevokedTokenRepo;
  readonly monitorLinks: DrizzleMonitorLinkRepo;
  readonly recordings: DrizzleRecordingRepo;
  readonly secrets: DrizzleSecretRepo;
  /** Stored AI results of lessons. */
  readonly aiResults: DrizzleAiResultRepo;
  /** The token gate's one-query look-up. */
  readonly gate: DrizzleGateRepo;
  readonly #closeClient: () => Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(
    dialect: 'pglite' | 'postgres',
    db: Db,
    closeClient: () => Promise<void>,
    classOptions: ClassRepoOptions = {},
  ) {
    this.dialect = dialect;
    this.db = db;
    this.users = new DrizzleUserRepo(db);
    this.classes = new DrizzleClassRepo(db, classOptions);
    this.lessons = new DrizzleLessonRepo(db);
    this.participants = new DrizzleParticipantRepo(db);
    this.chat = new DrizzleChatRepo(db);
    this.held = new DrizzleHeldRepo(db);
    this.revokedTokens = new DrizzleRevokedTokenRepo(db);
    this.monitorLinks = new DrizzleMonitorLinkRepo(db);
    this.recordings = new DrizzleRecordingRepo(db);
    this.secrets = new DrizzleSecretRepo(db);
    this.aiResults = new DrizzleAiResultRepo(db);
    this.gate = new DrizzleGateRepo(db);
    this.#closeClient = closeClient;
  }

  /** Resolves when the database answers `SELECT 1`; `DB_UNAVAILABLE` otherwise. */
  async ping(): Promise<void> {
    if (this.#closing) throw new AirError('DB_UNAVAILABLE', 'The store is closed.');
    await guard(() => this.db.execute(sql`SELECT 1`));
  }

  /** Ends the pool or closes PGlite (an open PGlite keeps the process alive). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#closeClient();
    return this.#closing;
  }
}

function closer(ownsClient: boolean | undefined, close: () => Promise<void>, after?: () => Promise<void>) {
  return async () => {
    if (ownsClient !== false) await close();
    await after?.();
  };
}

/** Wraps an open PGlite in a store (migrating it first unless told not to). */
export async function storeOnPglite(client: PGlite, opts: StoreOnOptions): Promise<DrizzleStore> {
  const close = closer(
    opts.ownsClient,
    () => (client.closed ? Promise.resolve() : client.close()),
    opts.afterClose,
  );
  try {
    if (opts.migrate !== false) await migrate(pgliteTarget(client), opts);
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  const db: Db = drizzlePglite({ client, schema: tables });
  return new DrizzleStore('pglite', db, close, opts.classes);
}

/** Wraps a node-postgres pool in a store (migrating first unless told not to). */
export async function storeOnPool(pool: pg.Pool, opts: StoreOnOptions): Promise<DrizzleStore> {
  const close = closer(opts.ownsClient, () => pool.end(), opts.afterClose);
  try {
    if (opts.migrate !== false) await migrate(poolTarget(pool), opts);
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  const db: Db = drizzleNodePg({ client: pool, schema: tables });
  return new DrizzleStore('postgres', db, close, opts.classes);
}

function describe(e: unknown): string {
  const err = e as { message?: string; code?: string };
  return err.message || err.code || String(e);
}

/** The URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

/** Opens the store selected by the configuration and applies pending migrations. */
export async function openStore(opts: OpenStoreOptions): Promise<DrizzleStore> {
  const log = opts.logger;
  const t0 = performance.now();
  if (opts.databaseUrl) {
    const shown = redactDatabaseUrl(opts.databaseUrl);
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize ?? 10,
      // A server that does not answer fails start-up (and /ready) instead of hanging it.
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', (e) => log.warn({ err: e.message }, 'PostgreSQL connection lost'));
    try {
      const store = await storeOnPool(pool, { logger: log, migrations: opts.migrations });
      log.info({ database: shown, ms: Math.round(performance.now() - t0) }, 'PostgreSQL store open');
      return store;
    } catch (e) {
      if (isUnavailable(e)) {
        throw Object.assign(
          new AirError('DB_UNAVAILABLE', `Cannot reach PostgreSQL at ${shown}: ${describe(e)}`),
          { cause: e },
        );
      }
      throw e;
    }
  }
  const dataDir = join(opts.dataDir, 'db');
  mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create({ dataDir });
  const store = await storeOnPglite(client, { logger: log, migrations: opts.migrations });
  log.info({ dataDir, ms: Math.round(performance.now() - t0) }, 'PGlite store open');
  return store;
}
