/**
 * After a quiz closes, what the teacher acts on (`GET /api/quizzes/:id/analysis`): the share
 * correct, the most chosen wrong option, and the wrong short answers grouped by misconception,
 * each with a one-line re-teach note — and which analyzer said so.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../../lib/api.ts';
import { ProviderBadge } from '../../lib/ai/ProviderBadge.tsx';
import type { QuizAnalysis } from '../../lib/ai/types.ts';
import { useI18n } from '../../lib/i18n.ts';
import '../../lib/ai/ai.css';

export function QuizInsight(props: { quizId: string; runId: string }): JSX.Element {
  const { t, lang } = useI18n();
  const [a, setA] = useState<QuizAnalysis | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let gone = false;
    setA(null);
    setError(null);
    api<QuizAnalysis>('GET', `/api/quizzes/${encodeURIComponent(props.quizId)}/analysis`)
      .then((v) => !gone && setA(v))
      .catch((e: unknown) => !gone && setError(e));
    return () => {
      gone = true;
    };
  }, [props.quizId, props.runId]);
  const wrong = a?.distractors.filter((d) => !d.correct && d.count > 0).sort((x, y) => y.count - x.count)[0];
  return (
    <div class="quiz-insight" id="quiz-insight" data-provider={a?.provider ?? ''} aria-live="polite">
      <div class="ai-head">
        <h3>{t('ai.insight.title')}</h3>
        {a && <ProviderBadge provider={a.provider} />}
      </div>
      {error ? <p class="error">{errorText(t, error)}</p> : null}
      {!a && !error && <p class="hint">{t('ai.loading')}</p>}
      {a && a.answered === 0 && <p class="hint">{t('ai.insight.noAnswers')}</p>}
      {a && a.answered > 0 && (
        <>
          <p class="ai-stats">
            {a.difficulty !== null && (
              <span id="quiz-insight-difficulty">
                {t('ai.insight.difficulty', { p: Math.round(a.difficulty * 100) })}
              </span>
            )}
            {a.discrimination !== null && (
              <span>{t('ai.insight.discrimination', { d: a.discrimination.toFixed(2) })}</span>
            )}
            {wrong && (
              <span id="quiz-insight-wrong">
                {t('ai.insight.topWrong', { o: wrong.option, n: wrong.count })}
              </span>
            )}
          </p>
          {a.clusters.length > 0 && (
            <>
              <h4>{t('ai.insight.clusters')}</h4>
              <ul class="ai-clusters" id="quiz-clusters">
                {a.clusters.map((c) => (
                  <li key={c.label} class="ai-cluster" data-kind={c.kind} data-count={c.count}>
                    <div>
                      <b class="label">{c.label}</b> · {t('ai.insight.students', { n: c.count })}
                      {c.kind === 'near-correct' && <> · {t('ai.insight.nearCorrect')}</>}
                    </div>
                    <div class="answers">{c.answers.join(' / ')}</div>
                    <div class="note">
                      <b>{t('ai.insight.reteach')}</b>
                      <span class="reteach">{c.note[lang]}</span>
                    </div>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </div>
  );
}
