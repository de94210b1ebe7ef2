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
      { participantId: 's1', score: 90, watching: 1 },
      { participantId: 's2', score: 20, watching: 0 },
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
});
