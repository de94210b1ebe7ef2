/**
 * One lesson's report on the dashboard (`GET /api/lessons/:id/report`): the written summary in
 * the UI language, the figures at a glance (students, peak and average viewers, stalls, chat,
 * hands, reactions), the engagement, viewers and chat-per-minute charts, the attendance table,
 * each quiz with its accuracy, option counts and (on expand) every student's answer, the
 * lesson's recordings (links to the replay page) and the CSV download.
 */
import { SummaryCard } from '../lib/ai/SummaryCard.tsx';
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { dateTimeText, lengthText, percentText } from '../lib/format.ts';
import { useI18n } from '../lib/i18n.ts';
import type { LessonReport, QuizItemReport } from '../lib/report-types.ts';
import { TimeChart, TREND_COLORS } from './report-charts.tsx';
import { withLang } from './Recordings.tsx';
import { Card, clock, ErrorLine } from './ui.tsx';

/** A share 0–1 as the width of a bar, at least a sliver when above 0. */
const barWidth = (share: number) => `${share > 0 ? Math.max(2, Math.round(share * 100)) : 0}%`;

/** One quiz: question, accuracy bar, option counts, every student's answer on expand. */
function QuizItem(props: { q: QuizItemReport; n: number }): JSX.Element {
  const { t, lang } = useI18n();
  const { q } = props;
  const most = Math.max(1, ...q.options.map((o) => o.count));
  const students = [...q.perStudent].sort((a, b) => a.name.localeCompare(b.name, lang));
  const seconds = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  return (
    <li class="quiz-item" data-run-id={q.runId} data-accuracy={q.accuracy ?? ''}>
      <div class="qi-head">
        <span class="qi-n">{t('report.quizN', { n: props.n })}</span>
        <span class="badge">{t(`quiz.kind.${q.kind}`)}</span>
        <span class="qi-at">{clock(q.openedAt, lang)}</span>
      </div>
      <p class="qi-q">{q.question}</p>
      <div class="qi-accuracy">
        <span class="share-bar" aria-hidden="true">
          <span style={{ width: barWidth(q.accuracy ?? 0) }} />
        </span>
        <strong>{t('report.accuracy', { p: percentText(q.accuracy) })}</strong>
        <span class="hint">{t('report.answered', { n: q.answered, c: q.correct })}</span>
      </div>
      {q.options.length > 0 && (
        <table class="qi-options">
          <caption class="sr-only">{t('report.options')}</caption>
          <tbody>
            {q.options.map((o, i) => (
              <tr key={i} data-correct={String(o.correct)} data-count={o.count}>
                <th scope="row">
                  {String.fromCharCode(65 + i)}. {o.text}
                  {o.correct && <span class="opt-correct"> ✓ {t('report.optionCorrect')}</span>}
                </th>
                <td class="opt-bar-cell">
                  <span class="share-bar opt-bar" aria-hidden="true">
                    <span style={{ width: barWidth(o.count / most) }} />
                  </span>
                  <span class="num">{o.count}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {students.length === 0 ? (
        <p class="hint">{t('report.noAnswers')}</p>
      ) : (
        <details class="qi-students">
          <summary>{t('report.perStudent')}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('report.col.name')}</th>
                <th scope="col">{t('report.col.result')}</th>
                <th scope="col">{t('report.col.time')}</th>
              </tr>
            </thead>
            <tbody>
              {students.map((s) => (
                <tr key={s.participantId} data-correct={String(s.correct)}>
                  <th scope="row">{s.name}</th>
                  <td class="qi-result">{t(s.correct ? 'report.right' : 'report.wrong')}</td>
                  <td class="num">{t('report.seconds', { s: seconds.format(s.ms / 1000) })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </li>
  );
}

/** The attendance table, students by name. */
function Attendance(props: { rows: LessonReport['attendance'] }): JSX.Element {
  const { t, lang } = useI18n();
  const rows = [...props.rows].sort((a, b) => a.name.localeCompare(b.name, lang));
  const minutes = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  if (rows.length === 0) return <p class="hint">{t('report.noStudents')}</p>;
  return (
    <div class="table-scroll">
      <table class="report-attendance" id="report-attendance">
        <caption class="sr-only">{t('report.attendanceCaption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('report.col.name')}</th>
            <th scope="col">{t('report.col.joined')}</th>
            <th scope="col">{t('report.col.left')}</th>
            <th scope="col">{t('report.col.minutes')}</th>
            <th scope="col">{t('report.col.engagement')}</th>
            <th scope="col">{t('report.col.quiz')}</th>
            <th scope="col">{t('report.col.chat')}</th>
            <th scope="col">{t('report.col.hands')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.participantId} data-student-name={r.name} data-removed={String(r.removed)}>
              <th scope="row">
                {r.name}
                {r.removed && <span class="badge removed"> {t('report.removed')}</span>}
              </th>
              <td>{clock(r.joinedAt, lang)}</td>
              <td>{r.leftAt ? clock(r.leftAt, lang) : t('report.untilEnd')}</td>
              <td class="num">{minutes.format(r.minutesWatched)}</td>
              <td class="num">{r.engagement === null ? '–' : Math.round(r.engagement)}</td>
              <td class="num">
                {r.quizCorrect}/{r.quizAnswered}
              </td>
              <td class="num">{r.chatMessages}</td>
              <td class="num">{r.hands}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The figures at a glance. */
function Stats(props: { r: LessonReport }): JSX.Element {
  const { t, lang } = useI18n();
  const { r } = props;
  const avg = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(r.viewers.average);
  const items: [string, string | number, string?][] = [
    ['students', r.attendance.length],
    ['peak', r.viewers.peak],
    ['average', avg],
    ['stalls', r.stalls, t('report.stallsHint')],
    ['chat', r.chat.messages],
    ['hands', r.hands],
    ['reactions', r.reactions],
  ];
  return (
    <dl class="report-stats" id="report-stats">
      {items.map(([key, value, title]) => (
        <div key={key} data-stat={key} title={title}>
          <dt>{t(`report.stat.${key}`)}</dt>
          <dd class="num">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The lesson report; `onBack` returns to the class's overview. */
export function LessonReportView(props: { lessonId: string; onBack: () => void }): JSX.Element {
  const { t, lang } = useI18n();
  const [r, setR] = useState<LessonReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    api<LessonReport>('GET', `/api/lessons/${encodeURIComponent(props.lessonId)}/report`, undefined, {
      signal: ctl.signal,
    }).then(setR, (e: unknown) => !ctl.signal.aborted && setError(e));
    return () => ctl.abort();
  }, [props.lessonId]);
  // Keyboard and screen-reader users land on the report they opened.
  useEffect(() => heading.current?.focus(), [r !== null]);

  const back = (
    <button type="button" class="btn small" id="report-back" onClick={props.onBack}>
      {t('report.back')}
    </button>
  );
  if (!r) {
    return (
      <section class="lesson-report" id="lesson-report" data-state={error ? 'error' : 'loading'}>
        {back}
        {error ? <ErrorLine error={error} id="report-error" /> : <p class="hint">{t('dash.loading')}</p>}
      </section>
    );
  }
  const L = r.lesson;
  const summary = lang === 'ko' ? r.summary.ko : r.summary.en;
  const totalChat = r.chat.perMinute.reduce((n, p) => n + p.count, 0);
  return (
    <section
      class="lesson-report"
      id="lesson-report"
      data-lesson-id={L.id}
      data-state="ready"
      aria-labelledby="report-title"
    >
      <div class="report-head">
        {back}
        <h2 id="report-title" ref={heading} tabIndex={-1}>
          {t('report.title', { n: L.number })}
        </h2>
        <span class="spacer" />
        <a
          class="btn small"
          id="report-csv"
          href={`/api/lessons/${encodeURIComponent(L.id)}/report.csv`}
          download
        >
          {t('dash.csv')}
        </a>
      </div>
      <p class="lesson-line" id="report-meta">
        {L.classTitle} · <time dateTime={L.startedAt}>{dateTimeText(L.startedAt, lang)}</time> ·{' '}
        {lengthText(L.durationSec, lang)}
      </p>
      {L.endedAt === null && <p class="hint">{t('report.running')}</p>}

      <Card id="report-summary-card" title={t('report.summary')}>
        <ul class="report-summary" id="report-summary" lang={lang}>
          {summary.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      </Card>

      <SummaryCard lessonId={L.id} />

      <Card id="report-glance" title={t('report.stats')}>
        <Stats r={r} />
      </Card>

      <div class="report-charts">
        <Card id="report-engagement" title={t('report.engagement')}>
          {r.engagement.length === 0 ? (
            <p class="hint">{t('report.noData')}</p>
          ) : (
            <TimeChart
              id="report-engagement-chart"
              kind="line"
              lang={lang}
              max={100}
              at={r.engagement.map((p) => p.at)}
              values={r.engagement.map((p) => Math.round(p.score))}
              label={`${t('report.engagement')}: ${t('report.average', {
                n: Math.round(r.engagement.reduce((s, p) => s + p.score, 0) / r.engagement.length),
              })}`}
            />
          )}
        </Card>
        <Card id="report-viewers" title={t('report.viewers')}>
          {r.viewers.timeline.length === 0 ? (
            <p class="hint">{t('report.noData')}</p>
          ) : (
            <TimeChart
              id="report-viewers-chart"
              kind="line"
              lang={lang}
              color={TREND_COLORS.attendance}
              at={r.viewers.timeline.map((p) => p.at)}
              values={r.viewers.timeline.map((p) => p.viewers)}
              label={`${t('report.viewers')}: ${t('report.peak', { n: r.viewers.peak })}`}
            />
          )}
        </Card>
        <Card id="report-chat" title={t('report.chatPerMinute')}>
          {r.chat.perMinute.length === 0 ? (
            <p class="hint">{t('report.noData')}</p>
          ) : (
            <TimeChart
              id="report-chat-chart"
              kind="bar"
              lang={lang}
              color={TREND_COLORS.accuracy}
              at={r.chat.perMinute.map((p) => p.at)}
              values={r.chat.perMinute.map((p) => p.count)}
              label={`${t('report.chatPerMinute')}: ${t('report.total', { n: totalChat })}`}
            />
          )}
        </Card>
      </div>

      <Card id="report-attendance-card" title={t('report.attendance')}>
        <Attendance rows={r.attendance} />
      </Card>

      <Card id="report-quizzes" title={t('report.quizzes')}>
        {r.quizzes.length === 0 ? (
          <p class="hint">{t('report.noQuizzes')}</p>
        ) : (
          <ol class="quiz-items">
            {r.quizzes.map((q, i) => (
              <QuizItem key={q.runId} q={q} n={i + 1} />
            ))}
          </ol>
        )}
      </Card>

      <Card id="report-recordings" title={t('report.recordings')}>
        {r.recordings.length === 0 ? (
          <p class="hint">{t('report.noRecordings')}</p>
        ) : (
          <ul class="report-recordings">
            {r.recordings.map((rec) => (
              <li key={rec.id} data-recording-id={rec.id}>
                <a
                  class="btn small rec-watch"
                  href={withLang(`/replay/${encodeURIComponent(rec.id)}`)}
                  target="_blank"
                  rel="noopener noreferrer"
                >
                  {t('report.watch', { d: lengthText(rec.durationSec, lang) })}
                </a>
                <span class="badge rec-status" data-rec-status={rec.status}>
                  {t(`rec.status.${rec.status}`)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    </section>
  );
}
