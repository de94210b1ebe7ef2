/**
 * Slides of a live lesson (issue 10): every `everyMs` the watcher looks at each live class path
 * (`live/<classId>`) whose class has a running lesson, decodes the stream's last keyframe
 * (media/vision/frame-grab.ts) and, when the picture changed since the last slide it kept,
 * saves the PNG to `<dataDir>/slides/<lessonId>/<id>.png`, has the class's provider read its
 * text, stores the `slides` row and tells the class's staff (`slide.new`). Never two grabs of a
 * path at once; a failure is a warning, never a crash; at most `maxPerLesson` slides a lesson.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import type { StreamRegistry } from '../../media/stream/registry.ts';
import type { Stream } from '../../media/stream/stream.ts';
import { changed, grabFrame, type Frame } from '../../media/vision/frame-grab.ts';
import type { Logger } from '../../shared/logger.ts';
import { classIdOfPath } from '../classroom/events.ts';
import { slides } from '../store/schema-ai.ts';
import type { Db } from '../store/sql.ts';
import type { UnsequencedEvent } from '../ws/hub.ts';
import type { AiRunner, ImageText } from './provider.ts';

/** A slide as its `slide.new` event and the list answer carry it. */
export interface SlideEntry {
  id: string;
  /** ISO time it was taken. */
  at: string;
  text: string;
  reader: ImageText['reader'];
}

/** What the watcher needs. */
export interface SlideWatcherDeps {
  registry: Pick<StreamRegistry, 'list'>;
  db: Db;
  lessons: { current(classId: string): Promise<{ id: string } | undefined> };
  ai: AiRunner;
  hub: { publish(classId: string, event: UnsequencedEvent): Promise<unknown> };
  logger: Logger;
  /** The data dir; slides go to `<dataDir>/slides/<lessonId>/`. */
  dataDir: string;
  /** The ffmpeg binary; without one the watcher does nothing (and says so once). */
  ffmpeg: string | undefined;
  /** Interval between looks, ms (config `slideEveryMs`; 0 = off). */
  everyMs: number;
  /** Slides kept per lesson (default 500). */
  maxPerLesson?: number;
  /** Grab the frame (tests substitute it); default: frame-grab.ts. */
  grab?: (stream: Stream) => Promise<Frame | undefined>;
}

/** Watches live lessons' pictures for new slides. */
export class SlideWatcher {
  private readonly deps: SlideWatcherDeps;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  /** Paths being looked at now. */
  private readonly busy = new Set<string>();
  /** Per path: the lesson and fingerprint of the last slide kept. */
  private readonly last = new Map<string, { lessonId: string; fingerprint: Uint8Array }>();
  /** Slides per lesson (counted from the database once, then kept here). */
  private readonly counts = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  constructor(deps: SlideWatcherDeps) {
    this.deps = deps;
    this.log = deps.logger;
  }

  /** Starts looking (nothing with `everyMs` 0 or without ffmpeg). */
  start(): void {
    if (this.closed || this.timer || this.deps.everyMs <= 0) return;
    if (!this.deps.ffmpeg && !this.deps.grab) {
      this.log.warn('slides are off: no usable ffmpeg to decode the live picture');
      return;
    }
    this.timer = setInterval(() => void this.tick(), this.deps.everyMs);
    this.timer.unref();
  }

  /** One look at every live class path; resolves when every look it started is done. */
  async tick(): Promise<void> {
    const looks: Promise<void>[] = [];
    for (const s of this.deps.registry.list()) {
      if (s.state !== 'live' || this.busy.has(s.path)) continue;
      const classId = classIdOfPath(s.path);
      if (!classId) continue;
      this.busy.add(s.path);
      const look = this.look(s, classId)
        .catch((e: unknown) =>
          this.log.warn({ path: s.path, err: (e as Error).message }, 'slide snapshot failed'),
        )
        .finally(() => {
          this.busy.delete(s.path);
          this.pending.delete(look);
        });
      this.pending.add(look);
      looks.push(look);
    }
    await Promise.all(looks);
  }

  private async look(s: Stream, classId: string): Promise<void> {
    const lesson = await this.deps.lessons.current(classId);
    if (!lesson || this.closed) return;
    const grab = this.deps.grab ?? ((st: Stream) => grabFrame(st, { ffmpeg: this.deps.ffmpeg! }));
    const frame = await grab(s);
    if (!frame || this.closed) return;
    const prev = this.last.get(s.path);
    if (prev?.lessonId === lesson.id && !changed(prev.fingerprint, frame.fingerprint)) return;
    const n = await this.countOf(lesson.id);
    if (n >= (this.deps.maxPerLesson ?? 500)) return;
    this.last.set(s.path, { lessonId: lesson.id, fingerprint: frame.fingerprint });
    this.counts.set(lesson.id, n + 1);
    try {
      await this.keep(classId, lesson.id, frame);
    } catch (e) {
      // Not kept: the next look tries again.
      this.last.delete(s.path);
      this.counts.set(lesson.id, n);
      throw e;
    }
  }

  private async countOf(lessonId: string): Promise<number> {
    const known = this.counts.get(lessonId);
    if (known !== undefined) return known;
    const [row] = await this.deps.db.select({ n: count() }).from(slides).where(eq(slides.lessonId, lessonId));
    const n = Number(row?.n ?? 0);
    this.counts.set(lessonId, n);
    return n;
  }

  private async keep(classId: string, lessonId: string, frame: Frame): Promise<void> {
    const id = randomUUID();
    const dir = join(this.deps.dataDir, 'slides', lessonId);
    const file = join(dir, `${id}.png`);
    await mkdir(dir, { recursive: true });
    await writeFile(file, frame.png);
    let read: ImageText = { text: '', reader: 'none' };
    try {
      read = (
        await this.deps.ai.run(classId, lessonId, (p) =>
          p.readImage({ data: frame.png, mimeType: 'image/png' }),
        )
      ).value;
    } catch (e) {
      this.log.warn({ lessonId, err: (e as Error).message }, 'slide text not read');
    }
    const takenAt = new Date();
    try {
      await this.deps.db.insert(slides).values({
        id,
        classId,
        lessonId,
        takenAt,
        width: frame.width,
        height: frame.height,
        text: read.text,
        reader: read.reader,
      });
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
    const slide: SlideEntry = { id, at: takenAt.toISOString(), text: read.text, reader: read.reader };
    await this.deps.hub.publish(classId, { type: 'slide.new', audience: 'staff', lessonId, slide });
  }

  /** Stops looking and waits for the looks under way. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pending]);
  }
}
