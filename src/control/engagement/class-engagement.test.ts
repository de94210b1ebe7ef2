import { describe, expect, it } from 'vitest';
import type { RosterEntry } from '../ws/messages.ts';
import { ClassEngagement, type QuizStats } from './class-engagement.ts';

const T = Date.parse('2026-03-02T09:00:00Z');
const NO_QUIZ: QuizStats = { runs: [], answers: new Map() };
const entry = (
  id: string,
  name: string,
  role: RosterEntry['role'] = 'student',
  at = T - 60_000,
): RosterEntry => ({
  id,
  name,
  role,
  joinedAt: new Date(at).toISOString(),
});

describe('ClassEngagement', () => {
  it('scores the present students only, one entry per student across their tabs', () => {
    const c = new ClassEngagement();
    c.applyState({ sub: 's1', pid: 's1', name: '가', playing: 'playing', visible: true, at: T - 60_000 });
    // A second tab of s1 (its own attendance id) reports too.
    c.applyState({ sub: 's1', pid: 'tab2', name: '가', playing: 'playing', visible: true, at: T - 30_000 });
    c.applyState({
      sub: 'gone',
      pid: 'gone',
      name: '없음',
      playing: 'playing',
      visible: true,
      at: T - 60_000,
    });
    const roster = [
      entry('s1', '가'),
      entry('tab2', '가'),
      entry('s2', '나'),
      entry('t', '선생님', 'teacher'),
    ];
    const snap = c.snapshot(roster, NO_QUIZ, T);
    expect(snap.students.map((s) => [s.id, s.score, s.watching])).toEqual([
      ['s1', 90, true],
      ['s2', 20, false],
    ]);
    expect(snap.class).toBe(55);
    expect(snap.samples).toEqual([
      { participantId: 's1', score: 90, watching: 1, stalled: false },
      { participantId: 's2', score: 20, watching: 0, stalled: false },
    ]);
  });

  it('counts chat, reactions and hands as activity, and quiz answers by speed', () => {
    const c = new ClassEngagement();
    c.applyState({ sub: 's1', pid: 's1', name: '가', playing: 'paused', visible: true, at: T - 60_000 });
    c.activity('s1', '가', T - 1000);
    const quiz: QuizStats = {
      runs: [{ id: 'r', openedAt: T - 30_000, limitMs: 20_000, closed: true }],
      answers: new Map([['r', new Map([['s1', 0]])]]),
    };
    const [s] = c.snapshot([entry('s1', '가')], quiz, T).students;
    expect(s).toMatchObject({ score: 30, playing: 'paused', watching: false });
    c.reset();
    expect(c.snapshot([entry('s1', '가')], quiz, T).students[0]!.score).toBe(20);
  });

  it('marks the sample of every 10-s bucket in which a player stalled, even after it was written', () => {
    const c = new ClassEngagement();
    const roster = [entry('s1', '가'), entry('s2', '나')];
    const state = (sub: string, playing: 'playing' | 'stalled', at: number, stalled?: boolean) =>
      c.applyState({ sub, pid: sub, name: sub, playing, visible: true, at, stalled });
    const stalledAt = (now: number) =>
      c
        .samplesDue(c.snapshot(roster, NO_QUIZ, now).samples, now)
        .map((d) => [d.at - T, d.samples.map((s) => [s.participantId, s.stalled])]);
    state('s1', 'playing', T - 60_000);
    state('s2', 'playing', T - 60_000);
    // Bucket T…T+10 s: the first snapshot writes both students, nobody stalled yet.
    expect(stalledAt(T + 500)).toEqual([
      [
        500,
        [
          ['s1', false],
          ['s2', false],
        ],
      ],
    ]);
    // s1 stalls for 1 s between two snapshots: only s1 is written again, marked stalled, once.
    state('s1', 'stalled', T + 3000);
    state('s1', 'playing', T + 4000);
    expect(stalledAt(T + 4500)).toEqual([[4500, [['s1', true]]]]);
    expect(stalledAt(T + 6500)).toEqual([]);
    // s2's stall is reported only as the `stalled` flag of a later state (the throttle dropped it),
    // after the bucket's last snapshot: the next bucket's first snapshot marks the previous one.
    state('s2', 'playing', T + 9000, true);
    expect(stalledAt(T + 10_500)).toEqual([
      [0, [['s2', true]]],
      [
        10_500,
        [
          ['s1', false],
          ['s2', false],
        ],
      ],
    ]);
    // A stall that starts after a bucket's last snapshot and goes on counts in every bucket it spans.
    state('s2', 'stalled', T + 12_000);
    expect(stalledAt(T + 20_500)).toEqual([
      [10_000, [['s2', true]]],
      [
        20_500,
        [
          ['s1', false],
          ['s2', true],
        ],
      ],
    ]);
    expect(c.stalledBetween(T + 2000, T + 3000)).toEqual([]);
    expect(c.stalledBetween(T + 2000, T + 3001)).toEqual(['s1']);
  });
});
