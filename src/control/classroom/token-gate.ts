/**
 * The one gate every entry point passes a verified token through (the API's Authenticator,
 * `/ws`, WHEP POST/PATCH/DELETE, RTMP `?token=` publish). A signature and an expiry are not
 * enough once lessons end and people are removed, so this reads the database:
 *
 * - a revoked token (sign-out) → TOKEN_INVALID;
 * - an account (teacher, admin) that is gone or of another role → TOKEN_INVALID, disabled →
 *   USER_DISABLED, a session issued before `sessions_valid_after` → TOKEN_INVALID;
 * - a class token of an archived class → CLASS_ARCHIVED; whose `ep` differs from the class's
 *   epoch, or (no `ep`: the CLI's `airclass token`) issued before the last lesson end →
 *   LESSON_ENDED;
 * - a removed student → REMOVED; a monitor token of a revoked link → TOKEN_INVALID.
 */
import { AirError } from '../../shared/errors.ts';
import type { AccessClaims, MediaClaims } from '../auth/tokens.ts';
import type { GateFacts, GateQuery } from '../store/gate-repo.ts';
import { classIdOfPath } from './events.ts';

/** What the gate reads: every fact about a token in one round trip. */
export interface TokenGateDeps {
  facts(q: GateQuery): Promise<GateFacts>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Refuses tokens that were valid when signed but are not any more. */
export class TokenGate {
  private readonly deps: TokenGateDeps;

  constructor(deps: TokenGateDeps) {
    this.deps = deps;
  }

  /** Admits an API token; returns the principal (accounts get their current name). */
  async admitAccess(p: AccessClaims): Promise<AccessClaims> {
    const account = p.role === 'admin' || p.role === 'teacher';
    if (!account && !p.classId) throw new AirError('TOKEN_INVALID');
    const f = await this.deps.facts({
      jti: p.jti,
      userId: account ? p.sub : undefined,
      classId: account ? undefined : p.classId,
      participantId: p.role === 'student' ? p.sub : undefined,
      linkId: p.role === 'monitor' ? p.link : undefined,
    });
    notRevoked(f);
    if (account) return { ...p, name: accountOf(f, p.role, p.issuedAtMs).name };
    inLesson(f, p.epoch, p.issuedAtMs);
    if (p.role === 'student') notRemoved(f, p.classId!, true);
    if (p.role === 'monitor' && p.link) linkValid(f, p.classId!);
    return p;
  }

  /** Admits a media token already checked for its path and action (WHEP, RTMP `?token=`). */
  async admitMedia(c: MediaClaims & { link?: string }, path: string): Promise<void> {
    // Tokens the API issued name their class; the CLI's name only the path.
    const account = (c.role === 'admin' || c.role === 'teacher') && !!c.classId && UUID.test(c.sub);
    const classId = c.classId ?? classIdOfPath(path);
    const student = c.role === 'student' && UUID.test(c.sub);
    const f = await this.deps.facts({
      jti: c.jti,
      userId: account ? c.sub : undefined,
      classId,
      participantId: student ? c.sub : undefined,
      linkId: c.role === 'monitor' ? c.link : undefined,
    });
    notRevoked(f);
    if (account) accountOf(f, c.role, c.issuedAtMs);
    if (!classId) return;
    inLesson(f, c.epoch, c.issuedAtMs);
    if (student) notRemoved(f, classId, false);
    if (c.role === 'monitor' && c.link) linkValid(f, classId);
  }
}

function notRevoked(f: GateFacts): void {
  if (f.revoked) throw new AirError('TOKEN_INVALID', 'The token was revoked (signed out).');
}

/** The account behind a session; throws when it may not act. */
function accountOf(
  f: GateFacts,
  role: string,
  issuedAtMs: number | undefined,
): NonNullable<GateFacts['user']> {
  const user = f.user;
  if (!user || user.role !== role) throw new AirError('TOKEN_INVALID');
  if (user.disabledAt) throw new AirError('USER_DISABLED');
  const after = user.sessionsValidAfter?.getTime();
  if (after !== undefined && (issuedAtMs === undefined || issuedAtMs < after)) {
    throw new AirError('TOKEN_INVALID', 'The session was ended; sign in again.');
  }
  return user;
}

/** The class a token is for, still in the lesson the token was issued in. */
function inLesson(f: GateFacts, epoch: number | undefined, issuedAtMs: number | undefined): void {
  const c = f.cls;
  if (!c) throw new AirError('TOKEN_INVALID', 'The token is for a class that does not exist.');
  if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
  if (epoch !== undefined ? epoch !== c.epoch : (issuedAtMs ?? 0) < (c.lastEndedAt?.getTime() ?? -1)) {
    throw new AirError('LESSON_ENDED');
  }
}

function notRemoved(f: GateFacts, classId: string, mustExist: boolean): void {
  const p = f.participant;
  if (!p || p.classId !== classId) {
    if (mustExist) throw new AirError('TOKEN_INVALID');
    return;
  }
  if (p.removedAt) throw new AirError('REMOVED');
}

function linkValid(f: GateFacts, classId: string): void {
  const l = f.link;
  if (!l || l.classId !== classId || l.revokedAt) {
    throw new AirError('TOKEN_INVALID', 'The monitor link was revoked.');
  }
}
