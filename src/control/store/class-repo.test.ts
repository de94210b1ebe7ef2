import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAirError } from '../../shared/errors.ts';
import { DrizzleClassRepo, randomJoinCode, randomStreamKey } from './class-repo.ts';
import type { DrizzleStore } from './db.ts';
import { STORE_BACKENDS } from './testing.ts';

/** A generator that hands out the given values in order, then fresh random ones. */
function scripted(values: string[], fallback: () => string): () => string {
  const queue = [...values];
  return () => queue.shift() ?? fallback();
}

/** A join code no other test in this file uses. */
const uniqueCode = () => String(100000 + Math.floor(Math.random() * 899999));

describe.each(STORE_BACKENDS)('ClassRepo on $name', ({ open }) => {
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

  it('creates a scheduled class with a 6-digit code and a long URL-safe stream key', async () => {
    const c = await store.classes.create({ teacherId, title: '수학 1교시' });
    expect(c).toMatchObject({ teacherId, title: '수학 1교시', status: 'scheduled', chatLocked: false });
    expect(c.joinCode).toMatch(/^[0-9]{6}$/);
    expect(c.streamKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(c.startedAt).toBeNull();
    expect(await store.classes.byId(c.id)).toEqual(c);
    expect(await store.classes.byJoinCode(c.joinCode)).toEqual(c);
    expect(await store.classes.byStreamKey(c.streamKey)).toEqual(c);
    expect((await store.classes.listByTeacher(teacherId)).map((x) => x.id)).toContain(c.id);
    expect((await store.classes.listAll()).map((x) => x.id)).toContain(c.id);
  });

  it('refuses an unknown teacher', async () => {
    const err = await store.classes.create({ teacherId: randomUUID(), title: 'x' }).catch((e: unknown) => e);
    expect(isAirError(err, 'USER_NOT_FOUND')).toBe(true);
  });

  it('keeps join codes unique among classes not archived, retrying on a collision', async () => {
    const code = uniqueCode();
    const other = uniqueCode();
    const repo = new DrizzleClassRepo(store.db, {
      joinCode: scripted([code, code, code, other], randomJoinCode),
    });
    const a = await repo.create({ teacherId, title: 'A' });
    const b = await repo.create({ teacherId, title: 'B' }); // two collisions, then `other`
    expect(a.joinCode).toBe(code);
    expect(b.joinCode).toBe(other);

    // An archived class's code may be reused; the code then finds the new class only.
    await store.classes.archive(a.id);
    expect((await store.classes.archivedByJoinCode(code))?.id).toBe(a.id);
    const reuse = new DrizzleClassRepo(store.db, { joinCode: scripted([code], randomJoinCode) });
    const c = await reuse.create({ teacherId, title: 'C' });
    expect(c.joinCode).toBe(code);
    expect((await store.classes.byJoinCode(code))?.id).toBe(c.id);
  });

  it('gives up with CONFLICT when no free code turns up', async () => {
    const code = uniqueCode();
    const repo = new DrizzleClassRepo(store.db, { joinCode: () => code, maxAttempts: 3 });
    await repo.create({ teacherId, title: 'first' });
    const err = await repo.create({ teacherId, title: 'second' }).catch((e: unknown) => e);
    expect(isAirError(err, 'CONFLICT')).toBe(true);
  });

  it('retries a stream-key collision', async () => {
    const key = randomStreamKey();
    const repo = new DrizzleClassRepo(store.db, { streamKey: scripted([key, key], randomStreamKey) });
    const a = await repo.create({ teacherId, title: 'A' });
    const b = await repo.create({ teacherId, title: 'B' });
    expect(a.streamKey).toBe(key);
    expect(b.streamKey).not.toBe(key);
  });

  it('runs lessons: start is idempotent, end is final (epoch + 1), the next lesson is numbered', async () => {
    const c = await store.classes.create({ teacherId, title: 'life' });
    expect(c.epoch).toBe(0);
    const first = await store.lessons.start(c.id);
    expect(first.started).toBe(true);
    expect(first.lesson.number).toBe(1);
    expect(first.class.status).toBe('live');
    const again = await store.lessons.start(c.id);
    expect(again.started).toBe(false);
    expect(again.lesson.id).toBe(first.lesson.id);
    const p = await store.participants.join({ classId: c.id, name: 'S', role: 'student' });
    expect(p.lessonId).toBe(first.lesson.id);
    const ended = await store.lessons.end(c.id);
    expect(ended.lesson?.endedAt).toBeInstanceOf(Date);
    expect(ended.class.status).toBe('scheduled');
    expect(ended.class.epoch).toBe(1);
    expect(ended.class.lastEndedAt).toEqual(ended.lesson?.endedAt);
    expect((await store.participants.byId(p.id))?.leftAt).toBeInstanceOf(Date);
    expect((await store.lessons.end(c.id)).lesson).toBeUndefined();
    // Same join code for the next lesson.
    expect((await store.classes.byJoinCode(c.joinCode))?.id).toBe(c.id);
    const second = await store.lessons.start(c.id);
    expect(second.lesson.number).toBe(2);
    expect((await store.lessons.list(c.id)).map((l) => l.number)).toEqual([2, 1]);
    expect((await store.lessons.current(c.id))?.id).toBe(second.lesson.id);
  });

  it('starts one lesson when two callers race', async () => {
    const c = await store.classes.create({ teacherId, title: 'race' });
    const [a, b] = await Promise.all([store.lessons.start(c.id), store.lessons.start(c.id)]);
    expect(a.lesson.id).toBe(b.lesson.id);
    expect([a.started, b.started].filter(Boolean)).toHaveLength(1);
  });

  it('archives: epoch + 1, code freed, no lesson starts', async () => {
    const c = await store.classes.create({ teacherId, title: 'old' });
    const a = await store.classes.archive(c.id);
    expect(a?.status).toBe('archived');
    expect(a?.epoch).toBe(1);
    expect(await store.classes.byJoinCode(c.joinCode)).toBeUndefined();
    expect((await store.classes.archive(c.id))?.epoch).toBe(1);
    const err = await store.lessons.start(c.id).catch((e: unknown) => e);
    expect(isAirError(err, 'CLASS_ARCHIVED')).toBe(true);
    expect((await store.classes.rename(c.id, 'new'))?.title).toBe('new');
    expect(await store.classes.archive(randomUUID())).toBeUndefined();
  });

  it('rotates the stream key and locks the chat', async () => {
    const c = await store.classes.create({ teacherId, title: 'keys' });
    const r = await store.classes.rotateStreamKey(c.id);
    expect(r?.streamKey).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(r?.streamKey).not.toBe(c.streamKey);
    expect(await store.classes.byStreamKey(c.streamKey)).toBeUndefined();
    expect((await store.classes.byStreamKey(r!.streamKey))?.id).toBe(c.id);
    expect((await store.classes.setChatLocked(c.id, true))?.chatLocked).toBe(true);
    expect((await store.classes.setChatLocked(c.id, false))?.chatLocked).toBe(false);
    expect(await store.classes.rotateStreamKey(randomUUID())).toBeUndefined();
  });

  it('hands out sequence numbers that never repeat under concurrent callers', async () => {
    const c = await store.classes.create({ teacherId, title: 'seq' });
    expect(await store.classes.currentSeq(c.id)).toBe(0);
    // Two "replicas" (on PostgreSQL: pooled connections in parallel), 40 calls each.
    const burst = () => Promise.all(Array.from({ length: 40 }, () => store.classes.nextSeq(c.id)));
    const [x, y] = await Promise.all([burst(), burst()]);
    const all = [...x, ...y].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await store.classes.currentSeq(c.id)).toBe(80);
    const err = await store.classes.nextSeq(randomUUID()).catch((e: unknown) => e);
    expect(isAirError(err, 'CLASS_NOT_FOUND')).toBe(true);
  });

  it('answers undefined for malformed lookups', async () => {
    expect(await store.classes.byId('nope')).toBeUndefined();
    expect(await store.classes.byJoinCode('12ab56')).toBeUndefined();
    expect(await store.classes.byStreamKey('')).toBeUndefined();
    expect(await store.classes.listByTeacher('nope')).toEqual([]);
  });
});
