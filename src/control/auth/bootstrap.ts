/**
 * The first start makes the admin account: email from the config (`adminEmail`, env
 * AIRCLASS_ADMIN_EMAIL), password from AIRCLASS_ADMIN_PASSWORD or, without it, generated and
 * printed once to stdout for the person at the console. The password never reaches the log.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/logger.ts';
import type { UserRepo } from '../store/types.ts';
import { hashPassword, type ScryptParams } from './passwords.ts';

/** What `ensureAdmin` needs. */
export interface EnsureAdminOptions {
  users: Pick<UserRepo, 'count' | 'create' | 'byEmail'>;
  email: string;
  /** The chosen password; undefined or empty = generate one. */
  password?: string;
  /** Where the generated password is shown (stdout; never the logger). */
  print: (text: string) => void;
  logger: Logger;
  passwordParams?: ScryptParams;
}

/** A password of 16 URL-safe characters (96 bits). */
export function generatePassword(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Creates the admin when there is no account at all. Returns true when it made one. Safe when
 * two replicas start at once on an empty database: the loser's insert fails on the unique
 * email, and it carries on.
 */
export async function ensureAdmin(opts: EnsureAdminOptions): Promise<boolean> {
  if ((await opts.users.count()) > 0) return false;
  const generated = !opts.password;
  const password = opts.password || generatePassword();
  try {
    await opts.users.create({
      email: opts.email,
      name: 'Administrator',
      role: 'admin',
      passwordHash: await hashPassword(password, opts.passwordParams),
    });
  } catch (e) {
    if (await opts.users.byEmail(opts.email)) return false;
    throw e;
  }
  opts.logger.info({ email: opts.email, generatedPassword: generated }, 'admin account created');
  if (generated) {
    opts.print(
      [
        '',
        'AirClass made the admin account (shown this once; it is not logged):',
        `  email     ${opts.email}`,
        `  password  ${password}`,
        'Sign in and create teacher accounts. Set AIRCLASS_ADMIN_PASSWORD to choose the password.',
        '',
      ].join('\n'),
    );
  }
  return true;
}
