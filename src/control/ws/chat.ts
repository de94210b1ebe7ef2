import { AirError } from '../../shared/errors.ts';
import type { Role } from '../auth/tokens.ts';
import type { ChatMessage, ChatRepo, ClassRepo, ParticipantRole } from '../store/types.ts';
import type { ClassHub } from './hub.ts';
import type { ChatEvent } from './messages.ts';

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

/** What {@link ChatActions} needs. */
export interface ChatActionsDeps {
  hub: Pick<ClassHub, 'publish' | 'broadcast' | 'state'>;
  classes: Pick<ClassRepo, 'byId' | 'nextSeq' | 'setChatLocked'>;
  chat: Pick<ChatRepo, 'add' | 'delete'>;
}

/**
 * The chat of a class: teacher ↔ students, monitors read only; the teacher deletes messages
 * and locks the chat (students' sends are then refused with CHAT_LOCKED). Messages are
 * stored with their sequence number (so reconnects replay them from the database) and
 * published to the class. Refusals are AirErrors with stable codes.
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

  /** Stores and publishes a message; resolves with the pushed event. */
  async send(actor: Actor, text: string, clientId?: string): Promise<ChatEvent> {
    if (!canSend(actor.role)) throw new AirError('FORBIDDEN', 'Monitors can read the chat but not write.');
    // Control characters other than tab and newline have no place in a chat line.
    // eslint-disable-next-line no-control-regex
    const trimmed = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '').trim();
    if (trimmed === '') throw new AirError('VALIDATION', '/text: must not be blank');
    const cls = await this.openClass(actor.classId);
    if (cls.chatLocked && !canModerate(actor.role)) throw new AirError('CHAT_LOCKED');
    const seq = await this.deps.classes.nextSeq(actor.classId);
    const stored = await this.deps.chat.add({
      classId: actor.classId,
      seq,
      senderId: actor.sub,
      senderName: actor.name,
      senderRole: participantRole(actor.role),
      text: trimmed,
    });
    const event = chatEvent(stored, clientId);
    await this.deps.hub.broadcast(actor.classId, event);
    return event;
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
