/**
 * Hands out access to a class: a student's token for a join code (recording attendance), a
 * monitor's share link, and the legacy media tokens of `POST /api/token`. Every token here is
 * earned: a valid join code, or a signed-in teacher acting on their own class.
 */
import { AirError } from '../../shared/errors.ts';
import { ttlSeconds, type MediaAction, type TokenService } from '../auth/tokens.ts';
import type { ClassRecord, ClassRepo, ParticipantRepo } from '../store/types.ts';
import type { ClassLinks } from './links.ts';

/** What a student gets for joining (the body of `POST /api/join`). */
export interface JoinResult {
  /** One token for the API, /ws and WHEP (audiences airclass-api + airclass-media). */
  token: string;
  expiresIn: number;
  participantId: string;
  name: string;
  class: { id: string; title: string; status: ClassRecord['status'] };
  path: string;
  whepUrl: string;
  watchUrl: string;
  wsUrl: string;
}

/** A monitor's read-only share link. */
export interface MonitorLink {
  url: string;
  token: string;
  expiresIn: number;
}

/** What the access issuer is built from. */
export interface ClassAccessDeps {
  classes: Pick<ClassRepo, 'byJoinCode'>;
  /** The most recently ended class with a code, to answer CLASS_ENDED rather than "wrong code". */
  endedByJoinCode?: (code: string) => Promise<ClassRecord | undefined>;
  participants: Pick<ParticipantRepo, 'join'>;
  tokens: TokenService;
  links: ClassLinks;
  studentTokenTtl: string;
  monitorLinkTtl: string;
}

/** Trims a display name, drops control and invisible format characters, collapses whitespace. */
export function cleanName(raw: string): string {
  // Cc: control characters; Cf: zero-width and bidi-override characters.
  return raw
    .replace(/\s/g, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/ +/g, ' ')
    .trim();
}

/** Issues class tokens and links. */
export class ClassAccess {
  private readonly deps: ClassAccessDeps;

  constructor(deps: ClassAccessDeps) {
    this.deps = deps;
  }

  /**
   * Joins the class open with `code` as `name`: records attendance and returns a student token
   * (role student, this class, read on `live/<classId>`). JOIN_CODE_INVALID for no such open
   * class, CLASS_ENDED for a class that has ended, VALIDATION for an empty name.
   */
  async join(code: string, rawName: string): Promise<JoinResult> {
    const name = cleanName(rawName);
    if (!name) throw new AirError('VALIDATION', 'The name is empty.');
    if (!/^[0-9]{6}$/.test(code)) throw new AirError('JOIN_CODE_INVALID');
    const c = await this.deps.classes.byJoinCode(code);
    if (!c) {
      if (await this.deps.endedByJoinCode?.(code)) throw new AirError('CLASS_ENDED');
      throw new AirError('JOIN_CODE_INVALID');
    }
    if (c.status === 'ended') throw new AirError('CLASS_ENDED');
    const { links, tokens } = this.deps;
    const participant = await this.deps.participants.join({ classId: c.id, name, role: 'student' });
    const path = links.path(c.id);
    const token = await tokens.signAccess(
      {
        sub: participant.id,
        role: 'student',
        classId: c.id,
        name,
        media: { path, actions: ['read'] },
      },
      this.deps.studentTokenTtl,
    );
    return {
      token,
      expiresIn: ttlSeconds(this.deps.studentTokenTtl),
      participantId: participant.id,
      name,
      class: { id: c.id, title: c.title, status: c.status },
      path,
      whepUrl: links.whepUrl(c.id),
      watchUrl: links.watchUrl(c.id),
      wsUrl: links.wsUrl(),
    };
  }

  /** A read-only monitor link for the class (role monitor, read on its path). */
  async monitorLink(c: ClassRecord, createdBy: string): Promise<MonitorLink> {
    if (c.status === 'ended') throw new AirError('CLASS_ENDED');
    const ttl = this.deps.monitorLinkTtl;
    const token = await this.deps.tokens.signAccess(
      {
        sub: `monitor:${createdBy}`,
        role: 'monitor',
        classId: c.id,
        name: 'monitor',
        media: { path: this.deps.links.path(c.id), actions: ['read'] },
      },
      ttl,
    );
    return { url: this.deps.links.monitorUrl(token), token, expiresIn: ttlSeconds(ttl) };
  }

  /**
   * A media-only token on the class path (the teacher's preview and WHIP, the legacy
   * `POST /api/token`): `userType` names the role, `userId` the subject; only a teacher token
   * may publish.
   */
  async mediaToken(
    c: ClassRecord,
    userType: 'teacher' | 'student' | 'monitor',
    userId: string,
    actions: MediaAction[],
    ttl: string,
  ): Promise<{ token: string; expiresIn: number; path: string }> {
    if (actions.includes('publish') && userType !== 'teacher') {
      throw new AirError('FORBIDDEN', 'Only a teacher token may publish.');
    }
    const path = this.deps.links.path(c.id);
    const token = await this.deps.tokens.sign(
      { sub: userId, role: userType, path, actions, classId: c.id },
      ttl,
    );
    return { token, expiresIn: ttlSeconds(ttl), path };
  }
}
