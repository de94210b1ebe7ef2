import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrizzleStore } from './db.ts';
import { DrizzleEngagementRepo } from './engagement-repo.ts';
import { STORE_BACKENDS } from './testing.ts';

describe.each(STORE_BACKENDS)('EngagementRepo on $name', ({ open }) => {
  let store: DrizzleStore;
  let repo: DrizzleEngagementRepo;
  let teacherId: string;
  beforeAll(async () => {
    store = await open();
    repo = new DrizzleEngagementRepo(store.db);
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

  async function lessonWith(...names: string[]) {
    const c = await store.classes.create({ teacherId, title: 'e' });
    const { lesson } = await store.lessons.start(c.id);
    const people = [];
    for (const name of names)
      people.push(await store.participants.join({ classId: c.id, name, role: 'student' }));
    return { c, lesson, people };
  }

  it('records interactions per student and derives the raised hands', async () => {
    const { c, lesson, people } = await lessonWith('가', '나', '다');
    const [a, b, d] = [people[0]!, people[1]!, people[2]!];
    const hand = (p: { id: string }, action: string, name: string) =>
      repo.add({
        lessonId: lesson.id,
        classId: c.id,
        participantId: p.id,
        kind: 'hand',
        data: { action, name },
      });
    await hand(a, 'raise', '가');
    await hand(b, 'raise', '나');
    await hand(d, 'raise', '다');
    await hand(b, 'lower', '나');
    await repo.add({
      lessonId: lesson.id,
      classId: c.id,
      participantId: a.id,
      kind: 'reaction',
      data: { kind: 'clap' },
    });
    expect((await repo.raisedHands(c.id, lesson.startedAt)).map((h) => h.name)).toEqual(['가', '다']);
    expect(await repo.raisedHands(c.id, new Date(Date.now() + 60_000))).toEqual([]);
    expect((await repo.of(a.id)).map((i) => i.kind)).toEqual(['hand', 'reaction']);
    expect((await repo.of(a.id, 'reaction'))[0]?.data).toEqual({ kind: 'clap' });
  });

  it('writes one sample per student per 10-s bucket and averages the class', async () => {
    const { lesson, people } = await lessonWith('가', '나');
    const [a, b] = [people[0]!, people[1]!];
    const t0 = new Date(Math.floor(Date.now() / 10_000) * 10_000);
    await repo.addSamples(lesson.id, t0, [
      { participantId: a.id, score: 80, watching: 1 },
      { participantId: b.id, score: 40, watching: 0.5 },
    ]);
    // Another replica sampling the same bucket writes nothing new.
    await repo.addSamples(lesson.id, new Date(t0.getTime() + 3000), [
      { participantId: a.id, score: 10, watching: 0 },
    ]);
    await repo.addSamples(lesson.id, new Date(t0.getTime() + 10_000), [
      { participantId: a.id, score: 60, watching: 1 },
    ]);
    const series = await repo.series(lesson.id);
    expect(series.map((s) => s.class)).toEqual([60, 60]);
    expect(series[1]!.at.getTime() - series[0]!.at.getTime()).toBe(10_000);
    const latest = new Map((await repo.latest(lesson.id)).map((s) => [s.participantId, s.score]));
    expect(latest).toEqual(
      new Map([
        [a.id, 60],
        [b.id, 40],
      ]),
    );
    expect((await repo.samplesOf([a.id])).map((s) => s.score)).toEqual([80, 60]);
  });

  it('marks a sample stalled when a stall is reported later in its bucket, never unmarks it', async () => {
    const { lesson, people } = await lessonWith('가', '나');
    const [a, b] = [people[0]!, people[1]!];
    const t0 = new Date(Math.floor(Date.now() / 10_000) * 10_000);
    await repo.addSamples(lesson.id, t0, [
      { participantId: a.id, score: 80, watching: 1, stalled: false },
      { participantId: b.id, score: 40, watching: 0.5 },
    ]);
    // Later in the bucket a stall of a: the flag is raised, the score kept.
    await repo.addSamples(lesson.id, new Date(t0.getTime() + 6000), [
      { participantId: a.id, score: 10, watching: 0, stalled: true },
    ]);
    // Another replica's unstalled duplicate does not lower it again.
    await repo.addSamples(lesson.id, new Date(t0.getTime() + 7000), [
      { participantId: a.id, score: 10, watching: 0, stalled: false },
      { participantId: b.id, score: 10, watching: 0, stalled: false },
    ]);
    const rows = await repo.samplesOf([a.id, b.id]);
    const by = new Map(rows.map((r) => [r.participantId, [r.score, r.watching, r.stalled]]));
    expect(rows).toHaveLength(2);
    expect(by).toEqual(
      new Map([
        [a.id, [80, 1, true]],
        [b.id, [40, 0.5, false]],
      ]),
    );
  });
});
