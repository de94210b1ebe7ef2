/**
 * Class lifecycle: create, look up, start, end, rotate the stream key. Publishes
 * `class.started` / `class.ended` to the class's members through `ClassEvents`.
 * Authorization is the caller's job (see auth/policy.ts); this only keeps the state right:
 * scheduled → live → ended, and nothing comes back from ended.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ClassRecord, ClassRepo } from '../store/types.ts';
import { eventClass, NO_CLASS_EVENTS, type ClassEvents } from './events.ts';

/** What the class service is built from. */
export interface ClassServiceDeps {
  classes: ClassRepo;
  events?: ClassEvents;
  logger?: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Class lifecycle over the store, with events. */
export class ClassService {
  private readonly classes: ClassRepo;
  private readonly events: ClassEvents;
  private readonly logger: Logger | undefined;

  constructor(deps: ClassServiceDeps) {
    this.classes = deps.classes;
    this.events = deps.events ?? NO_CLASS_EVENTS;
    this.logger = deps.logger;
  }

  /** Creates a scheduled class owned by `teacherId`. */
  create(teacherId: string, title: string): Promise<ClassRecord> {
    return this.classes.create({ teacherId, title });
  }

  /** The class with `id`; CLASS_NOT_FOUND if there is none (or the id is not a UUID). */
  async get(id: string): Promise<ClassRecord> {
    const c = UUID.test(id) ? await this.classes.byId(id.toLowerCase()) : undefined;
    if (!c) throw new AirError('CLASS_NOT_FOUND');
    return c;
  }

  /** Classes of one teacher, or every class (`teacherId` undefined). */
  list(teacherId?: string): Promise<ClassRecord[]> {
    return teacherId === undefined ? this.classes.listAll() : this.classes.listByTeacher(teacherId);
  }

  /** scheduled → live (idempotent when live); CLASS_ENDED once ended. */
  async start(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'ended') throw new AirError('CLASS_ENDED');
    if (c.status === 'live') return c;
    const next = await this.classes.setStatus(c.id, 'live');
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    this.logger?.info({ classId: c.id }, 'class started');
    this.events.emit(c.id, { type: 'class.started', class: eventClass(next) });
    return next;
  }

  /** → ended (idempotent). The join code becomes free and the stream key stops working. */
  async end(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'ended') return c;
    const next = await this.classes.setStatus(c.id, 'ended');
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    this.logger?.info({ classId: c.id }, 'class ended');
    this.events.emit(c.id, { type: 'class.ended', class: eventClass(next) });
    return next;
  }

  /** A fresh stream key; the old one stops working for new RTMP publishes at once. */
  async rotateStreamKey(c: ClassRecord): Promise<ClassRecord> {
    if (c.status === 'ended') throw new AirError('CLASS_ENDED');
    const next = await this.classes.rotateStreamKey(c.id);
    if (!next) throw new AirError('CLASS_NOT_FOUND');
    this.logger?.info({ classId: c.id }, 'stream key rotated');
    return next;
  }

  /** The class whose stream key is `key`, if any. */
  byStreamKey(key: string): Promise<ClassRecord | undefined> {
    return this.classes.byStreamKey(key);
  }
}
