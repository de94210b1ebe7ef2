/**
 * Classes and their lessons: create, rename, archive, start the next lesson, end the running
 * one, rotate the stream key, remove a student. Ending is final and immediate: the lesson's
 * tokens stop (the epoch moves on; see token-gate.ts), the publisher is disconnected and
 * every viewer of the path closed ({@link ClassMedia}), and `class.ended` goes to the class.
 * Authorization is the caller's job (see auth/policy.ts).
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type {
  ClassRecord,
  ClassRepo,
  Lesson,
  LessonRepo,
  Participant,
  ParticipantRepo,
} from '../store/types.ts';
import { cleanName } from './access.ts';
import { eventClass, NO_CLASS_EVENTS, type ClassEvents } from './events.ts';
import { NO_MEDIA, type ClassMedia } from './media.ts';

/** What the class service is built from. */
export interface ClassServiceDeps {
  classes: ClassRepo;
  lessons: LessonRepo;
  participants?: Pick<ParticipantRepo, 'remove'>;
  events?: ClassEvents;
  media?: ClassMedia;
  logger?: Logger;
  /** After a lesson ends, a publish with the stream key does not start a new one for this long. */
  lessonRestartCooldownMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A title as stored: cleaned like a name; VALIDATION when nothing visible is left. */
export function cleanTitle(raw: string): string {
  const t = cleanName(raw);
  if (!t) throw new AirError('VALIDATION', 'body/title: the title must contain a visible character');
  return t.slice(0, 200);
}

/** The media path of a class. */
const pathOf = (c: Pick<ClassRecord, 'id'>): string => `live/${c.id}`;

/** Lesson fields in events. */
function eventLesson(l: Lesson): Record<string, unknown> {
  return {
    id: l.id,
    number: l.number,
    startedAt: l.startedAt.toISOString(),
    endedAt: l.endedAt?.toISOString() ?? null,
  };
}

/** Class and lesson lifecycle over the store, with events and media control. */
export class ClassService {
  private readonly deps: ClassServiceDeps;
  private readonly events: ClassEvents;
  private readonly media: ClassMedia;
  private readonly cooldownMs: number;

  constructor(deps: ClassServiceDeps) {
    this.deps = deps;
    this.events = deps.events ?? NO_CLASS_EVENTS;
    this.media = deps.media ?? NO_MEDIA;
    this.cooldownMs = deps.lessonRestartCooldownMs ?? 10 * 60_000;
  }

  /** Creates a scheduled class owned by `teacherId`; VALIDATION for a title of spaces. */
  create(teacherId: string, title: string): Promise<ClassRecord> {
    return this.deps.classes.create({ teacherId, title: cleanTitle(title) });
  }

  /** The class with `id`; CLASS_NOT_FOUND if there is none (or the id is not a UUID). */
  async get(id: string): Promise<ClassRecord> {
    const c = UUID.test(id) ? await this.deps.classes.byId(id.toLowerCase()) : undefined;
    if (!c) throw new AirError('CLASS_NOT_FOUND');
    return c;
  }

  /** Classes of one teacher, or every class (`teacherId` undefined). */
  list(teacherId?: string): Promise<ClassRecord[]> {
    const repo = this.deps.classes;
    return teacherId === undefined ? repo.listAll() : repo.listByTeacher(teacherId);
  }

  /** The running lesson and the last one (running or ended). */
  async lessonsOf(
    c: Pick<ClassRecord, 'id'>,
  ): Promise<{ lesson: Lesson | undefined; last: Lesson | undefined }> {
    const last = await this.deps.lessons.last(c.id);
    return { lesson: last && !last.endedAt ? last : undefined, last };
  }

  /** Lessons of a class, newest first. */
  lessons(c: Pick<ClassRecord, 'id'>): Promise<Lesson[]> {
    return this.deps.lessons.list(c.id);
  }

  /** Starts the next lesson (idempotent while live); CLASS_ARCHIVED. */
  async start(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    const r = await this.deps.lessons.start(c.id);
    if (r.started) {
      this.deps.logger?.info({ classId: c.id, lesson: r.lesson.number }, 'lesson started');
      this.events.emit(c.id, {
        type: 'class.started',
        class: eventClass(r.class),
        lesson: eventLesson(r.lesson),
      });
    }
    return r.class;
  }

  /**
   * Ends the running lesson, for good: its tokens stop, the publisher is disconnected, the
   * path's viewers are closed, `class.ended` is pushed. The class is scheduled again (same
   * join code and key for the next lesson). Idempotent.
   */
  async end(c: ClassRecord): Promise<ClassRecord> {
    const r = await this.deps.lessons.end(c.id);
    if (!r.lesson) return r.class;
    this.media.stopPath(pathOf(c), 'lesson ended');
    this.deps.logger?.info({ classId: c.id, lesson: r.lesson.number }, 'lesson ended');
    this.events.emit(c.id, {
      type: 'class.ended',
      class: eventClass(r.class),
      lesson: eventLesson(r.lesson),
    });
    return r.class;
  }

  /** Ends a running lesson, then archives (join code freed, key refused, read-only). Idempotent. */
  async archive(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'archived') return c;
    await this.end(c);
    const next = await this.deps.classes.archive(c.id);
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    this.media.stopPath(pathOf(c), 'class archived');
    this.deps.logger?.info({ classId: c.id }, 'class archived');
    return next;
  }

  /** A new title (must contain a visible character). */
  async rename(c: ClassRecord, title: string): Promise<ClassRecord> {
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    const next = await this.deps.classes.rename(c.id, cleanTitle(title));
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    return next;
  }

  /** A fresh stream key; a publisher that used the old key is disconnected at once. */
  async rotateStreamKey(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    const next = await this.deps.classes.rotateStreamKey(c.id);
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    this.media.kickPublisher(pathOf(c), 'key', 'stream key rotated');
    this.deps.logger?.info({ classId: c.id }, 'stream key rotated');
    return next;
  }

  /**
   * Removes a student: their token stops (REMOVED), their viewers close, `participant.removed`
   * tells the class (their own page says why; their sockets then close). NOT_FOUND otherwise.
   */
  async removeParticipant(c: ClassRecord, participantId: string): Promise<Participant> {
    const p = await this.deps.participants?.remove(c.id, participantId);
    if (!p) throw new AirError('NOT_FOUND', 'No such student in this class.');
    this.media.closeViewers(pathOf(c), { owner: p.id });
    this.deps.logger?.info({ classId: c.id, participantId: p.id }, 'student removed');
    this.events.emit(c.id, { type: 'participant.removed', id: p.id });
    return p;
  }

  /** Closes what a revoked monitor link holds open (viewers now; sockets via the event). */
  monitorRevoked(c: ClassRecord, sub: string): void {
    this.media.closeViewers(pathOf(c), { owner: sub });
    this.events.emit(c.id, { type: 'participant.removed', id: sub });
  }

  /**
   * The class of a stream key, ready to publish: a live class as it is, a scheduled one with
   * its next lesson started — unless its last lesson ended less than the cooldown ago (an
   * encoder reconnecting on its own must not restart an ended lesson): LESSON_ENDED.
   * CLASS_ARCHIVED for an archived class; undefined for an unknown key.
   */
  async publishWithKey(key: string): Promise<ClassRecord | undefined> {
    const c = await this.deps.classes.byStreamKey(key);
    if (!c) return undefined;
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    if (c.status === 'live') return c;
    const since = c.lastEndedAt ? Date.now() - c.lastEndedAt.getTime() : Infinity;
    if (since < this.cooldownMs) {
      this.deps.logger?.warn(
        { classId: c.id, endedSecondsAgo: Math.round(since / 1000) },
        'publish with the stream key refused: the lesson ended recently (start the next lesson first)',
      );
      throw new AirError('LESSON_ENDED', 'The lesson has ended; start the next lesson in the console first.');
    }
    return this.start(c);
  }
}
