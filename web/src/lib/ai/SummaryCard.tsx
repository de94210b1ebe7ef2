/**
 * The lesson summary (`GET /api/lessons/:id/summary`) for the dashboard and the replay page:
 * what was covered, hard items and why, open questions, who may need help, and the provider
 * that wrote it. Renders nothing when the viewer may not read it (a student on a shared replay).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { ProviderBadge } from './ProviderBadge.tsx';
import type { LessonSummary } from './types.ts';
import './ai.css';

export function SummaryCard(props: { lessonId: string; token?: string }): JSX.Element | null {
  const { t, lang } = useI18n();
  const [sum, setSum] = useState<LessonSummary | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [hidden, setHidden] = useState(false);
  const [busy, setBusy] = useState(false);
  const load = (refresh: boolean) => {
    setBusy(true);
    setError(null);
    api<LessonSummary>(
      'GET',
      `/api/lessons/${encodeURIComponent(props.lessonId)}/summary${refresh ? '?refresh=true' : ''}`,
      undefined,
      props.token ? { token: props.token } : {},
    )
      .then(setSum)
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 403 || e.status === 401)) setHidden(true);
        else setError(e);
      })
      .finally(() => setBusy(false));
  };
  useEffect(() => load(false), [props.lessonId]);
  if (hidden) return null;
  return (
    <section class="card ai-summary" id="ai-summary" data-provider={sum?.provider ?? ''} aria-busy={busy}>
      <div class="ai-head">
        <h2>{t('ai.summary.title')}</h2>
        {sum && <ProviderBadge provider={sum.provider} />}
        <button
          type="button"
          class="btn ghost small"
          id="ai-summary-refresh"
          disabled={busy}
          onClick={() => load(true)}
        >
          {t('ai.refresh')}
        </button>
      </div>
      {error ? <p class="error">{errorText(t, error)}</p> : null}
      {!sum && !error && <p class="hint">{t('ai.loading')}</p>}
      {sum && (
        <>
          <p class="ai-text" id="ai-summary-text">
            {sum.text[lang]}
          </p>
          <div class="ai-cols">
            <div>
              <h3>{t('ai.summary.covered')}</h3>
              {sum.covered.length === 0 ? (
                <p class="hint">{t('ai.summary.noSlides')}</p>
              ) : (
                <ul id="ai-summary-covered">
                  {sum.covered.map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h3>{t('ai.summary.hard')}</h3>
              {sum.hardItems.length === 0 ? (
                <p class="hint">{t('ai.summary.noHard')}</p>
              ) : (
                <ul id="ai-summary-hard">
                  {sum.hardItems.map((h) => (
                    <li key={h.quizId} data-quiz-id={h.quizId}>
                      <b>{h.question}</b>{' '}
                      <span class="num">
                        {t('ai.summary.correct', { p: Math.round(h.difficulty * 100) })}
                      </span>
                      <br />
                      <span class="hint">{h.why[lang]}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h3>{t('ai.summary.open')}</h3>
              {sum.openQuestions.length === 0 ? (
                <p class="hint">{t('ai.summary.noOpen')}</p>
              ) : (
                <ul id="ai-summary-open">
                  {sum.openQuestions.map((q) => (
                    <li key={q.label}>
                      {q.label} <span class="num">{t('ai.summary.asked', { n: q.count })}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div>
              <h3>{t('ai.summary.help')}</h3>
              {sum.needHelp.length === 0 ? (
                <p class="hint">{t('ai.summary.noHelp')}</p>
              ) : (
                <ul id="ai-summary-help">
                  {sum.needHelp.map((h) => (
                    <li key={h.name} data-name={h.name}>
                      <b>{h.name}</b> <span class="hint">{h.note[lang]}</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}
