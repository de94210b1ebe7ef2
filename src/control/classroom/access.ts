/**
 * Hands out access to a class: a student's token for a join code (recording attendance), a
 * monitor's share link, and the legacy media tokens of `POST /api/token`. Every token here is
 * earned: a valid join code, or a signed-in teacher acting on their own class.
 */
import { AirError } from '../../shared/errors.ts';
import { ttlSeconds, type MediaAction, type TokenService } from '../auth/tokens.ts';
import type {
  ClassRecord,
  ClassRepo,
  MonitorLinkRecord,
  MonitorLinkRepo,
  ParticipantRepo,
} from '../store/types.ts';
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
  /** The link's id (to revoke it). */
  id: string;
  url: string;
  token: string;
  expiresIn: number;
}

/** What the access issuer is built from. */
export interface ClassAccessDeps {
  /** `archivedByJoinCode` answers CLASS_ARCHIVED rather than "wrong code" after archiving. */
  classes: Pick<ClassRepo, 'byJoinCode' | 'archivedByJoinCode'>;
  participants: Pick<ParticipantRepo, 'join'>;
  monitorLinks: Pick<MonitorLinkRepo, 'create' | 'list' | 'revoke'>;
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

/** The token subject of a monitor link (WHEP sessions and sockets are tagged with it). */
export function monitorSubject(linkId: string): string {
  return `monitor:${linkId}`;
}

/** Issues class tokens and links. */
export class ClassAccess {
  private readonly deps: ClassAccessDeps;

  constructor(deps: ClassAccessDeps) {
    this.deps = deps;
  }

  /**
   * Joins the class open with `code` as `name`: records attendance and returns a student token
   * (role student, this class, read on `live/<classId>`, `ep` = the class's epoch, so the end
   * of the lesson ends it). JOIN_CODE_INVALID for no such class, CLASS_ARCHIVED for a class
   * archived lately, VALIDATION for an empty name. A scheduled class may be joined (the
   * student waits for the lesson to start).
   */
  async join(code: string, rawName: string): Promise<JoinResult> {
    const name = cleanName(rawName);
    if (!name) throw new AirError('VALIDATION', 'The name is empty.');
    if (!/^[0-9]{6}$/.test(code)) throw new AirError('JOIN_CODE_INVALID');
    const c = await this.deps.classes.byJoinCode(code);
    if (!c) {
      if (await this.deps.classes.archivedByJoinCode(code)) throw new AirError('CLASS_ARCHIVED');
      throw new AirError('JOIN_CODE_INVALID');
    }
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
        epoch: c.epoch,
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

  /**
   * A read-only monitor link for the class (role monitor, read on its path), stored so that
   * it can be listed and revoked; it holds for the current lesson (`ep`).
   */
  async monitorLink(c: ClassRecord, createdBy: string): Promise<MonitorLink> {
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    const ttl = this.deps.monitorLinkTtl;
    const expiresIn = ttlSeconds(ttl);
    const link = await this.deps.monitorLinks.create({
      classId: c.id,
      createdBy,
      expiresAt: new Date(Date.now() + expiresIn * 1000),
    });
    const token = await this.deps.tokens.signAccess(
      {
        sub: monitorSubject(link.id),
        role: 'monitor',
        classId: c.id,
        name: 'monitor',
        media: { path: this.deps.links.path(c.id), actions: ['read'] },
        epoch: c.epoch,
        link: link.id,
      },
      ttl,
    );
    return { id: link.id, url: this.deps.links.monitorUrl(token), token, expiresIn };
  }

  /** The class's monitor links, newest first (no tokens: those were shown once). */
  monitorLinks(c: ClassRecord): Promise<MonitorLinkRecord[]> {
    return this.deps.monitorLinks.list(c.id);
  }

  /** Revokes a monitor link of the class; NOT_FOUND if it is not one. */
  async revokeMonitorLink(c: ClassRecord, id: string): Promise<MonitorLinkRecord> {
    const l = await this.deps.monitorLinks.revoke(c.id, id);
    if (!l) throw new AirError('NOT_FOUND', 'No such monitor link in this class.');
    return l;
  }

  /**
   * A media-only token on the class path (the teacher's preview and WHIP, the legacy
   * `POST /api/token`): `userType` names the role, `userId` the subject; only a teacher token
   * may publish.
   */
  async mediaToken(
    c: ClassRecord,
    userType: 'admin' | 'teacher' | 'student' | 'monitor',
    userId: string,
    actions: MediaAction[],
    ttl: string,
  ): Promise<{ token: string; expiresIn: number; path: string }> {
    if (actions.includes('publish') && userType !== 'teacher' && userType !== 'admin') {
      throw new AirError('FORBIDDEN', 'Only a teacher token may publish.');
    }
    const path = this.deps.links.path(c.id);
    if (c.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    const token = await this.deps.tokens.sign(
      { sub: userId, role: userType, path, actions, classId: c.id, epoch: c.epoch },
      ttl,
    );
    return { token, expiresIn: ttlSeconds(ttl), path };
  }
}
