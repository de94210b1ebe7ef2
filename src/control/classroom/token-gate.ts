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
import type {
  ClassRecord,
  ClassRepo,
  MonitorLinkRepo,
  ParticipantRepo,
  RevokedTokenRepo,
  User,
  UserRepo,
} from '../store/types.ts';
import { classIdOfPath } from './events.ts';

/** What the gate reads. */
export interface TokenGateDeps {
  classes: Pick<ClassRepo, 'byId'>;
  participants: Pick<ParticipantRepo, 'byId'>;
  users: Pick<UserRepo, 'byId'>;
  revokedTokens: Pick<RevokedTokenRepo, 'isRevoked'>;
  monitorLinks: Pick<MonitorLinkRepo, 'byId'>;
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
    await this.notRevoked(p.jti);
    if (p.role === 'admin' || p.role === 'teacher') {
      const user = await this.account(p.sub, p.role, p.issuedAtMs);
      if (!user) throw new AirError('TOKEN_INVALID');
      return { ...p, name: user.name };
    }
    if (!p.classId) throw new AirError('TOKEN_INVALID');
    await this.inLesson(p.classId, p.epoch, p.issuedAtMs);
    if (p.role === 'student') await this.notRemoved(p.classId, p.sub, true);
    if (p.role === 'monitor' && p.link) await this.linkValid(p.classId, p.link);
    return p;
  }

  /** Admits a media token already checked for its path and action (WHEP, RTMP `?token=`). */
  async admitMedia(c: MediaClaims & { link?: string }, path: string): Promise<void> {
    await this.notRevoked(c.jti);
    // Tokens the API issued name their class; the CLI's name only the path.
    if ((c.role === 'admin' || c.role === 'teacher') && c.classId && UUID.test(c.sub)) {
      await this.account(c.sub, c.role, c.issuedAtMs);
    }
    const classId = c.classId ?? classIdOfPath(path);
    if (!classId) return;
    await this.inLesson(classId, c.epoch, c.issuedAtMs);
    if (c.role === 'student' && UUID.test(c.sub)) await this.notRemoved(classId, c.sub, false);
    if (c.role === 'monitor' && c.link) await this.linkValid(classId, c.link);
  }

  private async notRevoked(jti: string | undefined): Promise<void> {
    if (jti && (await this.deps.revokedTokens.isRevoked(jti))) {
      throw new AirError('TOKEN_INVALID', 'The token was revoked (signed out).');
    }
  }

  /** The account behind a session; throws when it may not act. */
  private async account(sub: string, role: string, issuedAtMs: number | undefined): Promise<User> {
    const user = await this.deps.users.byId(sub);
    if (!user || user.role !== role) throw new AirError('TOKEN_INVALID');
    if (user.disabledAt) throw new AirError('USER_DISABLED');
    const after = user.sessionsValidAfter?.getTime();
    if (after !== undefined && (issuedAtMs === undefined || issuedAtMs < after)) {
      throw new AirError('TOKEN_INVALID', 'The session was ended; sign in again.');
    }
    return user;
  }

  /** The class a token is for, still in the lesson the token was issued in. */
  private async inLesson(
    classId: string,
    epoch: number | undefined,
    issuedAtMs: number | undefined,
  ): Promise<ClassRecord> {
    const c = await this.deps.classes.byId(classId);
    if (!c) throw new AirError('TOKEN_INVALID', 'The token is for a class that does not exist.');
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    if (epoch !== undefined ? epoch !== c.epoch : (issuedAtMs ?? 0) < (c.lastEndedAt?.getTime() ?? -1)) {
      throw new AirError('LESSON_ENDED');
    }
    return c;
  }

  private async notRemoved(classId: string, participantId: string, mustExist: boolean): Promise<void> {
    const p = await this.deps.participants.byId(participantId);
    if (!p || p.classId !== classId) {
      if (mustExist) throw new AirError('TOKEN_INVALID');
      return;
    }
    if (p.removedAt) throw new AirError('REMOVED');
  }

  private async linkValid(classId: string, linkId: string): Promise<void> {
    const l = await this.deps.monitorLinks.byId(linkId);
    if (!l || l.classId !== classId || l.revokedAt) {
      throw new AirError('TOKEN_INVALID', 'The monitor link was revoked.');
    }
  }
}
