/**
 * What the classroom asks of the media plane when a lesson ends, a key is rotated or a
 * student is removed. Declared here (control/ never reaches into the media servers); the
 * composition root implements it from the RTMP server, the stream registry and the WHEP
 * server. With several processes (REDIS_URL) the node holding the publisher may be another
 * one, so the classroom sends each command over the bus channel `media`, and every node
 * applies it to its own servers ({@link applyMediaCommand}).
 */
import type { Bus } from '../bus/bus.ts';

/** How a publisher authenticated: the class stream key, or a media token (RTMP ?token=, WHIP). */
export type PublisherAuth = 'key' | 'token';

/** The media side of a class. */
export interface ClassMedia {
  /** Ends a path now: its publisher is disconnected, the stream goes offline (no grace), viewers close. */
  stopPath(path: string, reason: string): void;
  /** Disconnects the publisher of a path if it authenticated with `auth` (any when undefined). */
  kickPublisher(path: string, auth: PublisherAuth | undefined, reason: string): void;
  /** Closes the viewer sessions of a path: all, or those of one token subject (`owner`). */
  closeViewers(path: string, filter?: { owner?: string }): void;
}

/** Does nothing (tests of the API alone). */
export const NO_MEDIA: ClassMedia = Object.freeze({
  stopPath: () => undefined,
  kickPublisher: () => undefined,
  closeViewers: () => undefined,
});

/** The bus channel media commands travel on. */
export const MEDIA_CHANNEL = 'media';

/** One command on the bus. */
export type MediaCommand =
  | { op: 'stop'; path: string; reason: string }
  | { op: 'kick'; path: string; auth?: PublisherAuth; reason: string }
  | { op: 'viewers'; path: string; owner?: string };

/** Sends every command over the bus (to every node, this one included). */
export class BusClassMedia implements ClassMedia {
  private readonly bus: Pick<Bus, 'publish'>;
  private readonly onError: (e: unknown) => void;

  constructor(bus: Pick<Bus, 'publish'>, onError: (e: unknown) => void = () => undefined) {
    this.bus = bus;
    this.onError = onError;
  }

  private send(cmd: MediaCommand): void {
    this.bus.publish(MEDIA_CHANNEL, cmd).catch(this.onError);
  }

  stopPath(path: string, reason: string): void {
    this.send({ op: 'stop', path, reason });
  }

  kickPublisher(path: string, auth: PublisherAuth | undefined, reason: string): void {
    this.send(auth ? { op: 'kick', path, auth, reason } : { op: 'kick', path, reason });
  }

  closeViewers(path: string, filter: { owner?: string } = {}): void {
    this.send(filter.owner ? { op: 'viewers', path, owner: filter.owner } : { op: 'viewers', path });
  }
}

/** Applies a command received from the bus to this node's media (malformed ones are ignored). */
export function applyMediaCommand(local: ClassMedia, msg: unknown): boolean {
  const m = msg as { op?: unknown; path?: unknown; reason?: unknown; auth?: unknown; owner?: unknown } | null;
  if (!m || typeof m !== 'object' || typeof m.path !== 'string') return false;
  const reason = typeof m.reason === 'string' ? m.reason : 'stopped';
  if (m.op === 'stop') local.stopPath(m.path, reason);
  else if (m.op === 'kick') {
    local.kickPublisher(m.path, m.auth === 'key' || m.auth === 'token' ? m.auth : undefined, reason);
  } else if (m.op === 'viewers') {
    local.closeViewers(m.path, typeof m.owner === 'string' ? { owner: m.owner } : {});
  } else return false;
  return true;
}
