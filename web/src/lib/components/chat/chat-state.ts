/**
 * The state of the chat + roster panel as a pure reducer over class-channel messages:
 * messages (pending until the server echoes them; deleted ones kept as "deleted"), class notes
 * (started, ended, stream on/off, locked), the roster, who you are; a student's own message the
 * chat hold keeps for the teacher shows as waiting (then rejected, or replaced by the approved
 * `chat.message` with its `heldId`). Port of web/chat/chat.js.
 */
import type { AnyServerMessage, RosterEntry, ServerEvents, WelcomeClass } from '../../protocol.ts';

/** One line of the log. */
export type ChatItem =
  | { kind: 'msg'; ev: ServerEvents['chat.message'] }
  | { kind: 'note'; id: string; at: string; key: string }
  | { kind: 'pending'; clientId: string; text: string; gen: number }
  /** Your own message held for the teacher's approval (`id`: its held id). */
  | { kind: 'held'; id: string; text: string; state: 'waiting' | 'rejected' };

/** A line to show under the log for a while: an i18n id (or the server's text as fallback). */
export interface ChatError {
  id: string;
  vars?: Record<string, string | number>;
  raw?: string;
  n: number;
}

/** Everything the panel draws. */
export interface ChatState {
  you: ServerEvents['welcome']['you'] | null;
  cls: WelcomeClass | null;
  items: ChatItem[];
  roster: Map<string, RosterEntry>;
  /** Welcomes seen; a pending send remembers the one it was sent under. */
  gen: number;
  seen: Set<string>;
  error: ChatError | null;
  /** Text of sends lost in a drop or refused, to put back in the input. */
  restore: { text: string; n: number } | null;
}

/** The empty state before `welcome`. */
export const initialChat = (): ChatState => ({
  you: null,
  cls: null,
  items: [],
  roster: new Map(),
  gen: 0,
  seen: new Set(),
  error: null,
  restore: null,
});

/** The note (i18n id) a class event adds to the log, or null. */
function noteOf(msg: { type: string; locked?: boolean }): string | null {
  switch (msg.type) {
    case 'class.started':
      return 'chat.note.started';
    case 'class.ended':
      return 'chat.note.ended';
    case 'stream.live':
      return 'chat.note.streamLive';
    case 'stream.waiting':
    case 'stream.offline':
      return 'chat.note.streamOffline';
    case 'chat.locked':
      return msg.locked ? 'chat.note.locked' : 'chat.note.unlocked';
    default:
      return null;
  }
}

/** A pending line for a send (the caller has sent it). */
export function addPending(s: ChatState, clientId: string, text: string): ChatState {
  return { ...s, restore: null, items: [...s.items, { kind: 'pending', clientId, text, gen: s.gen }] };
}

/** Applies one server message. */
export function chatReduce(s: ChatState, msg: AnyServerMessage): ChatState {
  const m = msg as AnyServerMessage & { at?: string; locked?: boolean; class?: Partial<WelcomeClass> };
  let next = s;
  switch (msg.type) {
    case 'welcome': {
      const w = msg as ServerEvents['welcome'];
      next = {
        ...s,
        gen: s.gen + 1,
        you: w.you,
        cls: { ...w.class },
        roster: new Map(w.roster.map((p) => [p.id, p])),
      };
      break;
    }
    case 'replayed': {
      const r = msg as ServerEvents['replayed'];
      let items = s.items;
      if (r.truncated) items = [...items, note('chat.note.truncated', new Date().toISOString(), `t${s.gen}`)];
      const stale = items.filter((i) => i.kind === 'pending' && i.gen < s.gen);
      next = { ...s, items };
      if (stale.length > 0) {
        next = {
          ...next,
          items: items.filter((i) => !stale.includes(i)),
          restore: { text: stale.map((i) => (i.kind === 'pending' ? i.text : '')).join('\n'), n: Date.now() },
          error: { id: 'chat.error.notSent', n: Date.now() },
        };
      }
      break;
    }
    case 'chat.pending': {
      const p = msg as ServerEvents['chat.pending'];
      if (s.items.some((i) => i.kind === 'held' && i.id === p.id)) break;
      const sent = s.items.find((i) => i.kind === 'pending' && i.clientId === p.clientId);
      if (sent?.kind !== 'pending') break;
      const held: ChatItem = { kind: 'held', id: p.id, text: sent.text, state: 'waiting' };
      next = { ...s, items: s.items.map((i) => (i === sent ? held : i)) };
      break;
    }
    case 'chat.rejected': {
      const id = (msg as ServerEvents['chat.rejected']).id;
      next = {
        ...s,
        items: s.items.map((i) => (i.kind === 'held' && i.id === id ? { ...i, state: 'rejected' } : i)),
      };
      break;
    }
    case 'chat.message': {
      const ev = msg as ServerEvents['chat.message'];
      // An approved message of yours takes the place of its waiting line.
      if (ev.heldId !== undefined)
        s = { ...s, items: s.items.filter((i) => !(i.kind === 'held' && i.id === ev.heldId)) };
      if (s.items.some((i) => i.kind === 'msg' && i.ev.id === ev.id)) {
        next = {
          ...s,
          items: s.items.map((i) => (i.kind === 'msg' && i.ev.id === ev.id ? { kind: 'msg', ev } : i)),
        };
        break;
      }
      const mine = s.you !== null && ev.from.id === s.you.sub;
      // A replayed message has no clientId: match what we sent before the drop by its text.
      const pending =
        s.items.find(
          (i) => i.kind === 'pending' && ev.clientId !== undefined && i.clientId === ev.clientId,
        ) ?? (mine ? s.items.find((i) => i.kind === 'pending' && i.text === ev.text) : undefined);
      next = { ...s, items: [...s.items.filter((i) => i !== pending), { kind: 'msg', ev }] };
      break;
    }
    case 'chat.deleted': {
      const id = (msg as ServerEvents['chat.deleted']).id;
      next = {
        ...s,
        items: s.items.map((i) =>
          i.kind === 'msg' && i.ev.id === id ? { kind: 'msg', ev: { ...i.ev, deleted: true, text: '' } } : i,
        ),
      };
      break;
    }
    case 'presence.join': {
      const p = (msg as ServerEvents['presence.join']).participant;
      next = { ...s, roster: new Map(s.roster).set(p.id, p) };
      break;
    }
    case 'presence.leave':
    case 'participant.removed': {
      const roster = new Map(s.roster);
      roster.delete((msg as ServerEvents['presence.leave']).id);
      next = { ...s, roster };
      break;
    }
    case 'error': {
      const e = msg as ServerEvents['error'];
      // Errors of other tools (hands, reactions, engagement) are theirs to show.
      if (e.ref && !e.ref.startsWith('chat.')) break;
      let { items, restore } = s;
      // A rate-limited frame is refused before it is read, so its error names no `ref`.
      if (e.ref === 'chat.send' || (!e.ref && e.code === 'RATE_LIMITED')) {
        const failed = items.find((i) => i.kind === 'pending' && i.gen === s.gen);
        if (failed?.kind === 'pending') {
          items = items.filter((i) => i !== failed);
          restore = { text: failed.text, n: Date.now() };
        }
      }
      next = {
        ...s,
        items,
        restore,
        error: { id: `chat.error.${e.code}`, raw: e.message, vars: { s: 10 }, n: Date.now() },
      };
      break;
    }
    default:
      break;
  }
  let cls = next.cls;
  const wasLive = cls?.streamLive;
  if (cls && m.type === 'chat.locked') cls = { ...cls, chatLocked: Boolean(m.locked) };
  if (cls && (m.type === 'class.started' || m.type === 'class.ended'))
    cls = {
      ...cls,
      status: m.type === 'class.started' ? 'live' : 'ended',
      title: m.class?.title ?? cls.title,
    };
  if (cls && ['stream.live', 'stream.waiting', 'stream.offline'].includes(m.type))
    cls = { ...cls, streamLive: m.type === 'stream.live' };
  if (cls !== next.cls) next = { ...next, cls };
  // A stream note only when the stream's state changes (waiting, then offline, is one drop).
  const repeat =
    (m.type === 'stream.live' && wasLive === true) ||
    ((m.type === 'stream.waiting' || m.type === 'stream.offline') && wasLive === false);
  const id = repeat ? null : noteOf(m);
  const key = `${m.type}:${m.seq ?? Math.random()}`;
  if (id && !next.seen.has(key)) {
    next.seen.add(key);
    next = { ...next, items: [...next.items, note(id, m.at ?? new Date().toISOString(), key)] };
  }
  return next;
}

function note(id: string, at: string, key: string): ChatItem {
  return { kind: 'note', id, at, key };
}
