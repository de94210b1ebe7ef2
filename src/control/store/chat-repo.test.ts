import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import type { DrizzleStore } from './db.ts';
import { STORE_BACKENDS } from './testing.ts';
import type { ClassRecord } from './types.ts';

describe.each(STORE_BACKENDS)('ChatRepo on $name', ({ open }) => {
  let store: DrizzleStore;
  let teacherId: string;
  beforeAll(async () => {
    store = await open();
    const t = await store.users.create({
      email: `t-${randomUUID()}@school.example`,
      name: 'T',
      role: 'teacher',
      passwordHash: 'h',
    });
    teacherId = t.id;
  });
  afterAll(async () => {
    await store?.close();
  });

  /** Sends `n` messages in a fresh class, each with a seq from nextSeq. */
  async function classWithChat(n: number): Promise<ClassRecord> {
    const c = await store.classes.create({ teacherId, title: 'chat' });
    for (let i = 1; i <= n; i++) {
      await store.chat.add({
        classId: c.id,
        seq: await store.classes.nextSeq(c.id),
        senderId: teacherId,
        senderName: '선생님',
        senderRole: 'teacher',
        text: `메시지 ${i}`,
      });
    }
    return c;
  }

  it('stores messages and returns those after a seq, oldest first, at most limit', async () => {
    const c = await classWithChat(5);
    const all = await store.chat.since(c.id, 0, 100);
    expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]).toMatchObject({ classId: c.id, senderName: '선생님', text: '메시지 1', deletedAt: null });
    expect(all[0]?.createdAt).toBeInstanceOf(Date);
    expect((await store.chat.since(c.id, 2, 100)).map((m) => m.seq)).toEqual([3, 4, 5]);
    expect((await store.chat.since(c.id, 1, 2)).map((m) => m.seq)).toEqual([2, 3]);
    expect(await store.chat.since(c.id, 5, 100)).toEqual([]);
    expect(await store.chat.since(c.id, 0, 0)).toEqual([]);
    // Another class's messages never leak in.
    const other = await classWithChat(1);
    expect((await store.chat.since(other.id, 0, 100)).map((m) => m.text)).toEqual(['메시지 1']);
  });

  it('marks a deleted message and still returns it, marked', async () => {
    const c = await classWithChat(3);
    const [, second] = await store.chat.since(c.id, 0, 10);
    const deleted = await store.chat.delete(c.id, second!.id);
    expect(deleted?.id).toBe(second!.id);
    expect(deleted?.deletedAt).toBeInstanceOf(Date);
    // Deleting again keeps the first deletion time.
    expect((await store.chat.delete(c.id, second!.id))?.deletedAt).toEqual(deleted?.deletedAt);
    const after = await store.chat.since(c.id, 0, 10);
    expect(after.map((m) => m.deletedAt !== null)).toEqual([false, true, false]);
  });

  it('deletes only within the given class', async () => {
    const a = await classWithChat(1);
    const b = await classWithChat(1);
    const [msg] = await store.chat.since(a.id, 0, 1);
    expect(await store.chat.delete(b.id, msg!.id)).toBeUndefined();
    expect(await store.chat.delete(a.id, randomUUID())).toBeUndefined();
    expect(await store.chat.delete(a.id, 'nope')).toBeUndefined();
    expect((await store.chat.since(a.id, 0, 1))[0]?.deletedAt).toBeNull();
  });

  it('refuses a reused seq and an unknown class', async () => {
    const c = await classWithChat(1);
    const msg = {
      classId: c.id,
      seq: 1,
      senderId: 'x',
      senderName: 'x',
      senderRole: 'student' as const,
      text: 'hi',
    };
    expect(isAirError(await store.chat.add(msg).catch((e: unknown) => e), 'CONFLICT')).toBe(true);
    const lost = { ...msg, classId: randomUUID() };
    expect(isAirError(await store.chat.add(lost).catch((e: unknown) => e), 'CLASS_NOT_FOUND')).toBe(true);
  });
});
