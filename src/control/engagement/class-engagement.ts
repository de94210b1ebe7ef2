/**
 * The engagement state of one class, without I/O: each student's player/tab changes (as their
 * pages report them), their last chat/reaction/hand, and the lesson's quiz runs and answers;
 * from which a snapshot of the present students' scores is computed (score.ts). Every replica
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
  lastActivity?: number;
}

/** One sample per present student. */
export interface Sample {
  participantId: string;
  score: number;
  watching: number;
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

  private student(sub: string, name: string): StudentState {
    let s = this.students.get(sub);
    if (!s) this.students.set(sub, (s = { name, playing: 'none', visible: true, changes: [] }));
    return s;
  }

  /** Applies a student's player/tab report. */
  applyState(r: StateReport): void {
    if (r.pid !== r.sub) this.alias.set(r.pid, r.sub);
    const s = this.student(r.sub, r.name);
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

  /** A chat message, reaction or hand of a student. */
  activity(sub: string, name: string, at: number): void {
    const s = this.student(sub, name);
    s.lastActivity = Math.max(s.lastActivity ?? 0, at);
  }

  /** Forgets everything (the lesson ended). */
  reset(): void {
    this.students.clear();
    this.alias.clear();
  }

  /** The scores of the present students (roster entries of students, one per student). */
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
      samples.push({ participantId: sub, score, watching: Math.round(watching * 1000) / 1000 });
    }
    students.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    return { class: classScore(students.map((s) => s.score)), students, samples };
  }
}
