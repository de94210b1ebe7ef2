import { describe, expect, it } from 'vitest';
import { classScore, engagementScore, isActive, quizShare, watchingShare } from './score.ts';

const T = 1_000_000;

describe('engagement score', () => {
  it('is 100 for a student who watches, answered fast and chatted', () => {
    const watching = watchingShare([{ at: T - 120_000, watching: true }], T - 120_000, T);
    expect(watching).toBe(1);
    const quiz = quizShare(
      [{ id: 'r', openedAt: T - 60_000, limitMs: 30_000, closed: true }],
      new Map([['r', 0]]),
      0,
    );
    expect(engagementScore({ watching, quiz, active: isActive(T - 1000, T) })).toBe(100);
  });

  it('drops when the tab is hidden', () => {
    const visible = [{ at: T - 120_000, watching: true }];
    const hidden = [...visible, { at: T - 30_000, watching: false }];
    const before = engagementScore({ watching: watchingShare(visible, 0, T), quiz: 1, active: false });
    const after = engagementScore({ watching: watchingShare(hidden, 0, T), quiz: 1, active: false });
    expect(before).toBe(90);
    expect(after).toBe(55);
    // Hidden for the whole minute: only the quiz part is left.
    expect(engagementScore({ watching: watchingShare(hidden, 0, T + 30_000), quiz: 1, active: false })).toBe(
      20,
    );
  });

  it('measures the watching share over the time present, within the last minute', () => {
    // Joined 10 s ago, watching since: a full share.
    expect(watchingShare([{ at: T - 10_000, watching: true }], T - 10_000, T)).toBe(1);
    // No state reported yet: not watching.
    expect(watchingShare([], T - 10_000, T)).toBe(0);
    // Watching 15 s of the last 60 s, in two spells.
    const spells = [
      { at: T - 50_000, watching: true },
      { at: T - 40_000, watching: false },
      { at: T - 5000, watching: true },
    ];
    expect(watchingShare(spells, 0, T)).toBeCloseTo(15 / 60);
  });

  it('scores quizzes by answering and speed, ignoring runs before the student came', () => {
    const runs = [
      { id: 'a', openedAt: T - 100_000, limitMs: 20_000, closed: true },
      { id: 'b', openedAt: T - 50_000, limitMs: 20_000, closed: true },
      { id: 'c', openedAt: T - 1000, limitMs: 20_000, closed: false },
    ];
    expect(quizShare([], new Map(), 0)).toBe(1);
    // Answered a in half the time (0.75), missed b (0), c still open and unanswered (skipped).
    expect(quizShare(runs, new Map([['a', 10_000]]), 0)).toBeCloseTo(0.375);
    // Arrived after a opened: only b counts.
    expect(quizShare(runs, new Map(), T - 60_000)).toBe(0);
    // An answered open run counts.
    expect(quizShare(runs, new Map([['c', 20_000]]), T - 10_000)).toBe(0.5);
  });

  it('is active for 5 minutes after a chat, reaction or hand; class = mean', () => {
    expect(isActive(undefined, T)).toBe(false);
    expect(isActive(T - 300_000, T)).toBe(true);
    expect(isActive(T - 300_001, T)).toBe(false);
    expect(classScore([100, 50, 0])).toBe(50);
    expect(classScore([])).toBe(0);
  });
});
