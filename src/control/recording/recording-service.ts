/**
 * Recordings in the control plane (issue 9): the recorder (media plane) asks `begin(path)` when
 * a class's stream starts and reports progress and its end here; this service keeps the rows,
 * tells the class (`recording.started`, `recording.stopped` when the disk filled up), closes
 * what a crash left open (from the recorder's repair of the files), removes recordings past
 * their class's retention, and answers the API: lists, sharing, deletion, replay data and the
 * read tokens that the HLS files are served with (one recording, one path: `vod/<id>`).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { AirError, isAirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { canManageClass, type Principal } from '../auth/policy.ts';
import type { MediaClaims, TokenService } from '../auth/tokens.ts';
import type { ClassEvents } from '../classroom/events.ts';
import { classIdOfPath } from '../classroom/events.ts';
import type { ReplayData, RecordingView } from '../report/types.ts';
import type { DrizzleRecordingRepo, RecordingEnd, RecordingRecord } from '../store/recording-repo.ts';
import type { DrizzleStore } from '../store/db.ts';

/** The path a recording's read tokens are scoped to. */
export const vodPath = (id: string): string => `vod/${id}`;

const DAY_MS = 86_400_000;
/** Progress is written at most this often per recording (the recorder reports every segment). */
const PROGRESS_EVERY_MS = 10_000;

/** What the service needs. */
export interface RecordingServiceDeps {
  store: Pick<DrizzleStore, 'recordings' | 'classes' | 'lessons' | 'chat' | 'db'>;
  tokens: TokenService;
  events: ClassEvents;
  logger: Logger;
  /** Where recordings live (`<dataDir>/recordings`). */
  root: string;
  /** This node's name in the rows (`main`). */
  node: string;
  /** Lifetime of the read tokens in playlist and replay URLs (default 6 h). */
  tokenTtl?: string;
  /** How often the retention job runs (default hourly). */
  retentionEveryMs?: number;
}

/** Who is asking for a recording: an API caller or the holder of a recording's read token. */
export type RecordingViewer = { principal: Principal } | { vod: MediaClaims };

/** A repaired recording dir, as the recorder's repair reports it. */
export interface RepairedDir {
  id: string;
  durationMs: number;
  sizeBytes: number;
  repaired: boolean;
}

/** Recordings: rows, lifecycle, access. */
export class RecordingService {
  private readonly deps: RecordingServiceDeps;
  private readonly repo: DrizzleRecordingRepo;
  private readonly lastProgress = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private retentionRun: Promise<number> | undefined;
  /** Writes of recordings' ends still in flight (awaited by `flush` before the store closes). */
  private readonly pending = new Set<Promise<void>>();

  constructor(deps: RecordingServiceDeps) {
    this.deps = deps;
    this.repo = deps.store.recordings;
  }

  // ---- the recorder's callbacks ----

  /** A class's stream started: the running lesson gets a recording (null: not a class path, or no lesson). */
  async begin(path: string): Promise<{ id: string } | null> {
    const classId = classIdOfPath(path);
    if (!classId) return null;
    const lesson = await this.deps.store.lessons.current(classId);
    const row = await this.repo.create({ classId, lessonId: lesson?.id ?? null, node: this.deps.node });
    this.deps.logger.info({ classId, recording: row.id, lesson: lesson?.number }, 'recording started');
    void this.deps.events.emit(classId, { type: 'recording.started', id: row.id });
    return { id: row.id };
  }

  /** Duration and size so far (written at most every 10 s). */
  progress(id: string, p: { durationMs: number; sizeBytes: number }): void {
    const now = Date.now();
    if (now - (this.lastProgress.get(id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(id, now);
    this.repo
      .progress(id, p)
      .catch((e: unknown) => this.deps.logger.warn({ err: e, id }, 'recording progress not saved'));
  }

  /** The recorder closed a recording. A stop before its time tells the class's teacher why. */
  end(
    id: string,
    p: { durationMs: number; sizeBytes: number; status: 'complete' | 'stopped'; reason?: string },
  ): Promise<void> {
    const done = this.saveEnd(id, p);
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
    return done;
  }

  /** Resolves when every recording end reported so far is saved. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async saveEnd(
    id: string,
    p: { durationMs: number; sizeBytes: number; status: 'complete' | 'stopped'; reason?: string },
  ): Promise<void> {
    this.lastProgress.delete(id);
    try {
      const row = await this.repo.finish(id, { ...p, reason: p.reason ?? null });
      if (!row) return;
      if (p.status === 'stopped' && p.reason) {
        this.deps.logger.error(
          { classId: row.classId, recording: id, reason: p.reason },
          'recording stopped early',
        );
        void this.deps.events.emit(row.classId, { type: 'recording.stopped', id, reason: p.reason });
      } else {
        this.deps.logger.info(
          { classId: row.classId, recording: id, durationSec: Math.round(p.durationMs / 1000) },
          'recording complete',
        );
      }
    } catch (e) {
      this.deps.logger.warn({ err: e, id }, 'recording end not saved');
    }
  }

  /**
   * After a restart: rows this node left `recording` are closed as `interrupted`, with the
   * duration and size of what the repair kept (a row without a dir kept nothing).
   */
  async reconcile(dirs: readonly RepairedDir[]): Promise<number> {
    const byId = new Map(dirs.map((d) => [d.id, d]));
    const open = await this.repo.openOn(this.deps.node);
    for (const row of open) {
      const d = byId.get(row.id);
      const status: RecordingEnd = 'interrupted';
      await this.repo.finish(row.id, {
        status,
        reason: d ? null : 'LOST',
        durationMs: d?.durationMs ?? 0,
        sizeBytes: d?.sizeBytes ?? 0,
      });
      this.deps.logger.warn(
        { recording: row.id, classId: row.classId, keptSec: Math.round((d?.durationMs ?? 0) / 1000) },
        'recording interrupted by a restart: closed with what was written',
      );
    }
    return open.length;
  }

  // ---- retention ----

  /** Runs the retention job now and then every `retentionEveryMs`. */
  startRetention(): void {
    if (this.timer) return;
    void this.runRetention();
    this.timer = setInterval(() => void this.runRetention(), this.deps.retentionEveryMs ?? 3_600_000);
    this.timer.unref();
  }

  /** Removes the files and marks the rows of recordings past retention; returns how many. */
  runRetention(now = new Date()): Promise<number> {
    this.retentionRun ??= (async () => {
      try {
        const expired = await this.repo.expired(now);
        const gone: string[] = [];
        for (const r of expired) {
          try {
            await rm(this.dirOf(r.id), { recursive: true, force: true });
            gone.push(r.id);
          } catch (e) {
            this.deps.logger.warn({ err: e, recording: r.id }, 'expired recording not removed');
          }
        }
        await this.repo.markDeleted(gone);
        if (gone.length)
          this.deps.logger.info({ removed: gone.length }, 'retention: expired recordings removed');
        return gone.length;
      } catch (e) {
        this.deps.logger.warn({ err: e }, 'retention job failed');
        return 0;
      } finally {
        this.retentionRun = undefined;
      }
    })();
    return this.retentionRun;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  // ---- access ----

  /** The dir of a recording. */
  dirOf(id: string): string {
    return join(this.deps.root, id);
  }

  /** A recording the viewer may see; RECORDING_NOT_FOUND / _EXPIRED / _NOT_SHARED, FORBIDDEN. */
  async visible(id: string, viewer: RecordingViewer): Promise<RecordingRecord> {
    const r = await this.repo.byId(id);
    if (!r) throw new AirError('RECORDING_NOT_FOUND');
    if (expiresAt(r).getTime() <= Date.now()) throw new AirError('RECORDING_EXPIRED');
    if ('vod' in viewer) {
      if (viewer.vod.path !== vodPath(id)) throw new AirError('TOKEN_SCOPE');
      if (!staffRole(viewer.vod.role) && !r.sharedAt) throw new AirError('RECORDING_NOT_SHARED');
      return r;
    }
    const p = viewer.principal;
    if (canManageClass(p, { teacherId: r.teacherId })) return r;
    if (p.role === 'student' && p.classId === r.classId) {
      if (!r.sharedAt) throw new AirError('RECORDING_NOT_SHARED');
      return r;
    }
    throw new AirError('FORBIDDEN');
  }

  /** The recording as the API shows it, with a fresh read token in its URLs. */
  async view(r: RecordingRecord, who: { sub: string; role: MediaClaims['role'] }): Promise<RecordingView> {
    const token = await this.deps.tokens.sign(
      { sub: who.sub, role: who.role, path: vodPath(r.id), actions: ['read'], classId: r.classId },
      this.deps.tokenTtl ?? '6h',
    );
    const q = encodeURIComponent(token);
    return {
      id: r.id,
      classId: r.classId,
      lessonId: r.lessonId,
      lessonNumber: r.lessonNumber,
      startedAt: r.startedAt.toISOString(),
      endedAt: r.endedAt?.toISOString() ?? null,
      durationSec: Math.round(r.durationMs / 100) / 10,
      sizeBytes: r.sizeBytes,
      playlistUrl: `/vod/${r.id}/index.m3u8?token=${q}`,
      replayUrl: `/replay/${r.id}#jwt=${q}`,
      status: r.status,
      reason: r.reason,
      shared: r.sharedAt !== null,
      expiresAt: expiresAt(r).toISOString(),
    };
  }

  /** A class's recordings for the caller (students: shared ones). */
  async list(p: Principal, classId: string): Promise<{ recordings: RecordingView[]; retentionDays: number }> {
    const cls = await this.deps.store.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    const manage = canManageClass(p, cls);
    if (!manage && !(p.role === 'student' && p.classId === cls.id)) throw new AirError('FORBIDDEN');
    const rows = await this.repo.listByClass(classId, { sharedOnly: !manage });
    const now = Date.now();
    const views = await Promise.all(
      rows.filter((r) => expiresAt(r).getTime() > now).map((r) => this.view(r, p)),
    );
    return { recordings: views, retentionDays: cls.retentionDays };
  }

  /** Shares a recording with the class's students, or stops. */
  async setShared(p: Principal, id: string, shared: boolean): Promise<RecordingView> {
    const r = await this.managed(p, id);
    await this.repo.setShared(r.id, shared);
    return this.view((await this.repo.byId(r.id))!, p);
  }

  /** Deletes a recording's files and row (a running one is stopped first by `stopRecording`). */
  async delete(p: Principal, id: string, stopRecording: (id: string) => Promise<void>): Promise<void> {
    const r = await this.managed(p, id);
    if (r.status === 'recording') await stopRecording(r.id);
    await rm(this.dirOf(r.id), { recursive: true, force: true });
    await this.repo.markDeleted([r.id]);
    this.deps.logger.info({ recording: r.id, classId: r.classId }, 'recording deleted');
  }

  /** Sets the days a class's recordings are kept. */
  async setRetention(p: Principal, classId: string, days: number): Promise<{ retentionDays: number }> {
    const cls = await this.deps.store.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
    const next = await this.deps.store.classes.setRetention(classId, days);
    void this.runRetention();
    return { retentionDays: next?.retentionDays ?? days };
  }

  /**
   * The shared recordings of a lesson for a student who attended it — with their token of that
   * lesson, which the lesson's end has otherwise retired (checked here: signed by us, a student
   * of that class, who joined that lesson and was not removed).
   */
  async forAttendee(
    p: { sub: string; role: string; classId?: string },
    lessonId: string,
    attended: (
      participantId: string,
    ) => Promise<{ lessonId: string | null; removedAt: Date | null } | undefined>,
  ): Promise<{ recordings: { id: string; replayUrl: string }[] }> {
    if (p.role !== 'student') throw new AirError('FORBIDDEN');
    const lesson = await this.deps.store.lessons.byId(lessonId);
    const who = await attended(p.sub);
    if (!lesson || lesson.classId !== p.classId || !who || who.lessonId !== lessonId) {
      throw new AirError('FORBIDDEN');
    }
    if (who.removedAt) throw new AirError('REMOVED');
    const rows = await this.repo.listByLesson(lessonId, { sharedOnly: true });
    const now = Date.now();
    const out = [];
    for (const r of rows) {
      if (expiresAt(r).getTime() <= now) continue;
      const v = await this.view(r, { sub: p.sub, role: 'student' });
      out.push({ id: v.id, replayUrl: v.replayUrl });
    }
    return { recordings: out };
  }

  /** What the replay page shows beside the video. */
  async replay(id: string, viewer: RecordingViewer): Promise<ReplayData> {
    const r = await this.visible(id, viewer);
    const who = 'vod' in viewer ? viewer.vod : viewer.principal;
    const [cls, lesson] = await Promise.all([
      this.deps.store.classes.byId(r.classId),
      r.lessonId ? this.deps.store.lessons.byId(r.lessonId) : Promise.resolve(undefined),
    ]);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    const start = r.startedAt.getTime();
    const endMs = start + r.durationMs;
    const sec = (d: Date): number => Math.round((d.getTime() - start) / 100) / 10;
    const within = (d: Date): boolean => d.getTime() >= start - 1000 && d.getTime() <= endMs + 1000;
    const timeline = r.lessonId
      ? await this.timeline(r.lessonId)
      : { chapters: [], engagement: [], chat: [] };
    return {
      recording: await this.view(r, who),
      class: { id: cls.id, title: cls.title },
      lesson: lesson
        ? {
            id: lesson.id,
            number: lesson.number,
            startedAt: lesson.startedAt.toISOString(),
            endedAt: lesson.endedAt?.toISOString() ?? null,
          }
        : null,
      chapters: timeline.chapters
        .filter((c) => within(c.at))
        .map((c) => ({
          atSec: Math.max(0, sec(c.at)),
          runId: c.runId,
          quizId: c.quizId,
          question: c.question,
        })),
      engagement: timeline.engagement
        .filter((e) => within(e.at))
        .map((e) => ({ atSec: Math.max(0, sec(e.at)), score: e.score, watching: e.watching })),
      chat: timeline.chat
        .filter((m) => within(m.at))
        .map((m) => ({ atSec: Math.max(0, sec(m.at)), name: m.name, role: m.role, text: m.text })),
    };
  }

  /** Quiz runs, class engagement per 10-s bucket and chat of a lesson, in time order. */
  private async timeline(lessonId: string): Promise<{
    chapters: { at: Date; runId: string; quizId: string; question: string }[];
    engagement: { at: Date; score: number; watching: number }[];
    chat: { at: Date; name: string; role: 'teacher' | 'student' | 'monitor'; text: string }[];
  }> {
    const db = this.deps.store.db;
    const [runs, samples, chat] = await Promise.all([
      db.execute(sql`
        SELECT r.id AS run_id, r.quiz_id, q.question, r.opened_at
          FROM quiz_runs r JOIN quizzes q ON q.id = r.quiz_id
         WHERE r.lesson_id = ${lessonId} ORDER BY r.opened_at`),
      db.execute(sql`
        SELECT at, avg(score) AS score, avg(watching) AS watching
          FROM engagement_samples WHERE lesson_id = ${lessonId} GROUP BY at ORDER BY at`),
      db.execute(sql`
        SELECT sender_name, sender_role, text, created_at FROM chat_messages
         WHERE lesson_id = ${lessonId} AND deleted_at IS NULL ORDER BY seq`),
    ]);
    const rows = (r: unknown): Record<string, unknown>[] => (r as { rows: Record<string, unknown>[] }).rows;
    const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
    return {
      chapters: rows(runs).map((x) => ({
        at: date(x.opened_at),
        runId: String(x.run_id),
        quizId: String(x.quiz_id),
        question: String(x.question),
      })),
      engagement: rows(samples).map((x) => ({
        at: date(x.at),
        score: Math.round(Number(x.score)),
        watching: Math.round(Number(x.watching) * 100) / 100,
      })),
      chat: rows(chat).map((x) => ({
        at: date(x.created_at),
        name: String(x.sender_name),
        role: String(x.sender_role) as 'teacher' | 'student' | 'monitor',
        text: String(x.text),
      })),
    };
  }

  private async managed(p: Principal, id: string): Promise<RecordingRecord> {
    const r = await this.repo.byId(id);
    if (!r) throw new AirError('RECORDING_NOT_FOUND');
    if (!canManageClass(p, { teacherId: r.teacherId })) throw new AirError('FORBIDDEN');
    return r;
  }
}

/** When the retention job removes a recording. */
export function expiresAt(r: Pick<RecordingRecord, 'startedAt' | 'retentionDays'>): Date {
  return new Date(r.startedAt.getTime() + r.retentionDays * DAY_MS);
}

function staffRole(role: string): boolean {
  return role === 'teacher' || role === 'admin';
}

/** True for the errors `visible` throws for a recording that cannot be shown. */
export function isRecordingGone(e: unknown): boolean {
  return isAirError(e) && (e.code === 'RECORDING_NOT_FOUND' || e.code === 'RECORDING_EXPIRED');
}
