/**
 * The chat beside the replay video: the lesson's messages up to the playback position, in
 * order, newest at the bottom. Playing on shows the next ones and keeps the log scrolled down
 * (unless the reader scrolled up to read); seeking back hides the later ones again. The
 * teacher's messages are marked.
 */
import type { JSX } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { clockPos } from '../lib/format.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ReplayChatLine } from '../lib/report-types.ts';

/** How many of `lines` (sorted by `atSec`) were sent at or before `sec`: a binary search. */
export function shownCount(lines: readonly ReplayChatLine[], sec: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.atSec <= sec) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The chat replay; `now` is the video's position in seconds. */
export function ReplayChat(props: { chat: ReplayChatLine[]; now: number }): JSX.Element {
  const { t } = useI18n();
  const log = useRef<HTMLDivElement>(null);
  const near = useRef(true);
  const lastCount = useRef(0);
  const count = shownCount(props.chat, props.now);
  const shown = props.chat.slice(0, count);

  useLayoutEffect(() => {
    const el = log.current;
    // A seek back always lands at the bottom; playing on follows only a reader who is there.
    if (el && (near.current || count < lastCount.current)) el.scrollTop = el.scrollHeight;
    lastCount.current = count;
  }, [count]);
  const onScroll = () => {
    const el = log.current;
    if (el) near.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
  };

  return (
    <section class="replay-chat chat" aria-labelledby="replay-chat-title">
      <div class="chat-head">
        <h2 id="replay-chat-title">{t('replay.chat')}</h2>
        <span class="hint num" id="replay-chat-count">
          {count} / {props.chat.length}
        </span>
      </div>
      <div
        class="chat-log"
        id="replay-chat"
        ref={log}
        onScroll={onScroll}
        role="log"
        aria-live="off"
        aria-label={t('replay.chatLog')}
        data-empty={t(props.chat.length === 0 ? 'replay.chatNone' : 'replay.chatNotYet')}
        tabIndex={0}
      >
        {shown.map((m, i) => (
          <div
            key={i}
            class={`msg${m.role === 'teacher' ? ' teacher' : ''}`}
            data-role={m.role}
            data-at-sec={m.atSec}
          >
            <div class="msg-head">
              <span class="msg-name">{m.name}</span>
              {m.role !== 'student' && (
                <span class={`role role-${m.role}`}>
                  {t(m.role === 'teacher' ? 'replay.teacher' : 'replay.monitor')}
                </span>
              )}
              <time>{clockPos(m.atSec)}</time>
            </div>
            <div class="msg-text">{m.text}</div>
          </div>
        ))}
      </div>
    </section>
  );
}
