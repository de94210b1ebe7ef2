import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import type { DrizzleStore } from './db.ts';
import { STORE_BACKENDS } from './testing.ts';
import type { ClassRecord } from './types.ts';

describe.each(STORE_BACKENDS)('ParticipantRepo on $name', ({ open }) => {
  let store: DrizzleStore;
  let klass: ClassRecord;
  beforeAll(async () => {
    store = await open();
    const t = await store.users.create({
      email: `t-${randomUUID()}@school.example`,
      name: 'T',
      role: 'teacher',
      passwordHash: 'h',
    });
    klass = await store.classes.create({ teacherId: t.id, title: 'attendance' });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('records joins and leaves in join order', async () => {
    const minji = await store.participants.join({ classId: klass.id, name: '민지', role: 'student' });
    const teacher = await store.participants.join({ classId: klass.id, name: 'T', role: 'teacher' });
    expect(minji).toMatchObject({ classId: klass.id, name: '민지', role: 'student', leftAt: null });
    expect(minji.joinedAt).toBeInstanceOf(Date);

    await store.participants.leave(minji.id);
    const left = await store.participants.byId(minji.id);
    expect(left?.leftAt).toBeInstanceOf(Date);
    expect(left!.leftAt!.getTime()).toBeGreaterThanOrEqual(minji.joinedAt.getTime());

    // A second leave keeps the first leave time.
    await store.participants.leave(minji.id);
    expect((await store.participants.byId(minji.id))?.leftAt).toEqual(left?.leftAt);

    // Rejoining is a new attendance row.
    const again = await store.participants.join({ classId: klass.id, name: '민지', role: 'student' });
    const list = await store.participants.listByClass(klass.id);
    // Join order (PGlite's clock has millisecond resolution: joins within one ms tie, by id).
    expect(list.map((p) => p.id).sort()).toEqual([minji.id, teacher.id, again.id].sort());
    const times = list.map((p) => p.joinedAt.getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(list.find((p) => p.id === minji.id)?.leftAt).not.toBeNull();
    expect(
      list
        .filter((p) => p.leftAt === null)
        .map((p) => p.id)
        .sort(),
    ).toEqual([teacher.id, again.id].sort());
  });

  it('closes every open attendance of a class at once', async () => {
    const t = await store.users.create({
      email: `t-${randomUUID()}@school.example`,
      name: 'T2',
      role: 'teacher',
      passwordHash: 'h',
    });
    const c = await store.classes.create({ teacherId: t.id, title: 'end' });
    const a = await store.participants.join({ classId: c.id, name: 'a', role: 'student' });
    await store.participants.join({ classId: c.id, name: 'b', role: 'monitor' });
    await store.participants.leave(a.id);
    expect(await store.participants.leaveAll(c.id)).toBe(1);
    expect(await store.participants.leaveAll(c.id)).toBe(0);
    expect((await store.participants.listByClass(c.id)).every((p) => p.leftAt !== null)).toBe(true);
  });

  it('refuses an unknown class and ignores unknown ids', async () => {
    for (const classId of [randomUUID(), 'not-a-uuid']) {
      const err = await store.participants
        .join({ classId, name: 'x', role: 'student' })
        .catch((e: unknown) => e);
      expect(isAirError(err, 'CLASS_NOT_FOUND')).toBe(true);
    }
    await store.participants.leave(randomUUID());
    await store.participants.leave('nope');
    expect(await store.participants.byId(randomUUID())).toBeUndefined();
    expect(await store.participants.listByClass(randomUUID())).toEqual([]);
  });
});
