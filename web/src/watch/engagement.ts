/**
 * Engagement reporting of a student (docs/classroom.md): `engagement.state { playing, visible }`
 * on every change and every 10 s. `playing` comes from the video element and the player
 * (playing / stalled while it waits for data / paused / none without a picture); `visible`
 * from document.visibilityState. Never camera or microphone.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { ClassChannel } from '../lib/channel.ts';
import type { PlayerState } from '../lib/whep-player.ts';

const EVERY_MS = 10_000;

/** What is reported. */
export type Playing = 'playing' | 'stalled' | 'paused' | 'none';

/** The playing state from the video element and the player's state. */
export function playingOf(video: HTMLVideoElement | null, player: PlayerState, stalled: boolean): Playing {
  if (!video || player === 'ended' || player === 'refused' || player === 'connecting') return 'none';
  if (player === 'reconnecting') return 'stalled';
  if (player === 'waiting') return 'none'; // nothing on air to watch
  if (video.paused) return 'paused';
  return stalled ? 'stalled' : 'playing';
}

/** Reports while mounted; `player` is the player's current state. */
export function useEngagement(
  channel: ClassChannel | null,
  video: HTMLVideoElement | null,
  player: PlayerState,
): void {
  const stalled = useRef(false);
  const last = useRef('');
  const playerRef = useRef(player);
  playerRef.current = player;
  const report = useRef<(force: boolean) => void>(() => {});

  report.current = (force: boolean) => {
    if (!channel || channel.state !== 'open') return;
    const msg = {
      type: 'engagement.state' as const,
      playing: playingOf(video, playerRef.current, stalled.current),
      visible: document.visibilityState === 'visible',
    };
    const key = `${msg.playing}/${msg.visible}`;
    if (!force && key === last.current) return;
    if (channel.send(msg)) last.current = key;
  };

  // A change of the player's state.
  useEffect(() => report.current(false), [player]);

  useEffect(() => {
    if (!channel) return;
    const changed = () => report.current(false);
    const onWaiting = () => {
      stalled.current = true;
      changed();
    };
    const onPlaying = () => {
      stalled.current = false;
      changed();
    };
    const events: [EventTarget | null, string, () => void][] = [
      [video, 'waiting', onWaiting],
      [video, 'stalled', onWaiting],
      [video, 'playing', onPlaying],
      [video, 'pause', changed],
      [video, 'play', changed],
      [document, 'visibilitychange', changed],
    ];
    for (const [target, type, fn] of events) target?.addEventListener(type, fn);
    const offState = channel.onState((state) => {
      if (state === 'open') report.current(true); // a new socket knows nothing yet
    });
    const timer = setInterval(() => report.current(true), EVERY_MS);
    return () => {
      for (const [target, type, fn] of events) target?.removeEventListener(type, fn);
      offState();
      clearInterval(timer);
    };
  }, [channel, video]);
}
