/**
 * Students' photos of their work (issue 10): a student of a class with a running lesson sends
 * a JPEG, PNG or WebP (checked by its bytes, at most 8000 × 8000 pixels, a few per lesson and
 * not too often); the file goes to `<root>/<lessonId>/<id>.<ext>` (0600 in a 0700 folder),
 * its row to `photos`, and the class's staff get `photo.new` at once. The class's AI provider
 * then describes it without making the student wait: a description is stored with its provider
 * and sent as `photo.described`. Only the class's teacher and admins list photos; a file is
 * also for the student who sent it, never for other students.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { canManageClass, check, type Principal } from '../auth/policy.ts';
import type { DrizzlePhotoRepo, PhotoRow } from '../store/photo-repo.ts';
import type { ClassRepo, LessonRepo } from '../store/types.ts';
import type { UnsequencedEvent } from '../ws/hub.ts';
import type { PhotoEntry } from '../ws/messages.ts';
import { probeImage, type PhotoMime } from './image-probe.ts';
import type { AiRunner } from './provider.ts';

/** The per-student limits of a lesson. */
export interface PhotoLimits {
  /** Photos one student may send in one lesson (default 20). */
  perLesson: number;
  /** Least time between two photos of one student, ms (default 5000). */
  everyMs: number;
  /** Largest width and height, pixels (default 8000). */
  maxSide: number;
}

/** What {@link PhotoService} needs. */
export interface PhotoServiceDeps {
  photos: DrizzlePhotoRepo;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId' | 'current'>;
  hub: { publish(classId: string, event: UnsequencedEvent): Promise<unknown> };
  /** Runs the description on the class's provider; absent = photos are not described. */
  ai?: AiRunner;
  /** Folder of the photos (`<dataDir>/photos`). */
  root: string;
  logger: Logger;
  limits?: Partial<PhotoLimits>;
}

/** A photo as the API answers it. */
export interface PhotoView extends PhotoEntry {
  lessonId: string;
  mime: PhotoMime;
  size: number;
  provider: 'builtin' | 'gemini' | null;
  /** ISO time the teacher marked it seen, or null. */
  seenAt: string | null;
}

/** The API view of a row. */
export function photoView(r: PhotoRow): PhotoView {
  return {
    id: r.id,
    lessonId: r.lessonId,
    from: { id: r.participantId, name: r.senderName },
    at: r.createdAt.toISOString(),
    width: r.width,
    height: r.height,
    mime: r.mime,
    size: r.sizeBytes,
    description: r.description,
    provider: r.provider,
    seenAt: r.seenAt?.toISOString() ?? null,
  };
}

const EXT: Record<PhotoMime, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/** Uploads, lists and files of students' photos. */
export class PhotoService {
  private readonly deps: PhotoServiceDeps;
  private readonly limits: PhotoLimits;
  /** Students whose upload is being stored now (so two at once cannot pass the limits). */
  private readonly busy = new Set<string>();
  /** Descriptions under way (awaited by {@link flush}). */
  private readonly pending = new Set<Promise<void>>();

  constructor(deps: PhotoServiceDeps) {
    this.deps = deps;
    this.limits = { perLesson: 20, everyMs: 5000, maxSide: 8000, ...deps.limits };
  }

  /**
   * A student's photo of the running lesson: the new photo. LESSON_NOT_LIVE, FORBIDDEN (not a
   * student of the class), PHOTO_TYPE, PHOTO_DIMENSIONS, RATE_LIMITED (with Retry-After).
   */
  async upload(p: Principal, classId: string, data: Uint8Array, contentType: string): Promise<PhotoView> {
    if (p.role !== 'student') throw new AirError('FORBIDDEN', 'Only students send photos of their work.');
    const cls = await this.deps.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    check(p.classId === cls.id);
    const lesson = await this.deps.lessons.current(cls.id);
    if (!lesson) throw new AirError('LESSON_NOT_LIVE');
    const img = probeImage(data, contentType);
    const max = this.limits.maxSide;
    if (img.width > max || img.height > max) {
      throw new AirError(
        'PHOTO_DIMENSIONS',
        `The photo is ${img.width} × ${img.height}; at most ${max} × ${max}.`,
      );
    }
    const key = `${lesson.id}:${p.sub}`;
    if (this.busy.has(key)) throw this.limited(this.limits.everyMs);
    this.busy.add(key);
    let row: PhotoRow;
    try {
      const sent = await this.deps.photos.sentBy(lesson.id, p.sub);
      if (sent.count >= this.limits.perLesson) {
        throw new AirError('RATE_LIMITED', `At most ${this.limits.perLesson} photos per lesson.`, {
          'Retry-After': '3600',
        });
      }
      const wait = sent.last ? sent.last.getTime() + this.limits.everyMs - Date.now() : 0;
      if (wait > 0) throw this.limited(wait);
      const id = randomUUID();
      const dir = join(this.deps.root, lesson.id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, `${id}.${img.ext}`), data, { mode: 0o600, flag: 'wx' });
      try {
        row = await this.deps.photos.create({
          id,
          classId: cls.id,
          lessonId: lesson.id,
          participantId: p.sub,
          senderName: p.name ?? '',
          mime: img.mime,
          sizeBytes: data.byteLength,
          width: img.width,
          height: img.height,
        });
      } catch (e) {
        await rm(join(dir, `${id}.${img.ext}`), { force: true });
        throw e;
      }
    } finally {
      this.busy.delete(key);
    }
    const view = photoView(row);
    const photo: PhotoEntry = {
      id: view.id,
      from: view.from,
      at: view.at,
      width: view.width,
      height: view.height,
      description: null,
    };
    await this.deps.hub
      .publish(cls.id, { type: 'photo.new', audience: 'teachers', photo })
      .catch((e: unknown) => this.deps.logger.warn({ err: e, photo: row.id }, 'photo.new not sent'));
    this.describeLater(row, data);
    return view;
  }

  private limited(waitMs: number): AirError {
    const s = Math.max(1, Math.ceil(waitMs / 1000));
    return new AirError(
      'RATE_LIMITED',
      `One photo every ${this.limits.everyMs / 1000} s; try again in ${s} s.`,
      {
        'Retry-After': String(s),
      },
    );
  }

  /** Asks the class's provider for a description; never rejects. */
  private describeLater(row: PhotoRow, data: Uint8Array): void {
    const ai = this.deps.ai;
    if (!ai) return;
    const job = (async () => {
      try {
        const got = await ai.run(row.classId, row.lessonId, (pr) =>
          pr.describeImage({ data, mimeType: row.mime }),
        );
        const text = got.value?.trim();
        if (!text) return;
        await this.deps.photos.describe(row.id, text, got.provider);
        await this.deps.hub.publish(row.classId, {
          type: 'photo.described',
          audience: 'teachers',
          id: row.id,
          description: text,
          provider: got.provider,
        });
      } catch (e) {
        this.deps.logger.warn({ err: e, photo: row.id }, 'photo not described');
      }
    })();
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Waits for the descriptions under way (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The lesson's photos, oldest first (the class's teacher, admins). */
  async list(p: Principal, lessonId: string): Promise<PhotoView[]> {
    const lesson = await this.deps.lessons.byId(lessonId).catch(() => undefined);
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    const cls = await this.deps.classes.byId(lesson.classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    check(canManageClass(p, cls));
    return (await this.deps.photos.byLesson(lesson.id)).map(photoView);
  }

  private async load(p: Principal, id: string, student: boolean): Promise<PhotoRow> {
    const row = await this.deps.photos.byId(id);
    if (!row) throw new AirError('PHOTO_NOT_FOUND');
    const cls = await this.deps.classes.byId(row.classId);
    if (!cls) throw new AirError('PHOTO_NOT_FOUND');
    const own = student && p.role === 'student' && p.classId === row.classId && p.sub === row.participantId;
    check(own || canManageClass(p, cls));
    return row;
  }

  /** A photo's bytes and type (the teacher, admins, and the student who sent it). */
  async file(p: Principal, id: string): Promise<{ data: Buffer; mime: PhotoMime; name: string }> {
    const row = await this.load(p, id, true);
    const name = `${row.id}.${EXT[row.mime]}`;
    try {
      return { data: await readFile(join(this.deps.root, row.lessonId, name)), mime: row.mime, name };
    } catch {
      throw new AirError('PHOTO_NOT_FOUND', 'The photo file is gone.');
    }
  }

  /** Marks a photo seen (the class's teacher, admins); the photo. */
  async seen(p: Principal, id: string): Promise<PhotoView> {
    const row = await this.load(p, id, false);
    return photoView((await this.deps.photos.seen(row.id)) ?? row);
  }

  /**
   * Removes the photos past their class's retention (the same days as its recordings: students'
   * work is student data), file first, then the row; returns how many went.
   */
  async runRetention(now = new Date()): Promise<number> {
    let removed = 0;
    for (;;) {
      const expired = await this.deps.photos.expired(now, 500);
      if (expired.length === 0) break;
      const gone: string[] = [];
      for (const r of expired) {
        try {
          await rm(join(this.deps.root, r.lessonId, `${r.id}.${EXT[r.mime]}`), { force: true });
          gone.push(r.id);
        } catch (e) {
          this.deps.logger.warn({ err: e, photo: r.id }, 'expired photo not removed');
        }
      }
      await this.deps.photos.removeMany(gone);
      removed += gone.length;
      if (gone.length < expired.length) break;
    }
    if (removed) this.deps.logger.info({ removed }, 'retention: expired photos removed');
    return removed;
  }
}
