/**
 * Who may do what (DESIGN §4, issue 3 item 5). One place, pure functions, so the HTTP routes,
 * the WebSocket hub and the authorization matrix test agree:
 *
 * | role    | classes                                      |
 * | ------- | -------------------------------------------- |
 * | admin   | everything, every class, user accounts       |
 * | teacher | creates classes; manages and views its own   |
 * | monitor | views one class read-only (roster, chat)     |
 * | student | views one class (the one it joined)          |
 */
import { AirError } from '../../shared/errors.ts';
import type { ClassRecord } from '../store/types.ts';
import type { AccessClaims, Role } from './tokens.ts';

/** The authenticated caller of a request or socket. */
export type Principal = AccessClaims;

/** True when the caller may change the class (start, end, rotate, QR, share links). */
export function canManageClass(p: Principal, c: Pick<ClassRecord, 'teacherId'>): boolean {
  return p.role === 'admin' || (p.role === 'teacher' && c.teacherId === p.sub);
}

/** True when the caller may see the class (its public fields, its stream). */
export function canViewClass(p: Principal, c: Pick<ClassRecord, 'id' | 'teacherId'>): boolean {
  if (canManageClass(p, c)) return true;
  return (p.role === 'student' || p.role === 'monitor') && p.classId === c.id;
}

/** True when the caller may see who is in the class and its engagement (not students). */
export function canMonitorClass(p: Principal, c: Pick<ClassRecord, 'id' | 'teacherId'>): boolean {
  return canManageClass(p, c) || (p.role === 'monitor' && p.classId === c.id);
}

/** Throws FORBIDDEN unless the caller has one of `roles`. */
export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!roles.includes(p.role)) throw new AirError('FORBIDDEN');
}

/** Throws FORBIDDEN unless `allowed`. */
export function check(allowed: boolean): void {
  if (!allowed) throw new AirError('FORBIDDEN');
}
