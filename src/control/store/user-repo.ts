/**
 * Accounts (admins and teachers) on Drizzle. Emails are unique and looked up regardless of
 * case (`users_email_lower_key` on `lower(email)`); the address is kept as it was typed.
 */
import { asc, count, eq, sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { users } from './schema.ts';
import { guard, isUniqueViolation, isUuid, type Db } from './sql.ts';
import type { AccountRole, User, UserRepo } from './types.ts';

type Row = typeof users.$inferSelect;

function toUser(r: Row): User {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    passwordHash: r.passwordHash,
    createdAt: r.createdAt,
    disabledAt: r.disabledAt,
    sessionsValidAfter: r.sessionsValidAfter,
  };
}

/** `UserRepo` over a Drizzle database (PGlite or PostgreSQL). */
export class DrizzleUserRepo implements UserRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** Creates an account; `EMAIL_TAKEN` (409) when the email exists in any case. */
  create(u: { email: string; name: string; role: AccountRole; passwordHash: string }): Promise<User> {
    return guard(async () => {
      try {
        const rows = await this.#db
          .insert(users)
          .values({ email: u.email.trim(), name: u.name, role: u.role, passwordHash: u.passwordHash })
          .returning();
        return toUser(rows[0]!);
      } catch (e) {
        if (isUniqueViolation(e, 'users_email_lower_key')) throw new AirError('EMAIL_TAKEN');
        throw e;
      }
    });
  }

  byId(id: string): Promise<User | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    return guard(async () => {
      const rows = await this.#db.select().from(users).where(eq(users.id, id));
      return rows[0] && toUser(rows[0]);
    });
  }

  /** Case-insensitive; surrounding spaces are ignored. */
  byEmail(email: string): Promise<User | undefined> {
    return guard(async () => {
      const rows = await this.#db
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email.trim()})`);
      return rows[0] && toUser(rows[0]);
    });
  }

  /** Every account, oldest first. */
  list(): Promise<User[]> {
    return guard(async () => {
      const rows = await this.#db.select().from(users).orderBy(asc(users.createdAt), asc(users.id));
      return rows.map(toUser);
    });
  }

  /** Disable/enable, new password hash, new name; disabling and a new password revoke sessions. */
  update(
    id: string,
    change: { disabled?: boolean; passwordHash?: string; name?: string },
  ): Promise<User | undefined> {
    if (!isUuid(id)) return Promise.resolve(undefined);
    const set: Record<string, unknown> = {};
    if (change.name !== undefined) set.name = change.name;
    if (change.passwordHash !== undefined) set.passwordHash = change.passwordHash;
    if (change.disabled === true) set.disabledAt = sql`coalesce(${users.disabledAt}, now())`;
    if (change.disabled === false) set.disabledAt = null;
    if (change.disabled === true || change.passwordHash !== undefined) set.sessionsValidAfter = sql`now()`;
    if (Object.keys(set).length === 0) return this.byId(id);
    return guard(async () => {
      const rows = await this.#db.update(users).set(set).where(eq(users.id, id)).returning();
      return rows[0] && toUser(rows[0]);
    });
  }

  count(): Promise<number> {
    return guard(async () => {
      const rows = await this.#db.select({ n: count() }).from(users);
      return Number(rows[0]?.n ?? 0);
    });
  }
}
