/**
 * The "questions" panel of a running lesson (`GET /api/lessons/:id/questions`): what students
 * ask in the chat, grouped ("6 students ask about the same step"), biggest first, with the
 * analyzer that grouped them. Asked again a few seconds after new chat messages, and on demand.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../../lib/api.ts';
import { ProviderBadge } from '../../lib/ai/ProviderBadge.tsx';
import type { QuestionsAnalysis } from '../../lib/ai/types.ts';
import type { ClassChannel } from '../../lib/channel.ts';
import { useI18n } from '../../lib/i18n.ts';
import { Card } from '../ui.tsx';
import '../../lib/ai/ai.css';

/** How long after a chat message the groups are asked again. */
const SETTLE_MS = 4000;

export function QuestionsPanel(props: {
  lessonId: string;
  channel: ClassChannel | null;
  /** Changes when the class's AI setting changed: the groups are asked again. */
  aiTick?: number;
}): JSX.Element {
  const { t } = useI18n();
  const [q, setQ] = useState<QuestionsAnalysis | null>(null);
  const [error, setError] = useState<unknown>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const load = () => {
    api<QuestionsAnalysis>('GET', `/api/lessons/${encodeURIComponent(props.lessonId)}/questions`)
      .then((v) => {
        setQ(v);
        setError(null);
      })
      .catch(setError);
  };
  useEffect(() => {
    load();
    const off = props.channel?.on('chat.message', (m) => {
      if ((m as { from?: { role?: string } }).from?.role !== 'student') return;
      clearTimeout(timer.current);
      timer.current = setTimeout(load, SETTLE_MS);
    });
    return () => {
      off?.();
      clearTimeout(timer.current);
    };
  }, [props.lessonId, props.channel, props.aiTick]);
  return (
    <Card
      id="questions-card"
      title={t('ai.questions.title')}
      actions={
        <>
          {q && <ProviderBadge provider={q.provider} />}
          <button type="button" class="btn ghost small" id="questions-refresh" onClick={load}>
            {t('ai.refresh')}
          </button>
        </>
      }
    >
      {error ? <p class="error">{errorText(t, error)}</p> : null}
      {q && q.groups.length === 0 && <p class="hint">{t('ai.questions.empty')}</p>}
      {q && q.groups.length > 0 && (
        <ol class="ai-list question-groups" id="question-groups" data-provider={q.provider}>
          {q.groups.map((g) => (
            <li key={g.label} data-count={g.count}>
              <b class="label">{g.label}</b>{' '}
              <span class="num">{t('ai.questions.count', { n: g.count })}</span>
              <ul class="answers">
                {g.messages.slice(0, 4).map((m) => (
                  <li key={m}>{m}</li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}
