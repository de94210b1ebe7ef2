/**
 * The quiz card of a student: appears on `quiz.opened`, counts down to `closesAt`, sends one
 * answer (`POST /api/quizzes/:id/answers` with an `answerId` made once per run, so a resubmit
 * after a network error is harmless), then shows "answered", "closed" and, after reveal, the
 * correct answer with the class's counts.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../lib/api.ts';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import type { QuizPush, ServerEvents } from '../lib/protocol.ts';
import { uuid } from './token.ts';

type Phase = 'open' | 'sending' | 'answered' | 'closed';

interface Run {
  quiz: QuizPush;
  answerId: string;
  phase: Phase;
  choices: number[];
  text: string;
  sent: boolean;
  error: string;
  revealed: ServerEvents['quiz.revealed'] | null;
}

/** Props: the page's channel and the student token (Bearer for the answer). */
export function QuizCard({ channel, token }: { channel: ClassChannel; token: string }) {
  const { t } = useI18n();
  const [run, setRun] = useState<Run | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const heading = useRef<HTMLHeadingElement>(null);

  useLayoutEffect(() => {
    const offs = [
      channel.on(
        'quiz.opened',
        (m) =>
          setRun((cur) =>
            cur?.quiz.runId === m.quiz.runId
              ? cur
              : {
                  quiz: m.quiz,
                  answerId: uuid(),
                  phase: 'open',
                  choices: [],
                  text: '',
                  sent: false,
                  error: '',
                  revealed: null,
                },
          ),
        { replay: true },
      ),
      channel.on(
        'quiz.closed',
        (m) => setRun((cur) => (cur && cur.quiz.runId === m.runId ? { ...cur, phase: 'closed' } : cur)),
        { replay: true },
      ),
      channel.on(
        'quiz.revealed',
        (m) =>
          setRun((cur) =>
            cur && cur.quiz.runId === m.runId ? { ...cur, phase: 'closed', revealed: m } : cur,
          ),
        { replay: true },
      ),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);

  const runId = run?.quiz.runId;
  useEffect(() => {
    if (!runId) return;
    heading.current?.focus();
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [runId]);

  if (!run) return null;
  const { quiz } = run;
  const left = Math.max(0, Math.ceil((Date.parse(quiz.closesAt) - now) / 1000));
  const phase: Phase = run.phase === 'open' && left === 0 ? 'closed' : run.phase;
  const options = quiz.kind === 'truefalse' ? [t('watch.quiz.true'), t('watch.quiz.false')] : quiz.options;
  const multiple = quiz.kind === 'multiple';
  const locked = phase !== 'open';
  const update = (patch: Partial<Run>) =>
    setRun((cur) => (cur && cur.quiz.runId === quiz.runId ? { ...cur, ...patch } : cur));

  const submit = async (e: Event) => {
    e.preventDefault();
    if (locked) return;
    const body =
      quiz.kind === 'short'
        ? { answerId: run.answerId, text: run.text.trim() }
        : { answerId: run.answerId, choices: run.choices };
    if (quiz.kind === 'short' ? !run.text.trim() : run.choices.length === 0) return;
    update({ phase: 'sending', error: '' });
    try {
      await api('POST', `/api/quizzes/${encodeURIComponent(quiz.id)}/answers`, body, { token });
      update({ phase: 'answered', sent: true });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'QUIZ_ALREADY_ANSWERED')
        update({ phase: 'answered', sent: true, error: t('watch.quiz.already') });
      else if (err instanceof ApiError && err.code === 'QUIZ_CLOSED') update({ phase: 'closed' });
      // Network error or the like: keep the answerId, so submitting again is harmless.
      else
        update({
          phase: 'open',
          error: err instanceof ApiError && err.status === 0 ? t('watch.quiz.notSent') : errorText(t, err),
        });
    }
  };

  const correct = run.revealed?.correct ?? null;
  const isCorrect = (i: number) => Array.isArray(correct) && (correct as unknown[]).includes(i);
  const counts = run.revealed?.counts ?? [];
  const total = Math.max(1, ...counts);

  let status = '';
  if (phase === 'sending') status = t('watch.quiz.sending');
  else if (phase === 'answered') status = run.error || t('watch.quiz.answered');
  else if (phase === 'closed')
    status = run.revealed ? '' : run.sent ? t('watch.quiz.closed') : t('watch.quiz.missed');

  return (
    <section
      class="quiz card"
      aria-labelledby="quiz-q"
      data-phase={run.revealed ? 'revealed' : phase}
      id="quiz"
    >
      <div class="quiz-head">
        <span class="badge" data-status="live">
          {t('watch.quiz.label')}
        </span>
        {phase === 'open' || phase === 'sending' ? (
          <span class="quiz-left" aria-live="off">
            {t('watch.quiz.left', { s: left })}
          </span>
        ) : (
          <button type="button" class="btn small" onClick={() => setRun(null)}>
            {t('watch.quiz.dismiss')}
          </button>
        )}
      </div>
      <h2 id="quiz-q" class="quiz-q" tabIndex={-1} ref={heading}>
        {quiz.question}
      </h2>
      {quiz.anonymous && <p class="hint quiz-anon">{t('watch.quiz.anonymous')}</p>}
      <form onSubmit={submit}>
        {quiz.kind === 'short' ? (
          <label class="field">
            <span>{t('watch.quiz.shortLabel')}</span>
            <input
              type="text"
              id="quiz-text"
              maxLength={200}
              value={run.text}
              disabled={locked}
              onInput={(ev) => update({ text: ev.currentTarget.value })}
            />
          </label>
        ) : (
          <fieldset class="quiz-options" disabled={locked}>
            <legend class={multiple ? 'hint' : 'sr-only'}>
              {multiple ? t('watch.quiz.pickMany') : quiz.question}
            </legend>
            {options.map((label, i) => (
              <label class={`quiz-option${isCorrect(i) ? ' correct' : ''}`} key={i}>
                <input
                  type={multiple ? 'checkbox' : 'radio'}
                  name="quiz-choice"
                  value={String(i)}
                  checked={run.choices.includes(i)}
                  onChange={(ev) => {
                    const on = ev.currentTarget.checked;
                    const choices = multiple
                      ? on
                        ? [...run.choices, i].sort((a, b) => a - b)
                        : run.choices.filter((c) => c !== i)
                      : [i];
                    update({ choices });
                  }}
                />
                <span class="quiz-label">{label}</span>
                {isCorrect(i) && <span class="quiz-tag">✓ {t('watch.quiz.revealed')}</span>}
                {run.revealed && (
                  <span class="quiz-count">
                    <span
                      class="quiz-bar"
                      style={{ width: `${Math.round(((counts[i] ?? 0) / total) * 100)}%` }}
                    />
                    {t('watch.quiz.count', { n: counts[i] ?? 0 })}
                  </span>
                )}
              </label>
            ))}
          </fieldset>
        )}
        {run.revealed && quiz.kind === 'short' && (
          <p class="quiz-answer">
            {t('watch.quiz.revealed')}: <strong>{(run.revealed.correct as unknown[]).join(', ')}</strong>
          </p>
        )}
        {run.revealed && <p class="hint">{t('watch.quiz.answeredCount', { n: run.revealed.answered })}</p>}
        {!locked && (
          <button type="submit" class="btn primary" id="quiz-submit">
            {t('watch.quiz.submit')}
          </button>
        )}
        <p class="quiz-status" role="status">
          {status}
          {phase === 'open' && run.error}
        </p>
      </form>
    </section>
  );
}
