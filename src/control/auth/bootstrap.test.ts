import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DrizzleStore } from '../store/db.ts';
import { openMemoryStore } from '../store/testing.ts';
import { ensureAdmin } from './bootstrap.ts';
import { verifyPassword } from './passwords.ts';

const FAST = { N: 1 << 10, r: 8, p: 1 };

function capture(): { logger: pino.Logger; text: () => string } {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => out };
}

describe('admin bootstrap', () => {
  let store: DrizzleStore;
  beforeAll(async () => {
    store = await openMemoryStore();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('makes the admin on first start, prints a generated password once and never logs it', async () => {
    const log = capture();
    const printed: string[] = [];
    const opts = {
      users: store.users,
      email: 'admin@airclass.local',
      print: (s: string) => printed.push(s),
      logger: log.logger,
      passwordParams: FAST,
    };
    expect(await ensureAdmin(opts)).toBe(true);
    expect(printed).toHaveLength(1);
    const password = /password\s+(\S+)/.exec(printed[0]!)?.[1] ?? '';
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const admin = await store.users.byEmail('admin@airclass.local');
    expect(admin?.role).toBe('admin');
    expect(await verifyPassword(password, admin!.passwordHash)).toBe(true);
    expect(log.text()).toContain('admin account created');
    expect(log.text()).not.toContain(password);
    // Second start: nothing made, nothing printed.
    expect(await ensureAdmin(opts)).toBe(false);
    expect(printed).toHaveLength(1);
  });

  it('uses the given password and prints nothing', async () => {
    const other = await openMemoryStore();
    try {
      const printed: string[] = [];
      await ensureAdmin({
        users: other.users,
        email: 'boss@school.test',
        password: 'chosen-password',
        print: (s) => printed.push(s),
        logger: capture().logger,
        passwordParams: FAST,
      });
      expect(printed).toEqual([]);
      const u = await other.users.byEmail('boss@school.test');
      expect(await verifyPassword('chosen-password', u!.passwordHash)).toBe(true);
    } finally {
      await other.close();
    }
  });
});
