/**
 * The quiz that was pushed, as the teacher follows it: question, countdown, the live bar chart
 * (counts per option from `quiz.results`), answered / correct, close and reveal, the
 * per-student table (name, answer, correct, time) and an optional leaderboard (correct first,
 * then faster).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useI18n } from '../../lib/i18n.ts';
import { QuizChart } from '../charts.tsx';
import type { QuizInfo, QuizResults, QuizStudentResult } from '../types.ts';
import { ErrorLine } from '../ui.tsx';
import { QuizInsight } from '../ai/QuizInsight.tsx';

/** The run the panel follows. */
export interface RunView {
  quiz: QuizInfo;
  runId: string;
  closesAt: string | null;
  status: 'open' | 'closed';
  revealed: boolean;
  answered: number;
  correct: number;
  counts: number[];
  results: QuizResults | null;
}

/** Seconds left until `closesAt` (ticks 4× a second), null without a deadline. */
export function useCountdown(closesAt: string | null, running: boolean): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [running, closesAt]);
  if (!closesAt) return null;
  return Math.max(0, Math.ceil((Date.parse(closesAt) - now) / 1000));
}

/** "A, C" for choices, or the text. */
function answerText(s: QuizStudentResult, quiz: QuizInfo): string {
  if (s.text !== undefined && s.text !== null) return s.text;
  return (s.choices ?? [])
    .map((i) => (quiz.kind === 'truefalse' ? (quiz.options[i] ?? '') : String.fromCharCode(65 + i)))
    .join(', ');
}

/** Correct indexes of a choice quiz (for green bars). */
export function correctIndexes(quiz: QuizInfo): number[] {
  return quiz.kind === 'short' ? [] : ((quiz.correct ?? []) as number[]).filter((x) => typeof x === 'number');
}

/** The live view of one run; `onClose` / `onReveal` call the API. */
export function QuizLive(props: {
  run: RunView;
  onClose: () => Promise<void>;
  onReveal: () => Promise<void>;
  onDismiss: () => void;
}): JSX.Element {
  const { t } = useI18n();
  const { run } = props;
  const quiz = run.quiz;
  const left = useCountdown(run.closesAt, run.status === 'open');
  const [board, setBoard] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = (fn: () => Promise<void>) => async () => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
  };
  const students = [...(run.results?.students ?? [])].sort((a, b) => a.ms - b.ms);
  const leaderboard = run.results?.leaderboard ?? [];
  const hasOptions = quiz.kind !== 'short';
  return (
    <section
      class="quiz-live"
      id="quiz-live"
      data-quiz-id={quiz.id}
      data-run-id={run.runId}
      data-status={run.status}
      data-revealed={String(run.revealed)}
      aria-labelledby="quiz-live-q"
    >
      <div class="quiz-live-head">
        <span class="badge" data-status={run.status === 'open' ? 'live' : 'ended'}>
          {t(run.status === 'open' ? 'quiz.open' : run.revealed ? 'quiz.revealed' : 'quiz.closed')}
        </span>
        {run.status === 'open' && left !== null && (
          <span class="countdown" id="quiz-countdown" data-seconds={left} role="timer" aria-live="off">
            {left > 0 ? t('quiz.left', { s: left }) : t('quiz.closing')}
          </span>
        )}
        <span class="answered" id="quiz-answered" data-answered={run.answered} aria-live="polite">
          {t('quiz.answeredN', { n: run.answered })}
          {quiz.kind !== 'short' || (quiz.correct?.length ?? 0) > 0
            ? ` · ${t('quiz.correctCount', { n: run.correct })}`
            : ''}
        </span>
      </div>
      <p class="quiz-q" id="quiz-live-q">
        {quiz.question}
      </p>
      {quiz.anonymous && <p class="hint">{t('quiz.anonymousOn')}</p>}
      {hasOptions && (
        <>
          <QuizChart
            id="quiz-chart"
            options={quiz.options}
            counts={run.counts}
            correct={correctIndexes(quiz)}
            label={t('quiz.chartLabel')}
          />
          <ol class="quiz-legend">
            {quiz.options.map((o, i) => (
              <li key={i} data-correct={String(correctIndexes(quiz).includes(i))}>
                <b>{String.fromCharCode(65 + i)}</b> {o}{' '}
                <span class="num votes">{t('quiz.votes', { n: run.counts[i] ?? 0 })}</span>
                {correctIndexes(quiz).includes(i) && <span class="sr-only"> ({t('quiz.isCorrect')})</span>}
              </li>
            ))}
          </ol>
        </>
      )}
      <ErrorLine error={error} />
      <div class="buttons">
        {run.status === 'open' && (
          <button type="button" class="btn" id="quiz-close" onClick={act(props.onClose)}>
            {t('quiz.closeNow')}
          </button>
        )}
        {run.status === 'closed' && !run.revealed && (
          <button type="button" class="btn primary" id="quiz-reveal" onClick={act(props.onReveal)}>
            {t('quiz.reveal')}
          </button>
        )}
        <label class="check">
          <input
            type="checkbox"
            id="quiz-leaderboard-toggle"
            checked={board}
            onChange={(e) => setBoard(e.currentTarget.checked)}
          />
          <span>{t('quiz.showBoard')}</span>
        </label>
        {run.status === 'closed' && (
          <button type="button" class="btn ghost" id="quiz-dismiss" onClick={props.onDismiss}>
            {t('quiz.dismiss')}
          </button>
        )}
      </div>
      {run.status === 'closed' && <QuizInsight quizId={quiz.id} runId={run.runId} />}
      {board && (
        <ol class="leaderboard" id="quiz-leaderboard" aria-label={t('quiz.board')}>
          {leaderboard.length === 0 && <li class="hint">{t('quiz.noAnswers')}</li>}
          {leaderboard.slice(0, 10).map((r) => (
            <li key={`${r.rank}-${r.name}`} data-rank={r.rank}>
              <span class="rank">{r.rank}</span>
              <span class="name">{r.name}</span>
              <span class="num">{(r.ms / 1000).toFixed(1)} s</span>
            </li>
          ))}
        </ol>
      )}
      <table class="quiz-students" id="quiz-students">
        <caption>{t('quiz.tableCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('quiz.col.name')}</th>
            <th scope="col">{t('quiz.col.answer')}</th>
            <th scope="col">{t('quiz.col.correct')}</th>
            <th scope="col">{t('quiz.col.time')}</th>
          </tr>
        </thead>
        <tbody>
          {students.length === 0 && (
            <tr>
              <td colSpan={4} class="hint">
                {t('quiz.noAnswers')}
              </td>
            </tr>
          )}
          {students.map((s, i) => (
            <tr key={`${s.name}-${i}`} data-name={s.name} data-correct={String(s.correct)}>
              <th scope="row">{s.name}</th>
              <td>{answerText(s, quiz)}</td>
              <td>
                {s.correct === null || s.correct === undefined
                  ? '–'
                  : s.correct
                    ? t('quiz.yes')
                    : t('quiz.no')}
              </td>
              <td class="num">{(s.ms / 1000).toFixed(1)} s</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
