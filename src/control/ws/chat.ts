import { AirError } from '../../shared/errors.ts';
import { holdReasons } from '../ai/builtin/moderation.ts';
import type { Role } from '../auth/tokens.ts';
import type {
  ChatMessage,
  ChatRepo,
  ClassRepo,
  HeldMessage,
  HeldRepo,
  ParticipantRole,
} from '../store/types.ts';
import type { ClassHub } from './hub.ts';
import type { ChatEvent, ChatPendingMessage, HeldEntry } from './messages.ts';

/** Who acts in a class (from the socket's token). */
export interface Actor {
  classId: string;
  /** Token subject: participant id (students), user id (teachers, admins), link id (monitors). */
  sub: string;
  name: string;
  role: Role;
}

/** The participant role shown for a token role (an admin acts as a teacher). */
export function participantRole(role: Role): ParticipantRole {
  return role === 'admin' ? 'teacher' : role;
}

/** True when the role may write in the chat (monitors only read). */
export function canSend(role: Role): boolean {
  return role !== 'monitor';
}

/** True when the role may delete messages and lock the chat. */
export function canModerate(role: Role): boolean {
  return role === 'teacher' || role === 'admin';
}

/** A stored chat message as pushed to clients (a deleted one without its text). */
export function chatEvent(m: ChatMessage, clientId?: string): ChatEvent {
  const e: ChatEvent = {
    type: 'chat.message',
    seq: m.seq,
    id: m.id,
    from: { id: m.senderId, name: m.senderName, role: m.senderRole },
    text: m.deletedAt ? '' : m.text,
    at: m.createdAt.toISOString(),
  };
  if (m.deletedAt) e.deleted = true;
  if (clientId !== undefined) e.clientId = clientId;
  return e;
}

/** A held message as staff see it. */
export function heldEntry(h: HeldMessage): HeldEntry {
  return {
    id: h.id,
    from: { id: h.senderId, name: h.senderName },
    text: h.text,
    reasons: h.reasons,
    at: h.createdAt.toISOString(),
  };
}

/** What {@link ChatActions} needs. */
export interface ChatActionsDeps {
  hub: Pick<ClassHub, 'publish' | 'broadcast' | 'state'>;
  classes: Pick<ClassRepo, 'byId' | 'nextSeq' | 'setChatLocked'>;
  chat: Pick<ChatRepo, 'add' | 'delete'>;
  /** Students' messages held for the teacher (the moderation hold, issue 10). */
  held: Pick<HeldRepo, 'add' | 'decide' | 'linkMessage'>;
}

/**
 * The chat of a class: teacher ↔ students, monitors read only; the teacher deletes messages
 * and locks the chat (students' sends are then refused with CHAT_LOCKED). Messages are
 * stored with their sequence number (so reconnects replay them from the database) and
 * published to the class. A student's message that `holdReasons` flags (personal information,
 * an insult) is not posted: it is stored as held, staff get `chat.held`, and the sender gets
 * `chat.pending`; the teacher then approves it (posted as its sender wrote it, a normal
 * `chat.message` with `heldId`) or rejects it (`chat.rejected` with only its held id to the class,
 * so the sender's page can mark its own line). Refusals are AirErrors with stable codes.
 */
export class ChatActions {
  private readonly deps: ChatActionsDeps;

  constructor(deps: ChatActionsDeps) {
    this.deps = deps;
  }

  /** The class's state (cached by the hub while it has sockets of it); CLASS_ARCHIVED once archived. */
  private async openClass(classId: string): Promise<{ chatLocked: boolean }> {
    const cls = this.deps.hub.state(classId) ?? (await this.deps.classes.byId(classId));
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (cls.status === 'archived') throw new AirError('CLASS_ARCHIVED');
    return cls;
  }

  /**
   * Stores and publishes a message; resolves with the pushed event, or, for a student's
   * message that is held, with the `chat.pending` answer for the sender's socket.
   */
  async send(actor: Actor, text: string, clientId?: string): Promise<ChatEvent | ChatPendingMessage> {
    if (!canSend(actor.role)) throw new AirError('FORBIDDEN', 'Monitors can read the chat but not write.');
    // Control characters other than tab and newline have no place in a chat line.
    // eslint-disable-next-line no-control-regex
    const trimmed = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trim();
    if (trimmed === '') throw new AirError('VALIDATION', '/text: must not be blank');
    const cls = await this.openClass(actor.classId);
    if (cls.chatLocked && !canModerate(actor.role)) throw new AirError('CHAT_LOCKED');
    const reasons = actor.role === 'student' ? holdReasons(trimmed) : [];
    if (reasons.length > 0) {
      const held = await this.deps.held.add({
        classId: actor.classId,
        senderId: actor.sub,
        senderName: actor.name,
        text: trimmed,
        reasons,
      });
      await this.deps.hub.publish(actor.classId, {
        type: 'chat.held',
        audience: 'teachers',
        held: heldEntry(held),
      });
      const pending: ChatPendingMessage = { type: 'chat.pending', id: held.id, reasons };
      if (clientId !== undefined) pending.clientId = clientId;
      return pending;
    }
    return this.post(actor.classId, actor.sub, actor.name, participantRole(actor.role), trimmed, clientId);
  }

  /** Stores a message with the class's next seq and broadcasts it. */
  private async post(
    classId: string,
    senderId: string,
    senderName: string,
    senderRole: ParticipantRole,
    text: string,
    clientId?: string,
    heldId?: string,
  ): Promise<ChatEvent> {
    const seq = await this.deps.classes.nextSeq(classId);
    const stored = await this.deps.chat.add({ classId, seq, senderId, senderName, senderRole, text });
    const event = chatEvent(stored, clientId);
    if (heldId !== undefined) event.heldId = heldId;
    await this.deps.hub.broadcast(classId, event);
    return event;
  }

  /**
   * Approves a held message: it is posted as its sender wrote it (a normal `chat.message`, with
   * `heldId`), and staff get `chat.decided`. MESSAGE_NOT_FOUND when it is not held (any more).
   */
  async approve(actor: Actor, id: string): Promise<ChatEvent> {
    if (!canModerate(actor.role)) throw new AirError('FORBIDDEN', 'Only the teacher can approve messages.');
    await this.openClass(actor.classId);
    // Claim it first, so a second approval (another teacher, a double click) posts nothing.
    const held = await this.deps.held.decide(actor.classId, id, 'approved');
    if (!held) throw new AirError('MESSAGE_NOT_FOUND');
    const event = await this.post(
      held.classId,
      held.senderId,
      held.senderName,
      'student',
      held.text,
      undefined,
      held.id,
    );
    await this.deps.held.linkMessage(held.classId, held.id, event.id);
    await this.deps.hub.publish(actor.classId, {
      type: 'chat.decided',
      audience: 'teachers',
      id: held.id,
      status: 'approved',
      messageId: event.id,
    });
    return event;
  }

  /** Rejects a held message: staff get `chat.decided`, the class `chat.rejected` (only the id). */
  async reject(actor: Actor, id: string): Promise<void> {
    if (!canModerate(actor.role)) throw new AirError('FORBIDDEN', 'Only the teacher can reject messages.');
    const held = await this.deps.held.decide(actor.classId, id, 'rejected');
    if (!held) throw new AirError('MESSAGE_NOT_FOUND');
    await this.deps.hub.publish(actor.classId, {
      type: 'chat.decided',
      audience: 'teachers',
      id: held.id,
      status: 'rejected',
    });
    await this.deps.hub.publish(actor.classId, { type: 'chat.rejected', id: held.id });
  }

  /** Marks a message deleted and tells the class. */
  async delete(actor: Actor, id: string): Promise<void> {
    if (!canModerate(actor.role)) throw new AirError('FORBIDDEN', 'Only the teacher can delete messages.');
    const m = await this.deps.chat.delete(actor.classId, id);
    if (!m) throw new AirError('MESSAGE_NOT_FOUND');
    await this.deps.hub.publish(actor.classId, { type: 'chat.deleted', id });
  }

  /** Locks or unlocks the chat for students and tells the class. */
  async lock(actor: Actor, locked: boolean): Promise<void> {
    if (!canModerate(actor.role)) throw new AirError('FORBIDDEN', 'Only the teacher can lock the chat.');
    await this.openClass(actor.classId);
    await this.deps.classes.setChatLocked(actor.classId, locked);
    await this.deps.hub.publish(actor.classId, { type: 'chat.locked', locked });
  }
}
