/**
 * Store records → API views. A class's secrets (join code, stream key) go only to those who
 * manage it; an account's password hash never leaves the control plane.
 */
import type { ClassLinks } from '../classroom/links.ts';
import type { ClassRecord, Participant, User } from '../store/types.ts';
import type { ClassView, UserView } from './schemas.ts';

/** The API view of a class; `full` adds the teacher's fields (join code, RTMP key). */
export function classView(c: ClassRecord, links: ClassLinks, full: boolean): ClassView {
  const v: ClassView = {
    id: c.id,
    title: c.title,
    status: c.status,
    chatLocked: c.chatLocked,
    createdAt: c.createdAt.toISOString(),
    startedAt: c.startedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
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
  return { id: u.id, email: u.email, name: u.name, role: u.role, createdAt: u.createdAt.toISOString() };
}

/** The API view of an attendance record. */
export function participantView(p: Participant): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    role: p.role,
    joinedAt: p.joinedAt.toISOString(),
    leftAt: p.leftAt?.toISOString() ?? null,
  };
}
