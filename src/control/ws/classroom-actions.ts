/**
 * What the class channel hands to the classroom features (engagement, hands, reactions): the
 * interface is declared here, where the socket session uses it; `control/engagement`
 * implements it and the composition root passes it in `SessionDeps.classroom`, so ws/ never
 * imports the features.
 */
import type { Actor } from './chat.ts';
import type { PLAYING_STATES, REACTION_KINDS, ServerMessage } from './messages.ts';

/** One open socket of a class, as the classroom features see it. */
export interface ClassroomSocket {
  readonly actor: Actor;
  /** The attendance record of this socket (a student's first socket: the token's subject). */
  readonly participantId: string;
  /** Sends a message to this socket only (dropped once it is closed). */
  push(msg: ServerMessage): void;
}

/** A student's player and tab state. */
export interface PlayerState {
  playing: (typeof PLAYING_STATES)[number];
  visible: boolean;
}

/** The classroom's handlers of class-channel messages; each rejects with an AirError to refuse. */
export interface ClassroomActions {
  /** A socket finished its start-up (welcome sent). */
  opened(socket: ClassroomSocket): void;
  /** A socket closed. */
  closed(socket: ClassroomSocket): void;
  /** `engagement.state` (students). */
  engagementState(socket: ClassroomSocket, state: PlayerState): Promise<void>;
  /** `hand.raise` (students). */
  raiseHand(socket: ClassroomSocket): Promise<void>;
  /** `hand.lower`: a student's own hand, or the teacher's pick `id`. */
  lowerHand(socket: ClassroomSocket, id?: string): Promise<void>;
  /** `reaction` (students; at most 2 per second per socket, else RATE_LIMITED). */
  react(socket: ClassroomSocket, kind: (typeof REACTION_KINDS)[number]): Promise<void>;
}
