/**
 * The engagement tracker of this replica. While it has sockets of a class it listens to the
 * class's bus channel (chat, reactions, hands, quiz events) and to `engagement:<classId>`,
 * where every replica publishes its students' player/tab reports, so each replica holds the
 * whole class's state. Every 2 s while a lesson runs it pushes an `engagement` snapshot to its
 * own staff sockets (teacher, admin, monitor: never students), and once per 10-s bucket it
 * writes each present student's sample (replicas writing the same bucket write one row). A
 * student whose player stalls later in the bucket has that bucket's sample marked stalled.
 */
import type { Logger } from '../../shared/logger.ts';
import type { Bus, Unsubscribe } from '../bus/bus.ts';
import type { LiveLesson } from '../quiz/quiz-service.ts';
import type { DrizzleEngagementRepo } from '../store/engagement-repo.ts';
import type { DrizzleQuizRepo } from '../store/quiz-repo.ts';
import type { ClassroomSocket, PlayerState } from '../ws/classroom-actions.ts';
import { classChannel } from '../ws/hub.ts';
import { PLAYING_STATES, type ClassEvent, type RosterEntry } from '../ws/messages.ts';
import { ClassEngagement, type QuizStats, type StateReport } from './class-engagement.ts';

/** The bus channel of a class's engagement reports. */
export function engagementChannel(classId: string): string {
  return `engagement:${classId}`;
}

/** What {@link EngagementTracker} needs. */
export interface EngagementTrackerDeps {
  bus: Bus;
  presence: { list(classId: string): Promise<RosterEntry[]> };
  lessons: LiveLesson;
  quizzes: Pick<DrizzleQuizRepo, 'lessonStats'>;
  samples: Pick<DrizzleEngagementRepo, 'addSamples'>;
  logger: Logger;
  /** Snapshot interval (ms, default 2000). */
  snapshotMs?: number;
}

type Lesson = { id: string; number: number; startedAt: Date };

interface Tracked {
  state: ClassEngagement;
  sockets: Set<ClassroomSocket>;
  unsubscribe: Unsubscribe[];
  timer: NodeJS.Timeout;
  lesson?: { value: Lesson | undefined; at: number };
  quiz?: { lessonId: string; stats: QuizStats; dirty: boolean; at: number };
  busy: boolean;
}

const LESSON_CACHE_MS = 5000;
const QUIZ_CACHE_MS = 10_000;
const REPORT_EVERY_MS = 250;

function isStaff(s: ClassroomSocket): boolean {
  return s.actor.role !== 'student';
}

function isReport(m: unknown): m is StateReport {
  const r = m as Partial<StateReport> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.sub === 'string' &&
    typeof r.pid === 'string' &&
    typeof r.name === 'string' &&
    typeof r.at === 'number' &&
    typeof r.visible === 'boolean' &&
    (r.stalled === undefined || typeof r.stalled === 'boolean') &&
    PLAYING_STATES.includes(r.playing as never)
  );
}

/** Engagement of the classes this replica has sockets of. */
export class EngagementTracker {
  private readonly deps: EngagementTrackerDeps;
  private readonly classes = new Map<string, Tracked>();
  private readonly reports = new WeakMap<
    ClassroomSocket,
    { last: number; timer?: NodeJS.Timeout; next?: PlayerState; stalled?: boolean }
  >();

  constructor(deps: EngagementTrackerDeps) {
    this.deps = deps;
  }

  /** A socket of the class opened: track the class (staff sockets get the snapshots). */
  attach(socket: ClassroomSocket): void {
    const classId = socket.actor.classId;
    let t = this.classes.get(classId);
    if (!t) {
      const state = new ClassEngagement();
      const onEvent = (m: unknown) => this.onClassEvent(classId, m as ClassEvent);
      const onReport = (m: unknown) => {
        if (isReport(m)) state.applyState(m);
      };
      const timer = setInterval(() => void this.tick(classId), this.deps.snapshotMs ?? 2000);
      timer.unref();
      t = {
        state,
        sockets: new Set(),
        unsubscribe: [
          this.deps.bus.subscribe(classChannel(classId), onEvent),
          this.deps.bus.subscribe(engagementChannel(classId), onReport),
        ],
        timer,
        busy: false,
      };
      this.classes.set(classId, t);
    }
    t.sockets.add(socket);
  }

  /** A socket closed; the last one of a class stops tracking it here. */
  detach(socket: ClassroomSocket): void {
    const classId = socket.actor.classId;
    const t = this.classes.get(classId);
    const r = this.reports.get(socket);
    if (r?.timer) clearTimeout(r.timer);
    if (!t?.sockets.delete(socket) || t.sockets.size > 0) return;
    this.stop(classId, t);
  }

  /** A student's player/tab report: published to every replica, at most every 250 ms per socket. */
  report(socket: ClassroomSocket, state: PlayerState): void {
    let r = this.reports.get(socket);
    if (!r) this.reports.set(socket, (r = { last: 0 }));
    const wait = r.last + REPORT_EVERY_MS - Date.now();
    if (wait > 0) {
      // A stall replaced by a later state before it was sent is still reported (`stalled`).
      if (state.playing === 'stalled') r.stalled = true;
      r.next = state;
      r.timer ??= setTimeout(() => {
        const rr = this.reports.get(socket)!;
        rr.timer = undefined;
        if (rr.next) this.report(socket, rr.next);
        rr.next = undefined;
      }, wait);
      return;
    }
    r.last = Date.now();
    const stalled = r.stalled === true && state.playing !== 'stalled';
    r.stalled = undefined;
    const { actor, participantId } = socket;
    const msg: StateReport = { sub: actor.sub, pid: participantId, name: actor.name, at: r.last, ...state };
    if (stalled) msg.stalled = true;
    this.deps.bus
      .publish(engagementChannel(actor.classId), msg)
      .catch((e: unknown) => this.deps.logger.warn({ err: e }, 'engagement report not published'));
  }

  /** The running lesson of a class (cached a few seconds while tracked). */
  async lesson(classId: string): Promise<Lesson | undefined> {
    const t = this.classes.get(classId);
    if (t?.lesson && Date.now() - t.lesson.at < LESSON_CACHE_MS) return t.lesson.value;
    const value = await this.deps.lessons.current(classId);
    if (t) t.lesson = { value, at: Date.now() };
    return value;
  }

  /** Classes tracked here. */
  get size(): number {
    return this.classes.size;
  }

  /** Stops every class. Idempotent. */
  close(): void {
    for (const [id, t] of [...this.classes]) this.stop(id, t);
  }

  private stop(classId: string, t: Tracked): void {
    clearInterval(t.timer);
    for (const u of t.unsubscribe) u();
    this.classes.delete(classId);
  }

  private onClassEvent(classId: string, e: ClassEvent): void {
    const t = this.classes.get(classId);
    if (!t || typeof e?.type !== 'string') return;
    const now = Date.now();
    if (e.type === 'chat.message' && e.from?.role === 'student')
      t.state.activity(e.from.id, e.from.name, now);
    else if (e.type === 'reaction') t.state.activity(e.from.id, e.from.name, now);
    else if (e.type === 'hand.raised') t.state.activity(e.id, e.name, now);
    else if (e.type.startsWith('quiz.') && t.quiz) t.quiz.dirty = true;
    else if (e.type === 'class.started' || e.type === 'class.ended') {
      t.state.reset();
      t.lesson = undefined;
      t.quiz = undefined;
    }
  }

  private async quizStats(t: Tracked, lessonId: string): Promise<QuizStats> {
    const q = t.quiz;
    if (q && q.lessonId === lessonId && !q.dirty && Date.now() - q.at < QUIZ_CACHE_MS) return q.stats;
    const raw = await this.deps.quizzes.lessonStats(lessonId);
    const answers = new Map<string, Map<string, number>>();
    for (const a of raw.answers) {
      let by = answers.get(a.runId);
      if (!by) answers.set(a.runId, (by = new Map()));
      by.set(a.participantId, a.ms);
    }
    const stats: QuizStats = {
      runs: raw.runs.map((r) => ({
        id: r.id,
        openedAt: r.openedAt.getTime(),
        limitMs: r.limitMs,
        closed: r.closed,
      })),
      answers,
    };
    t.quiz = { lessonId, stats, dirty: false, at: Date.now() };
    return stats;
  }

  /** One snapshot: pushed to local staff; sampled once per 10-s bucket (stalls marked later). */
  private async tick(classId: string): Promise<void> {
    const t = this.classes.get(classId);
    if (!t || t.busy) return;
    t.busy = true;
    try {
      const lesson = await this.lesson(classId);
      if (!lesson) return;
      const [roster, quiz] = await Promise.all([
        this.deps.presence.list(classId),
        this.quizStats(t, lesson.id),
      ]);
      const now = Date.now();
      const snap = t.state.snapshot(roster, quiz, now);
      const msg = {
        type: 'engagement' as const,
        at: new Date(now).toISOString(),
        class: snap.class,
        students: snap.students,
      };
      for (const s of t.sockets) if (isStaff(s)) s.push(msg);
      for (const due of t.state.samplesDue(snap.samples, now)) {
        await this.deps.samples.addSamples(lesson.id, new Date(due.at), due.samples);
      }
    } catch (e) {
      this.deps.logger.warn({ err: e, classId }, 'engagement snapshot failed');
    } finally {
      t.busy = false;
    }
  }
}
