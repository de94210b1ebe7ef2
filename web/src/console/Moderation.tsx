/**
 * The chat hold's queue (issue 10): students' messages that hold personal information or an
 * insult wait here, oldest first, with why in words, until the teacher approves them ("승인":
 * `chat.approve {id}`, posted to the chat as the student wrote it) or rejects them ("거절":
 * `chat.reject {id}`). Loads `GET /api/classes/:id/chat/held` on open and after every
 * (re)connect, then follows `chat.held` / `chat.decided` on the page's class channel.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import type { HeldEntry } from '../lib/protocol.ts';
import { Card, ErrorLine, clock } from './ui.tsx';
import './moderation.css';

/** The queue of held messages (`readOnly`: no buttons, e.g. for a monitor). */
export function ModerationPanel(props: {
  classId: string;
  channel: ClassChannel | null;
  readOnly?: boolean;
}): JSX.Element {
  const { t, lang } = useI18n();
  const { classId, channel } = props;
  const [held, setHeld] = useState<HeldEntry[]>([]);
  const [busy, setBusy] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setHeld([]);
    if (!channel) return;
    // Decided while a load was on its way: never put those back.
    const decided = new Set<string>();
    const add = (list: HeldEntry[]) =>
      setHeld((cur) => {
        const byId = new Map(cur.map((h) => [h.id, h]));
        for (const h of list) if (!decided.has(h.id)) byId.set(h.id, h);
        return [...byId.values()].sort((a, b) => a.at.localeCompare(b.at));
      });
    const drop = (id: string) => {
      decided.add(id);
      setHeld((cur) => cur.filter((h) => h.id !== id));
      setBusy((cur) => {
        const next = new Set(cur);
        next.delete(id);
        return next;
      });
    };
    const load = () =>
      api<{ held: HeldEntry[] }>('GET', `/api/classes/${classId}/chat/held`).then(
        (r) => {
          setError(null);
          // The list is what waits now: anything not on it was decided meanwhile.
          const now = new Set(r.held.map((h) => h.id));
          setHeld((cur) => cur.filter((h) => now.has(h.id)));
          add(r.held);
        },
        (e: unknown) => setError(e),
      );
    const R = { replay: true };
    const offs = [
      channel.on('welcome', () => void load(), R),
      channel.on('chat.held', (e) => add([e.held]), R),
      channel.on('chat.decided', (e) => drop(e.id), R),
      channel.on('error', (e) => {
        if (e.ref !== 'chat.approve' && e.ref !== 'chat.reject') return;
        setBusy(new Set());
        if (e.code === 'MESSAGE_NOT_FOUND') void load();
        else setError(e.code ? `error.${e.code}` : 'error.generic');
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [channel, classId]);

  const decide = (h: HeldEntry, type: 'chat.approve' | 'chat.reject') => {
    if (!channel?.send({ type, id: h.id })) return setError('mod.offline');
    setError(null);
    setBusy((cur) => new Set(cur).add(h.id));
  };

  return (
    <Card id="moderation-card" title={t('mod.title', { n: held.length })} class="moderation-card">
      <p class="hint">{t('mod.hint')}</p>
      {held.length === 0 ? (
        <p class="hint mod-none">{t('mod.none')}</p>
      ) : (
        <ol class="held-list" id="held-list">
          {held.map((h) => (
            <li key={h.id} data-id={h.id} data-name={h.from.name}>
              <div class="held-head">
                <span class="held-name">{h.from.name}</span>
                <span class="held-at">{clock(h.at, lang)}</span>
              </div>
              <p class="held-text">{h.text}</p>
              <ul class="held-reasons" aria-label={t('mod.reasons')}>
                {h.reasons.map((r) => (
                  <li key={r} class={`reason reason-${r}`} data-reason={r}>
                    {t(`mod.reason.${r}`)}
                  </li>
                ))}
              </ul>
              {!props.readOnly && (
                <div class="held-actions">
                  <button
                    type="button"
                    class="btn small primary held-approve"
                    disabled={busy.has(h.id)}
                    aria-label={t('mod.approveName', { name: h.from.name })}
                    onClick={() => decide(h, 'chat.approve')}
                  >
                    {t('mod.approve')}
                  </button>
                  <button
                    type="button"
                    class="btn small held-reject"
                    disabled={busy.has(h.id)}
                    aria-label={t('mod.rejectName', { name: h.from.name })}
                    onClick={() => decide(h, 'chat.reject')}
                  >
                    {t('mod.reject')}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
      <ErrorLine error={error} id="moderation-error" />
    </Card>
  );
}
