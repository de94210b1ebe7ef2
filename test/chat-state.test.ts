/**
 * The chat panel's state (web/src/lib/components/chat/chat-state.ts), a pure reducer: the notes
 * the class's events add to the log. Regression: an encoder drop followed by the stream going
 * offline (or a lesson's end, which sends both) wrote "The stream stopped" twice.
 */
import { describe, expect, it } from 'vitest';
import { chatReduce, initialChat, type ChatState } from '../web/src/lib/components/chat/chat-state.ts';

type Msg = Parameters<typeof chatReduce>[1];

const welcome = {
  type: 'welcome',
  seq: 1,
  you: {
    id: 't',
    name: 'T',
    role: 'teacher',
    joinedAt: '2026-12-01T09:00:00Z',
    sub: 't',
    canSend: true,
    canModerate: true,
  },
  class: {
    id: 'c',
    title: 'Class',
    status: 'live',
    chatLocked: false,
    streamLive: true,
    hands: [],
    quiz: null,
  },
  roster: [],
} as unknown as Msg;

const apply = (s: ChatState, ...msgs: object[]): ChatState =>
  msgs.reduce<ChatState>((acc, m) => chatReduce(acc, m as Msg), s);
const notes = (s: ChatState) => s.items.filter((i) => i.kind === 'note').map((i) => (i as { id: string }).id);
const at = '2026-12-01T09:01:00Z';

describe('chat notes of stream events', () => {
  it('notes a drop once, however many events report it, and the return once', () => {
    const s = apply(
      chatReduce(initialChat(), welcome),
      { type: 'stream.waiting', seq: 2, at },
      { type: 'stream.offline', seq: 3, at },
      { type: 'stream.live', seq: 4, at },
      { type: 'stream.live', seq: 5, at },
    );
    expect(notes(s)).toEqual(['chat.note.streamOffline', 'chat.note.streamLive']);
  });
});
