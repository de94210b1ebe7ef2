/**
 * Raised hands, oldest first, each with "lower" (sends `hand.lower { id }` on the class
 * channel; the server pushes `hand.lowered` to everyone), and the reaction counts of the lesson.
 */
import type { JSX } from 'preact';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import { REACTIONS, type HandEntry, type ReactionKind } from '../lib/protocol.ts';
import { Card, clock } from './ui.tsx';

/** The emoji shown for each reaction kind (decorative: the name is read out). */
export const REACTION_EMOJI: Record<ReactionKind, string> = {
  like: '👍',
  clap: '👏',
  heart: '❤️',
  laugh: '😂',
  wow: '😮',
  confused: '🤔',
};

/** The hand queue with "lower" per entry (`readOnly` for monitors). */
export function HandsPanel(props: {
  hands: HandEntry[];
  channel: ClassChannel | null;
  counts: Partial<Record<ReactionKind, number>>;
  readOnly?: boolean;
}): JSX.Element {
  const { t, lang } = useI18n();
  const hands = [...props.hands].sort((a, b) => a.at.localeCompare(b.at));
  return (
    <Card id="hands-card" title={t('hands.title', { n: hands.length })} class="hands-card">
      {hands.length === 0 ? (
        <p class="hint">{t('hands.none')}</p>
      ) : (
        <ol class="hands" id="hands">
          {hands.map((h) => (
            <li key={h.id} data-name={h.name} data-id={h.id}>
              <span class="hand-icon" aria-hidden="true">
                ✋
              </span>
              <span class="hand-name">{h.name}</span>
              <span class="hand-at">{clock(h.at, lang)}</span>
              {!props.readOnly && (
                <button
                  type="button"
                  class="btn small hand-lower"
                  aria-label={t('hands.lowerName', { name: h.name })}
                  onClick={() => props.channel?.send({ type: 'hand.lower', id: h.id })}
                >
                  {t('hands.lower')}
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      <h3 class="sub">{t('react.title')}</h3>
      <ul class="reaction-counts" id="reaction-counts">
        {REACTIONS.map((kind) => (
          <li key={kind} data-kind={kind} data-count={props.counts[kind] ?? 0}>
            <span aria-hidden="true">{REACTION_EMOJI[kind]}</span>
            <span class="sr-only">{t(`react.${kind}`)}</span>
            <span class="num">{props.counts[kind] ?? 0}</span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
