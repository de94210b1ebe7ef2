/**
 * The projector view (`/projector#class=<id>`, opened from the console with the teacher's
 * session): the join code large, the QR code, and the current quiz as aggregates only —
 * the question, a bar per option with its count, how many answered, the time left; the correct
 * option turns green only after the teacher reveals it. Never a student's name.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../lib/api.ts';
import { ClassChannel } from '../lib/channel.ts';
import { LangSwitch } from '../lib/components/LangSwitch.tsx';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import { QuizChart } from '../console/charts.tsx';
import { useCountdown } from '../console/quiz/QuizLive.tsx';
import { runStatus } from '../console/quiz/QuizPanel.tsx';
import type { ClassInfo, QuizInfo, QuizResults } from '../console/types.ts';
import { spacedCode } from '../console/ui.tsx';

/** The quiz as the projector shows it (no names, no correct answer before the reveal). */
interface Shown {
  quizId: string;
  runId: string;
  question: string;
  kind: string;
  options: string[];
  closesAt: string | null;
  status: 'open' | 'closed';
  counts: number[];
  answered: number;
  correct: number[] | null;
}

/** The class id from `#class=<id>` (or `?class=`). */
function classIdFromUrl(): string {
  return (
    new URLSearchParams(location.hash.slice(1)).get('class') ??
    new URLSearchParams(location.search).get('class') ??
    ''
  );
}

/** The projector page. */
export function ProjectorApp(): JSX.Element {
  const { t } = useI18n();
  const classId = useMemo(classIdFromUrl, []);
  const [cls, setCls] = useState<ClassInfo | null>(null);
  const [error, setError] = useState<unknown>(classId ? null : 'proj.noClass');
  const [quiz, setQuiz] = useState<Shown | null>(null);
  const channel = useMemo(() => (classId ? new ClassChannel({ classId }) : null), [classId]);
  useEffect(() => () => channel?.close(), [channel]);

  useEffect(() => {
    if (!classId) return;
    api<ClassInfo>('GET', `/api/classes/${classId}`).then(setCls, (e) => {
      if (e instanceof ApiError && e.status === 401)
        location.replace(
          `/login?next=${encodeURIComponent(`/projector#class=${classId}`)}${langSuffix('&')}`,
        );
      else setError(e);
    });
    // A quiz already open when the projector is opened.
    api<{ quizzes: QuizInfo[] }>('GET', `/api/classes/${classId}/quizzes`)
      .then(async (r) => {
        const open = r.quizzes.find((q) => runStatus(q) === 'open');
        if (!open) return;
        const res = await api<QuizResults>('GET', `/api/quizzes/${open.id}/results`);
        setQuiz({
          quizId: open.id,
          runId: res.runId ?? open.lastRun?.runId ?? '',
          question: open.question,
          kind: open.kind,
          options: open.options,
          closesAt: res.closesAt ?? open.lastRun?.closesAt ?? null,
          status: res.status === 'open' ? 'open' : 'closed',
          counts: res.counts,
          answered: res.answered,
          correct: null,
        });
      })
      .catch(() => {});
  }, [classId]);

  useEffect(() => {
    if (!channel) return;
    const R = { replay: true };
    const same = (s: Shown | null, e: { quizId: string; runId: string }): s is Shown =>
      Boolean(s && (s.runId ? s.runId === e.runId : s.quizId === e.quizId));
    const offs = [
      channel.on(
        'quiz.opened',
        (e) =>
          setQuiz({
            quizId: e.quiz.id,
            runId: e.quiz.runId,
            question: e.quiz.question,
            kind: e.quiz.kind,
            options: e.quiz.options,
            closesAt: e.quiz.closesAt,
            status: 'open',
            counts: e.quiz.options.map(() => 0),
            answered: 0,
            correct: null,
          }),
        R,
      ),
      channel.on(
        'quiz.results',
        (e) =>
          setQuiz((s) => (same(s, e) ? { ...s, runId: e.runId, counts: e.counts, answered: e.answered } : s)),
        R,
      ),
      channel.on('quiz.closed', (e) => setQuiz((s) => (same(s, e) ? { ...s, status: 'closed' } : s)), R),
      channel.on(
        'quiz.revealed',
        (e) =>
          setQuiz((s) =>
            same(s, e)
              ? {
                  ...s,
                  status: 'closed',
                  counts: e.counts,
                  answered: e.answered,
                  correct: e.correct as number[],
                }
              : s,
          ),
        R,
      ),
      channel.on('class.ended', () => setQuiz(null), R),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);

  const left = useCountdown(quiz?.closesAt ?? null, quiz?.status === 'open');
  const host = (cls?.joinUrl ?? '').replace(/^https?:\/\//, '').replace(/\?.*$/, '');

  return (
    <div class="projector" data-quiz={quiz ? quiz.status : 'none'}>
      <header class="p-bar">
        <h1 class="p-title" id="p-title">
          {cls?.title ?? ''}
        </h1>
        <button
          type="button"
          class="btn small"
          onClick={() =>
            (document.fullscreenElement
              ? document.exitFullscreen()
              : document.documentElement.requestFullscreen()
            ).catch(() => {})
          }
        >
          {t('proj.fullscreen')}
        </button>
        <LangSwitch />
      </header>
      {error ? (
        <p class="form-error" role="alert">
          {typeof error === 'string' ? t(error) : errorText(t, error)}
        </p>
      ) : (
        <main class={`p-body${quiz ? ' with-quiz' : ''}`}>
          <section class="p-join" aria-label={t('jc.title')}>
            <div class="p-label">{t('jc.title')}</div>
            <div class="p-code" id="p-code" data-code={cls?.joinCode ?? ''}>
              {spacedCode(cls?.joinCode)}
            </div>
            {cls && <img class="p-qr" src={`/api/classes/${cls.id}/qr.svg`} alt={t('jc.qrAlt')} />}
            {host && <p class="p-url">{t('proj.howTo', { url: host })}</p>}
          </section>
          {quiz && (
            <section class="p-quiz" id="p-quiz" data-status={quiz.status} aria-labelledby="p-quiz-q">
              <div class="p-quiz-head">
                <span class="p-answered" id="p-answered" data-answered={quiz.answered}>
                  {t('quiz.answeredN', { n: quiz.answered })}
                </span>
                <span class="p-left" role="timer">
                  {quiz.status === 'open'
                    ? left
                      ? t('quiz.left', { s: left })
                      : t('quiz.closing')
                    : t(quiz.correct ? 'quiz.revealed' : 'quiz.closed')}
                </span>
              </div>
              <h2 id="p-quiz-q">{quiz.question}</h2>
              {quiz.kind !== 'short' ? (
                <QuizChart
                  id="p-chart"
                  options={quiz.options}
                  counts={quiz.counts}
                  correct={quiz.correct ?? undefined}
                  label={t('quiz.chartLabel')}
                  big
                />
              ) : (
                <p class="p-short">{t('proj.shortAnswer')}</p>
              )}
            </section>
          )}
        </main>
      )}
    </div>
  );
}
