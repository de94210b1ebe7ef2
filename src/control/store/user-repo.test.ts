import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import type { DrizzleStore } from './db.ts';
import { STORE_BACKENDS } from './testing.ts';

const email = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}@school.example`;

describe.each(STORE_BACKENDS)('UserRepo on $name', ({ open }) => {
  let store: DrizzleStore;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('creates an account and reads it by id and by email in any case', async () => {
    const addr = email('Kim.Teacher');
    const u = await store.users.create({
      email: addr,
      name: '김선생',
      role: 'teacher',
      passwordHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
    });
    expect(u).toMatchObject({ email: addr, name: '김선생', role: 'teacher' });
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(u.createdAt).toBeInstanceOf(Date);
    expect(await store.users.byId(u.id)).toEqual(u);
    expect(await store.users.byEmail(addr.toUpperCase())).toEqual(u);
    expect(await store.users.byEmail(`  ${addr.toLowerCase()} `)).toEqual(u);
  });

  it('refuses a second account with the same email in another case', async () => {
    const addr = email('dup');
    await store.users.create({ email: addr, name: 'A', role: 'teacher', passwordHash: 'h' });
    const err = await store.users
      .create({ email: addr.toUpperCase(), name: 'B', role: 'admin', passwordHash: 'h' })
      .catch((e: unknown) => e);
    expect(isAirError(err, 'EMAIL_TAKEN')).toBe(true);
  });

  it('answers undefined for unknown or malformed ids and emails', async () => {
    expect(await store.users.byId(randomUUID())).toBeUndefined();
    expect(await store.users.byId('not-a-uuid')).toBeUndefined();
    expect(await store.users.byEmail('nobody@nowhere.example')).toBeUndefined();
  });

  it('lists oldest first and counts', async () => {
    const before = await store.users.count();
    const a = await store.users.create({ email: email('a'), name: 'A', role: 'admin', passwordHash: 'h' });
    const b = await store.users.create({ email: email('b'), name: 'B', role: 'teacher', passwordHash: 'h' });
    expect(await store.users.count()).toBe(before + 2);
    const ids = (await store.users.list()).map((u) => u.id);
    expect(ids).toHaveLength(before + 2);
    expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
  });
});
