/**
 * The engagement state of one class, without I/O: each student's player/tab changes (as their
 * pages report them), their last chat/reaction/hand, and the lesson's quiz runs and answers;
 * from which a snapshot of the present students' scores is computed (score.ts), and when their
 * players stalled (each 10-s sample says whether it did in its bucket). Every replica
 * that has sockets of the class keeps one, fed from the class bus, so any replica can push
 * snapshots to its own staff sockets.
 */
import type { EngagementEntry, RosterEntry } from '../ws/messages.ts';
import type { PlayerState } from '../ws/classroom-actions.ts';
import {
  WATCH_WINDOW_MS,
  classScore,
  engagementScore,
  isActive,
  quizShare,
  watchingShare,
  type RunInfo,
  type WatchChange,
} from './score.ts';

/** A state report as it travels on the bus. */
export interface StateReport extends PlayerState {
  /** The student (token subject = their attendance id from the join). */
  sub: string;
  /** The socket's attendance id (differs from `sub` for a second tab). */
  pid: string;
  name: string;
  /** ms since the epoch. */
  at: number;
  /** The player stalled since the previous report (a short stall the 250-ms throttle dropped). */
  stalled?: boolean;
}

/** The span of one engagement sample (samples are stored per 10-s bucket). */
export const SAMPLE_MS = 10_000;

/** A stall of a student's player: from its report to the next report that is not a stall. */
interface Stall {
  from: number;
  /** Undefined while it lasts. */
  to?: number;
}

/** The quiz part of the lesson: runs and, per run, each student's answer time. */
export interface QuizStats {
  runs: RunInfo[];
  /** runId → participant id → ms. */
  answers: Map<string, Map<string, number>>;
}

interface StudentState extends PlayerState {
  name: string;
  changes: WatchChange[];
  /** Stalls of the last minute, oldest first. */
  stalls: Stall[];
  lastActivity?: number;
}

/** True when one of the stalls overlaps [from, to). */
function stalledIn(stalls: readonly Stall[], from: number, to: number): boolean {
  return stalls.some((s) => s.from < to && (s.to ?? Infinity) >= from);
}

/** One sample per present student. */
export interface Sample {
  participantId: string;
  score: number;
  watching: number;
  /** Their player stalled in this sample's 10-s bucket (so far). */
  stalled: boolean;
}

/** Samples to write at `at` (ms; stored in its 10-s bucket). */
export interface DueSamples {
  at: number;
  samples: Sample[];
}

/** What a snapshot gives: the `engagement` message fields and the samples to store. */
export interface Snapshot {
  class: number;
  students: EngagementEntry[];
  samples: Sample[];
}

/** The engagement state of one class. */
export class ClassEngagement {
  private readonly students = new Map<string, StudentState>();
  /** Socket attendance id → student (token subject). */
  private readonly alias = new Map<string, string>();
  /** The bucket (index) whose samples were written, and who of it is written stalled. */
  private sampled = { bucket: -1, stalled: new Set<string>(), checkedUntil: undefined as number | undefined };

  private student(sub: string, name: string): StudentState {
    let s = this.students.get(sub);
    if (!s) {
      s = { name, playing: 'none', visible: true, changes: [], stalls: [] };
      this.students.set(sub, s);
    }
    return s;
  }

  /** Applies a student's player/tab report. */
  applyState(r: StateReport): void {
    if (r.pid !== r.sub) this.alias.set(r.pid, r.sub);
    const s = this.student(r.sub, r.name);
    this.trackStall(s, r);
    s.name = r.name;
    s.playing = r.playing;
    s.visible = r.visible;
    const watching = r.playing === 'playing' && r.visible;
    const last = s.changes[s.changes.length - 1];
    if (!last || last.watching !== watching) s.changes.push({ at: r.at, watching });
    // Keep the changes of the window and the one in force at its start.
    const cut = r.at - WATCH_WINDOW_MS;
    while (s.changes.length > 1 && s.changes[1]!.at <= cut) s.changes.shift();
  }

  private trackStall(s: StudentState, r: StateReport): void {
    const open = s.stalls[s.stalls.length - 1];
    const inStall = open !== undefined && open.to === undefined;
    if (r.playing === 'stalled') {
      if (!inStall) s.stalls.push({ from: r.at });
    } else {
      if (inStall) open.to = r.at;
      else if (r.stalled) s.stalls.push({ from: r.at, to: r.at });
    }
    const cut = r.at - WATCH_WINDOW_MS;
    while (s.stalls.length > 0 && s.stalls[0]!.to !== undefined && s.stalls[0]!.to < cut) s.stalls.shift();
  }

  /** The students (token subjects) whose player stalled at some moment of [from, to). */
  stalledBetween(from: number, to: number): string[] {
    const out: string[] = [];
    for (const [sub, s] of this.students) if (stalledIn(s.stalls, from, to)) out.push(sub);
    return out;
  }

  /**
   * What to store of a snapshot's samples taken at `now`: all of them, the first time in a
   * 10-s bucket; later in the bucket, those newly stalled (the store or-s `stalled` in). A
   * stall between the previous bucket's last snapshot and its end marks that bucket too.
   */
  samplesDue(samples: readonly Sample[], now: number): DueSamples[] {
    const bucket = Math.floor(now / SAMPLE_MS);
    const { checkedUntil: since, stalled: marked } = this.sampled;
    this.sampled.checkedUntil = now;
    const out: DueSamples[] = [];
    if (bucket === this.sampled.bucket) {
      const newly = samples.filter((s) => s.stalled && !marked.has(s.participantId));
      for (const s of newly) marked.add(s.participantId);
      if (newly.length > 0) out.push({ at: now, samples: newly });
      return out;
    }
    if (since !== undefined && this.sampled.bucket === bucket - 1) {
      const start = bucket * SAMPLE_MS;
      const late = new Set(this.stalledBetween(Math.max(since, start - SAMPLE_MS), start));
      const tail = samples.filter((s) => late.has(s.participantId) && !marked.has(s.participantId));
      if (tail.length > 0)
        out.push({ at: start - SAMPLE_MS, samples: tail.map((s) => ({ ...s, stalled: true })) });
    }
    if (samples.length > 0) {
      const stalled = samples.filter((s) => s.stalled).map((s) => s.participantId);
      this.sampled = { bucket, stalled: new Set(stalled), checkedUntil: now };
      out.push({ at: now, samples: [...samples] });
    }
    return out;
  }

  /** A chat message, reaction or hand of a student. */
  activity(sub: string, name: string, at: number): void {
    const s = this.student(sub, name);
    s.lastActivity = Math.max(s.lastActivity ?? 0, at);
  }

  /** Forgets everything (the lesson ended). */
  reset(): void {
    this.students.clear();
    this.alias.clear();
    this.sampled = { bucket: -1, stalled: new Set(), checkedUntil: undefined };
  }

  /**
   * The scores of the present students (roster entries of students, one per student); each
   * sample's `stalled` covers the 10-s bucket of `now` up to `now`.
   */
  snapshot(roster: readonly RosterEntry[], quiz: QuizStats, now: number): Snapshot {
    const present = new Map<string, { name: string; since: number }>();
    for (const r of roster) {
      if (r.role !== 'student') continue;
      const sub = this.alias.get(r.id) ?? r.id;
      const since = Date.parse(r.joinedAt);
      const prev = present.get(sub);
      present.set(sub, {
        name: r.name,
        since: Math.min(prev?.since ?? Infinity, Number.isNaN(since) ? now : since),
      });
    }
    const students: EngagementEntry[] = [];
    const samples: Sample[] = [];
    const bucketStart = Math.floor(now / SAMPLE_MS) * SAMPLE_MS;
    for (const [sub, p] of present) {
      const s = this.students.get(sub);
      const watching = s ? watchingShare(s.changes, p.since, now) : 0;
      const answered = new Map<string, number>();
      for (const [runId, by] of quiz.answers) {
        const ms = by.get(sub);
        if (ms !== undefined) answered.set(runId, ms);
      }
      const score = engagementScore({
        watching,
        quiz: quizShare(quiz.runs, answered, p.since),
        active: isActive(s?.lastActivity, now),
      });
      const playing = s?.playing ?? 'none';
      const visible = s?.visible ?? true;
      students.push({
        id: sub,
        name: s?.name ?? p.name,
        score,
        watching: playing === 'playing' && visible,
        visible,
        playing,
      });
      samples.push({
        participantId: sub,
        score,
        watching: Math.round(watching * 1000) / 1000,
        stalled: s ? stalledIn(s.stalls, bucketStart, now + 1) : false,
      });
    }
    students.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { class: classScore(students.map((s) => s.score)), students, samples };
  }
}
