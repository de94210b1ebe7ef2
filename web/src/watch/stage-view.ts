/**
 * What the video area says, from the player's view and the class as the channel knows it, so
 * the video and the chat never disagree (issue 6 finding 4): "has not started" only while the
 * class is scheduled; live without a picture says the teacher's screen is not on yet; an ended
 * lesson or a removed student is a calm final screen without a spinner.
 */
import type { PlayerView } from '../lib/whep-player.ts';

/** The class as the page knows it: null without a class channel (a media-only token). */
export interface ClassInfo {
  status: 'scheduled' | 'live' | 'ended' | 'archived' | string;
  streamLive: boolean;
}

/** The overlay: hidden while live; `final` = nothing more will happen (no spinner). */
export interface StageView {
  /** `#status[data-state]` and `window.airclass.state` agree on this. */
  state: PlayerView['state'];
  overlay: boolean;
  title: string;
  detail: string;
  vars?: Record<string, string | number>;
  spinner: boolean;
  final: 'ended' | 'removed' | 'refused' | null;
}

/** Maps the player and class state (and a final event seen on the channel) to the overlay. */
export function stageView(
  view: PlayerView,
  cls: ClassInfo | null,
  final: 'ended' | 'removed' | null,
): StageView {
  if (final === 'removed' || view.reason === 'removed')
    return {
      state: 'refused',
      overlay: true,
      title: 'state.removed',
      detail: 'detail.removed',
      spinner: false,
      final: 'removed',
    };
  if (final === 'ended' || view.state === 'ended' || cls?.status === 'ended')
    return {
      state: 'ended',
      overlay: true,
      title: 'state.ended',
      detail: 'detail.ended',
      spinner: false,
      final: 'ended',
    };
  switch (view.state) {
    case 'live':
      return { state: 'live', overlay: false, title: 'state.live', detail: '', spinner: false, final: null };
    case 'refused':
      return {
        state: 'refused',
        overlay: true,
        title: 'state.refused',
        detail: `detail.${view.reason}`,
        spinner: false,
        final: 'refused',
      };
    case 'waiting': {
      let detail = 'detail.waiting';
      if (view.reason === 'paused') detail = 'detail.paused';
      else if (cls && cls.status === 'live') detail = 'detail.noScreen';
      return { state: 'waiting', overlay: true, title: 'state.waiting', detail, spinner: true, final: null };
    }
    default: {
      const detail = view.reason === 'retry' ? 'detail.retry' : `detail.${view.state}`;
      return {
        state: view.state,
        overlay: true,
        title: `state.${view.state}`,
        detail,
        vars: { s: view.retryInS ?? 0 },
        spinner: true,
        final: null,
      };
    }
  }
}
