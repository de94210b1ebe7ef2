/**
 * Store records → API views. A class's secrets (join code, stream key) go only to those who
 * manage it; an account's password hash never leaves the control plane.
 */
import type { ClassLinks } from '../classroom/links.ts';
import type { ClassRecord, Lesson, MonitorLinkRecord, Participant, User } from '../store/types.ts';
import type { ClassView, LessonView, StreamView, UserView } from './schemas.ts';

/** What a class view shows besides the record: its lessons and its stream. */
export interface ClassExtras {
  lesson?: Lesson;
  lastLesson?: Lesson;
  stream?: StreamView;
}

/** The stream of a class nobody publishes to. */
export const OFFLINE: StreamView = Object.freeze({ live: false, state: 'offline', viewers: 0 });

/** The API view of a lesson. */
export function lessonView(l: Lesson): LessonView {
  return {
    id: l.id,
    number: l.number,
    startedAt: l.startedAt.toISOString(),
    endedAt: l.endedAt?.toISOString() ?? null,
  };
}

/** The API view of a class; `full` adds the teacher's fields (join code, RTMP key). */
export function classView(c: ClassRecord, links: ClassLinks, full: boolean, x: ClassExtras = {}): ClassView {
  const v: ClassView = {
    id: c.id,
    title: c.title,
    status: c.status,
    chatLocked: c.chatLocked,
    createdAt: c.createdAt.toISOString(),
    startedAt: c.startedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
    lesson: x.lesson && !x.lesson.endedAt ? lessonView(x.lesson) : null,
    lastLesson: x.lastLesson ? lessonView(x.lastLesson) : null,
    archived: c.status === 'archived',
    stream: x.stream ?? OFFLINE,
    path: links.path(c.id),
    whepUrl: links.whepUrl(c.id),
    watchUrl: links.watchUrl(c.id),
  };
  if (full) {
    v.teacherId = c.teacherId;
    v.joinCode = c.joinCode;
    v.joinUrl = links.joinUrl(c.joinCode);
    v.rtmp = links.rtmp(c);
  }
  return v;
}

/** The API view of an account. */
export function userView(u: User): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    createdAt: u.createdAt.toISOString(),
    disabled: u.disabledAt !== null,
  };
}

/** The API view of an attendance record. */
export function participantView(p: Participant): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    role: p.role,
    joinedAt: p.joinedAt.toISOString(),
    leftAt: p.leftAt?.toISOString() ?? null,
    lessonId: p.lessonId,
    removed: p.removedAt !== null,
  };
}

/** The API view of a monitor link. */
export function monitorLinkView(l: MonitorLinkRecord, now = Date.now()): Record<string, unknown> {
  const status = l.revokedAt ? 'revoked' : l.expiresAt.getTime() <= now ? 'expired' : 'active';
  return {
    id: l.id,
    createdAt: l.createdAt.toISOString(),
    expiresAt: l.expiresAt.toISOString(),
    revokedAt: l.revokedAt?.toISOString() ?? null,
    status,
  };
}
