/**
 * What the class channel tells the teacher's pages, kept as Preact state: the stream's state
 * and figures, the roster, the hand queue, reactions, engagement (latest push and the class
 * score's series) (quizzes subscribe on their own). One hook per page, over the page's one ClassChannel.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ClassChannel, ChannelState } from '../lib/channel.ts';
import type { HandEntry, ReactionKind, RosterEntry, WelcomeClass } from '../lib/protocol.ts';
import type { EngagementPoint, EngagementStudent, StreamState, StreamStats } from './types.ts';

/** How many class-score points the series keeps (2 s apart: 20 minutes). */
const SERIES_MAX = 600;
/** How long a reaction floats over the preview (ms). */
export const FLOAT_MS = 2600;

/** A reaction on its way up the preview. */
export interface FloatingReaction {
  key: number;
  kind: ReactionKind;
  name: string;
  left: number;
}

/** The live state of one class. */
export interface ClassLive {
  channel: ChannelState;
  welcomed: boolean;
  /** Server's class status from `welcome` / `class.*` events. */
  status: string | null;
  lessonId: string | null;
  stream: StreamState | null;
  stats: StreamStats | null;
  roster: RosterEntry[];
  hands: HandEntry[];
  reactions: FloatingReaction[];
  reactionCounts: Partial<Record<ReactionKind, number>>;
  engagement: { at: string; class: number; students: EngagementStudent[] } | null;
  series: EngagementPoint[];
  /** Bumped on each event that may change the class (start, end, removal): refetch it. */
  classTick: number;
  /** The lesson's recording as the node reports it: running, or stopped early and why. */
  recording: { state: 'on' } | { state: 'stopped'; reason: string } | null;
}

const EMPTY: ClassLive = {
  channel: 'connecting',
  welcomed: false,
  status: null,
  lessonId: null,
  stream: null,
  stats: null,
  roster: [],
  hands: [],
  reactions: [],
  reactionCounts: {},
  engagement: null,
  series: [],
  classTick: 0,
  recording: null,
};

/** The stream state a `welcome` says (its `stream.state`, else `streamLive`; a drop stays a drop). */
function welcomeStream(
  c: WelcomeClass & { stream?: { state?: StreamState } },
  was: StreamState | null,
): StreamState {
  if (c.stream?.state) return c.stream.state;
  if (c.streamLive) return 'live';
  return was === 'waiting' ? 'waiting' : 'offline';
}

/** Subscribes to `channel` (null: nothing yet) and returns the class's live state. */
export function useClassLive(channel: ClassChannel | null): ClassLive {
  const [live, setLive] = useState<ClassLive>(EMPTY);
  useEffect(() => {
    setLive(EMPTY);
    if (!channel) return;
    const up = (fn: (s: ClassLive) => Partial<ClassLive>) => setLive((s) => ({ ...s, ...fn(s) }));
    let floatKey = 0;
    const R = { replay: true };
    const offs = [
      channel.onState((state) => up(() => ({ channel: state }))),
      channel.on(
        'welcome',
        (w) =>
          up((s) => ({
            welcomed: true,
            status: w.class.status,
            lessonId: w.class.lesson?.id ?? null,
            stream: welcomeStream(w.class, s.stream),
            roster: w.roster,
            hands: w.class.hands ?? [],
          })),
        R,
      ),
      channel.on(
        'presence.join',
        (e) => up((s) => ({ roster: [...s.roster.filter((p) => p.id !== e.participant.id), e.participant] })),
        R,
      ),
      channel.on('presence.leave', (e) => up((s) => ({ roster: s.roster.filter((p) => p.id !== e.id) })), R),
      channel.on(
        'participant.removed',
        (e) =>
          up((s) => ({
            roster: s.roster.filter((p) => p.id !== e.id),
            hands: s.hands.filter((h) => h.id !== e.id),
            classTick: s.classTick + 1,
          })),
        R,
      ),
      channel.on(
        'class.started',
        (e) =>
          up((s) => ({
            status: 'live',
            lessonId: (e.class?.lesson as { id?: string } | undefined)?.id ?? s.lessonId,
            series: [],
            engagement: null,
            reactionCounts: {},
            hands: [],
            classTick: s.classTick + 1,
          })),
        R,
      ),
      channel.on(
        'class.ended',
        () =>
          up((s) => ({
            status: 'scheduled',
            stream: 'offline',
            stats: null,
            hands: [],
            classTick: s.classTick + 1,
          })),
        R,
      ),
      channel.on(
        'recording.started',
        () => up((s) => ({ recording: { state: 'on' }, classTick: s.classTick + 1 })),
        R,
      ),
      channel.on(
        'recording.stopped',
        (e) => up((s) => ({ recording: { state: 'stopped', reason: e.reason }, classTick: s.classTick + 1 })),
        R,
      ),
      channel.on('stream.live', () => up(() => ({ stream: 'live' })), R),
      channel.on('stream.waiting', () => up(() => ({ stream: 'waiting', stats: null })), R),
      channel.on('stream.offline', () => up(() => ({ stream: 'offline', stats: null })), R),
      channel.on(
        'stream.stats',
        (e) =>
          up(() => ({
            stream: 'live',
            stats: { width: e.width, height: e.height, fps: e.fps, bitrate: e.bitrate, viewers: e.viewers },
          })),
        R,
      ),
      channel.on(
        'hand.raised',
        (e) =>
          up((s) => ({
            hands: [...s.hands.filter((h) => h.id !== e.id), { id: e.id, name: e.name, at: e.at }],
          })),
        R,
      ),
      channel.on('hand.lowered', (e) => up((s) => ({ hands: s.hands.filter((h) => h.id !== e.id) })), R),
      channel.on(
        'reaction',
        (e) => {
          const key = ++floatKey;
          const left = 8 + Math.floor(Math.random() * 80);
          up((s) => ({
            reactions: [...s.reactions.slice(-24), { key, kind: e.kind, name: e.from?.name ?? '', left }],
            reactionCounts: { ...s.reactionCounts, [e.kind]: (s.reactionCounts[e.kind] ?? 0) + 1 },
          }));
          setTimeout(() => up((s) => ({ reactions: s.reactions.filter((r) => r.key !== key) })), FLOAT_MS);
        },
        R,
      ),
      channel.on(
        'engagement',
        (e) =>
          up((s) => ({
            engagement: { at: e.at, class: e.class, students: e.students },
            series: [...s.series, { at: e.at, class: e.class }].slice(-SERIES_MAX),
          })),
        R,
      ),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);
  return live;
}

/** Sets the earlier part of the class-score series (from `GET /api/lessons/:id/engagement`). */
export function mergeSeries(earlier: EngagementPoint[], live: EngagementPoint[]): EngagementPoint[] {
  const first = live[0]?.at ?? '\uffff';
  return [...earlier.filter((p) => p.at < first), ...live].slice(-SERIES_MAX);
}
