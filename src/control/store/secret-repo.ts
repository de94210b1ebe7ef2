/** Sealed secrets of the school (migrations/0005_ai.sql): one row per name, e.g. "gemini". */
import { eq, sql } from 'drizzle-orm';
import { secrets } from './schema.ts';
import { guard, type Db } from './sql.ts';

/** One stored secret (sealed; `last4` is what may be shown). */
export type SecretRow = typeof secrets.$inferSelect;

/** Secrets over a Drizzle database. */
export class DrizzleSecretRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(name: string): Promise<SecretRow | undefined> {
    return guard(async () => (await this.#db.select().from(secrets).where(eq(secrets.name, name)))[0]);
  }

  /** Stores (or replaces) a sealed secret. */
  put(name: string, sealed: string, last4: string): Promise<SecretRow> {
    return guard(async () => {
      const rows = await this.#db
        .insert(secrets)
        .values({ name, sealed, last4 })
        .onConflictDoUpdate({ target: secrets.name, set: { sealed, last4, updatedAt: sql`now()` } })
        .returning();
      return rows[0]!;
    });
  }

  delete(name: string): Promise<void> {
    return guard(async () => {
      await this.#db.delete(secrets).where(eq(secrets.name, name));
    });
  }
}
