/**
 * The engagement score of a student, 0–100, from interactions only (DESIGN §11; the README
 * states the same formula):
 *
 *   70 × watching share of the last 60 s (watching = playing with the tab visible)
 * + 20 × quiz share (per quiz run of the lesson while present: answered → 0.5 + 0.5 × (1 − ms /
 *        limit), unanswered → 0; the mean; 1 before any quiz; a run still open and not yet
 *        answered does not count)
 * + 10 × active (a chat message, reaction or hand in the last 5 min).
 *
 * Pure functions of timestamps (ms since the epoch), so they are tested without clocks.
 */

/** The window of the watching share. */
export const WATCH_WINDOW_MS = 60_000;
/** How long a chat message, reaction or hand keeps a student "active". */
export const ACTIVE_WINDOW_MS = 5 * 60_000;

/** A change of a student's watching state at `at`. */
export interface WatchChange {
  at: number;
  watching: boolean;
}

/** One quiz run of the lesson. */
export interface RunInfo {
  id: string;
  openedAt: number;
  limitMs: number;
  closed: boolean;
}

/**
 * The share of the window [max(now − 60 s, since), now] the student was watching, from their
 * state changes (oldest first; before the first, not watching). An empty window: 1 if watching now.
 */
export function watchingShare(changes: readonly WatchChange[], since: number, now: number): number {
  const start = Math.max(now - WATCH_WINDOW_MS, since);
  let watching = false;
  let t = start;
  let watched = 0;
  for (const c of changes) {
    if (c.at > now) break;
    if (c.at > t) {
      if (watching) watched += c.at - t;
      t = c.at;
    }
    watching = c.watching;
  }
  if (watching) watched += now - t;
  const span = now - start;
  if (span <= 0) return watching ? 1 : 0;
  return Math.min(1, Math.max(0, watched / span));
}

/**
 * The quiz share: mean over the runs opened while the student was present (since
 * `presentSince`) or that they answered; 1 when there are none.
 */
export function quizShare(
  runs: readonly RunInfo[],
  answeredMs: ReadonlyMap<string, number>,
  presentSince: number,
): number {
  let sum = 0;
  let n = 0;
  for (const r of runs) {
    const ms = answeredMs.get(r.id);
    if (ms === undefined && (!r.closed || r.openedAt < presentSince)) continue;
    n += 1;
    if (ms !== undefined) sum += 0.5 + 0.5 * (1 - Math.min(Math.max(ms, 0), r.limitMs) / r.limitMs);
  }
  return n === 0 ? 1 : sum / n;
}

/** True when the last chat, reaction or hand (ms, or undefined) is within the last 5 minutes. */
export function isActive(lastActivity: number | undefined, now: number): boolean {
  return lastActivity !== undefined && now - lastActivity <= ACTIVE_WINDOW_MS;
}

/** The score, 0–100, rounded. */
export function engagementScore(p: { watching: number; quiz: number; active: boolean }): number {
  const raw = 70 * p.watching + 20 * p.quiz + 10 * (p.active ? 1 : 0);
  return Math.round(Math.min(100, Math.max(0, raw)));
}

/** The class score: the mean over present students (0 without any). */
export function classScore(scores: readonly number[]): number {
  if (scores.length === 0) return 0;
  return Math.round(scores.reduce((a, b) => a + b, 0) / scores.length);
}
