/**
 * Class events as the classroom publishes them, for the WebSocket hub to fan out to a class
 * (DESIGN §4). The hub (or the bus in front of it) implements `ClassEvents`; the composition
 * root passes it in. Types published here:
 *
 * - `class.started` `{ class, lesson }` — the teacher started the next lesson, or published
 *   with its stream key while it was scheduled.
 * - `class.ended`   `{ class, lesson }` — the lesson ended (final).
 * - `participant.removed` `{ id }` — the teacher removed a student (or revoked a monitor link).
 * - `stream.live` / `stream.waiting` / `stream.offline` `{ path }`, `stream.stats` `{ path,
 *   width, height, fps, bitrate, viewers }` — see stream-watch.ts.
 */
import type { ClassRecord } from '../store/types.ts';

/** One event for the members of a class. */
export interface ClassEvent {
  type: string;
  [k: string]: unknown;
}

/** Where class events go (implemented by the WebSocket hub / bus). */
export interface ClassEvents {
  emit(classId: string, event: ClassEvent): void;
}

/** Drops every event (the default until a hub is wired). */
export const NO_CLASS_EVENTS: ClassEvents = Object.freeze({ emit: () => undefined });

/** The class fields an event carries (never the join code or stream key). */
export function eventClass(c: ClassRecord): Record<string, unknown> {
  return {
    id: c.id,
    title: c.title,
    status: c.status,
    startedAt: c.startedAt?.toISOString() ?? null,
    endedAt: c.endedAt?.toISOString() ?? null,
  };
}

/** The class id of a class path `live/<classId>`, or undefined for other paths. */
export function classIdOfPath(path: string): string | undefined {
  const m = /^live\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(path);
  return m?.[1]?.toLowerCase();
}
