/**
 * What makes a token stop before its expiry, on Drizzle: revoked token ids (sign-out) and
 * monitor share links (listed and revoked by the teacher). Both are read by the token gate
 * (control/classroom/token-gate.ts) on every request that carries such a token.
 */
import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { monitorLinks, revokedTokens } from './schema.ts';
import { guard, isForeignKeyViolation, isUuid, type Db } from './sql.ts';
import type { MonitorLinkRecord, MonitorLinkRepo, RevokedTokenRepo } from './types.ts';

/** `RevokedTokenRepo` over Drizzle; expired rows are swept on each revoke. */
export class DrizzleRevokedTokenRepo implements RevokedTokenRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Records `jti` as revoked until `expiresAt` (idempotent). */
  revoke(jti: string, expiresAt: Date): Promise<void> {
    return guard(async () => {
      await this.#db.delete(revokedTokens).where(lt(revokedTokens.expiresAt, sql`now()`));
      await this.#db.insert(revokedTokens).values({ jti, expiresAt }).onConflictDoNothing();
    });
  }

  isRevoked(jti: string): Promise<boolean> {
    return guard(async () => {
      const rows = await this.#db
        .select({ jti: revokedTokens.jti })
        .from(revokedTokens)
        .where(eq(revokedTokens.jti, jti));
      return rows.length > 0;
    });
  }
}

/** `MonitorLinkRepo` over Drizzle. */
export class DrizzleMonitorLinkRepo implements MonitorLinkRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** A new link; CLASS_NOT_FOUND for an unknown class or creator. */
  create(l: { classId: string; createdBy: string; expiresAt: Date }): Promise<MonitorLinkRecord> {
    if (!isUuid(l.classId) || !isUuid(l.createdBy)) return Promise.reject(new AirError('CLASS_NOT_FOUND'));
    return guard(async () => {
      try {
        const rows = await this.#db.insert(monitorLinks).values(l).returning();
        return rows[0]!;
      } catch (e) {
        if (isForeignKeyViolation(e)) throw new AirError('CLASS_NOT_FOUND');
        throw e;
      }
    });
  }

  byId(id: string): Promise<MonitorLinkRecord | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => (await this.#db.select().from(monitorLinks).where(eq(monitorLinks.id, id)))[0]);
  }

  /** Newest first. */
  list(classId: string): Promise<MonitorLinkRecord[]> {
    if (!isUuid(classId)) return Promise.resolve([]);
    return guard(() =>
      this.#db
        .select()
        .from(monitorLinks)
        .where(eq(monitorLinks.classId, classId))
        .orderBy(desc(monitorLinks.createdAt), desc(monitorLinks.id)),
    );
  }

  /** Revokes (idempotent: the first revocation time is kept). */
  revoke(classId: string, id: string): Promise<MonitorLinkRecord | undefined> {
    if (!isUuid(classId) || !isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db
        .update(monitorLinks)
        .set({ revokedAt: sql`coalesce(${monitorLinks.revokedAt}, now())` })
        .where(and(eq(monitorLinks.id, id), eq(monitorLinks.classId, classId)))
        .returning();
      return rows[0];
    });
  }
}
