/**
 * What the repositories share: the Drizzle database type (one for PGlite and node-postgres),
 * PostgreSQL error classification and id checks.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { AirError } from '../../shared/errors.ts';
import type { tables } from './schema.ts';

/** A Drizzle database over either driver (PGlite or node-postgres), with the AirClass schema. */
export type Db = PgDatabase<PgQueryResultHKT, typeof tables>;

/** SQLSTATE codes the store reacts to. */
export const PG = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  INVALID_TEXT_REPRESENTATION: '22P02',
} as const;

interface PgErrorLike {
  code?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** The PostgreSQL error under `e` (Drizzle wraps driver errors in `DrizzleQueryError.cause`). */
function pgError(e: unknown): PgErrorLike | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 4; depth++) {
    const c = (cur as PgErrorLike).code;
    if (typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c)) return cur as PgErrorLike;
    cur = (cur as PgErrorLike).cause;
  }
  return undefined;
}

/** The SQLSTATE of a database error (through Drizzle's wrapper), or undefined. */
export function sqlState(e: unknown): string | undefined {
  return pgError(e)?.code as string | undefined;
}

/**
 * True when `e` is a unique violation, optionally of the named constraint or index. PGlite
 * and node-postgres both report the index name in `constraint`.
 */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const pe = pgError(e);
  if (pe?.code !== PG.UNIQUE_VIOLATION) return false;
  return constraint === undefined || pe.constraint === constraint;
}

/** True when `e` is a foreign-key violation (a referenced row does not exist). */
export function isForeignKeyViolation(e: unknown): boolean {
  return sqlState(e) === PG.FOREIGN_KEY_VIOLATION;
}

/** Network errors and SQLSTATE classes meaning "the server is not there" (08, 53, 57P). */
const UNAVAILABLE_NET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
]);

/** True when `e` says the database cannot be reached (connection refused, shut down, full). */
export function isUnavailable(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 4; depth++) {
    const c = (cur as PgErrorLike).code;
    if (typeof c === 'string' && (UNAVAILABLE_NET.has(c) || /^(08|53|57P)/.test(c))) return true;
    const msg = (cur as Error).message ?? '';
    if (/Connection terminated|Client has encountered a connection error|PGlite is closed/i.test(msg)) {
      return true;
    }
    cur = (cur as PgErrorLike).cause;
  }
  return false;
}

/**
 * Runs a database call and turns "database unreachable" into `AirError('DB_UNAVAILABLE')`
 * (HTTP 503); every other error passes through unchanged.
 */
export async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof AirError) && isUnavailable(e)) {
      throw Object.assign(new AirError('DB_UNAVAILABLE'), { cause: e });
    }
    throw e;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID (ids from URLs are checked before they reach SQL). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** The first row of a result, or undefined. */
export function first<T>(rows: T[]): T | undefined {
  return rows[0];
}
