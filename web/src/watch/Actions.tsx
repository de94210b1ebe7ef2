/**
 * The student's class tools under the video: raise/lower hand (from `welcome.class.hands` and
 * `hand.raised`/`hand.lowered` for their own id), reaction buttons (at most 2 per second here,
 * as the server allows), and the "my data" button.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import { REACTIONS, type ReactionKind } from '../lib/protocol.ts';

const EMOJI: Record<ReactionKind, string> = {
  like: '👍',
  clap: '👏',
  heart: '❤️',
  laugh: '😂',
  wow: '😮',
  confused: '🤔',
};
const MAX_PER_SECOND = 2;

/** Props: the channel, and what opens the "my data" panel. */
export function Actions({ channel, onMyData }: { channel: ClassChannel; onMyData: () => void }) {
  const { t } = useI18n();
  const [raised, setRaised] = useState(false);
  const [sent, setSent] = useState<ReactionKind | null>(null);
  const recent = useRef<number[]>([]);
  const flash = useRef<number | undefined>(undefined);

  useLayoutEffect(() => {
    const me = () => channel.welcome?.you.sub;
    const offs = [
      channel.on('welcome', (w) => setRaised((w.class.hands ?? []).some((h) => h.id === w.you.sub)), {
        replay: true,
      }),
      channel.on('hand.raised', (m) => m.id === me() && setRaised(true), { replay: true }),
      channel.on('hand.lowered', (m) => m.id === me() && setRaised(false), { replay: true }),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);

  const react = (kind: ReactionKind) => {
    const now = Date.now();
    recent.current = recent.current.filter((at) => now - at < 1000);
    if (recent.current.length >= MAX_PER_SECOND) return; // the server would refuse it
    if (!channel.send({ type: 'reaction', kind })) return;
    recent.current.push(now);
    setSent(kind);
    clearTimeout(flash.current);
    flash.current = window.setTimeout(() => setSent(null), 900);
  };

  const hand = () => {
    // Optimistic; the server's hand.raised / hand.lowered confirms it.
    if (channel.send(raised ? { type: 'hand.lower' } : { type: 'hand.raise' })) setRaised(!raised);
  };

  return (
    <div class="actions" role="toolbar" aria-label={t('watch.actions')}>
      <button
        type="button"
        class={`btn hand${raised ? ' armed' : ''}`}
        id="hand"
        aria-pressed={raised}
        onClick={hand}
      >
        <span aria-hidden="true">✋</span> {t(raised ? 'watch.hand.lower' : 'watch.hand.raise')}
      </button>
      <div class="reactions" role="group" aria-label={t('watch.reactions')}>
        {REACTIONS.map((kind) => (
          <button
            type="button"
            class={`reaction${sent === kind ? ' sent' : ''}`}
            data-kind={kind}
            title={t(`watch.reaction.${kind}`)}
            aria-label={t(`watch.reaction.${kind}`)}
            onClick={() => react(kind)}
            key={kind}
          >
            <span aria-hidden="true">{EMOJI[kind]}</span>
          </button>
        ))}
      </div>
      <button type="button" class="btn small my-data" id="my-data" onClick={onMyData}>
        {t('watch.myData')}
      </button>
      <span class="sr-only" role="status">
        {raised ? t('watch.hand.up') : ''}
        {sent ? `${t(`watch.reaction.${sent}`)} ${t('watch.reaction.sent')}` : ''}
      </span>
    </div>
  );
}
