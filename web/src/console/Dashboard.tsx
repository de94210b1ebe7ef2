/**
 * The console's dashboard (`?view=dashboard`): the signed-in teacher's classes (an admin's:
 * all) → one class's trend over its lessons (attendance, quiz accuracy, engagement), the
 * students who are slipping and why, and its lessons → one lesson's report (LessonReport.tsx).
 * The chosen class and lesson are kept in the address (`&report=<classId>&lesson=<lessonId>`)
 * so a reload or a shared link opens the same page.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { dateText, percentText } from '../lib/format.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ClassReport } from '../lib/report-types.ts';
import { LessonReportView } from './LessonReport.tsx';
import { TrendChart } from './report-charts.tsx';
import type { ClassInfo } from './types.ts';
import { Card, ErrorLine } from './ui.tsx';
import './dashboard.css';

/** The address parameters of the dashboard's selection. */
export const DASHBOARD_PARAMS = ['report', 'lesson'] as const;

/** Keeps the chosen class and lesson in the address (without adding history entries). */
function keepInUrl(classId: string | null, lessonId: string | null): void {
  const url = new URL(location.href);
  if (classId) url.searchParams.set('report', classId);
  else url.searchParams.delete('report');
  if (lessonId) url.searchParams.set('lesson', lessonId);
  else url.searchParams.delete('lesson');
  history.replaceState(history.state, '', url);
}

/** The class shown first: the one in the address, else a live one, else the newest not archived. */
function firstClass(classes: ClassInfo[], wanted: string | null): string | null {
  if (wanted && classes.some((c) => c.id === wanted)) return wanted;
  const open = classes.find((c) => c.status === 'live') ?? classes.find((c) => c.status !== 'archived');
  return (open ?? classes[0])?.id ?? null;
}

/** One class's overview: trend, slipping students, lessons. */
function ClassOverview(props: { report: ClassReport; onOpen: (lessonId: string) => void }): JSX.Element {
  const { t, lang } = useI18n();
  const r = props.report;
  const lessons = useMemo(() => [...r.lessons].sort((a, b) => a.number - b.number), [r]);
  const labels = lessons.map((l) => t('dash.lessonN', { n: l.number }));
  return (
    <>
      <Card
        id="dash-trend"
        title={t('dash.trend')}
        actions={
          <a
            class="btn small"
            id="dash-class-csv"
            href={`/api/classes/${encodeURIComponent(r.class.id)}/report.csv`}
            download
          >
            {t('dash.csvClass')}
          </a>
        }
      >
        {lessons.length === 0 ? (
          <p class="hint">{t('dash.noLessons')}</p>
        ) : (
          <TrendChart
            lessons={lessons}
            labels={labels}
            label={t('dash.trendLabel')}
            names={{
              attendance: t('dash.series.attendance'),
              accuracy: t('dash.series.accuracy'),
              engagement: t('dash.series.engagement'),
            }}
          />
        )}
      </Card>
      <div class="dash-grid">
        <Card id="dash-slipping" title={t('dash.slipping')}>
          <p class="hint">{t('dash.slippingHint')}</p>
          {r.slipping.length === 0 ? (
            <p class="hint" id="dash-slipping-none">
              {t('dash.slippingNone')}
            </p>
          ) : (
            <ul class="slipping">
              {r.slipping.map((s, i) => (
                <li key={`${s.name}-${s.reason}-${i}`} data-student-name={s.name} data-reason={s.reason}>
                  <span class="slip-name">{s.name}</span>
                  <span class="badge slip-reason" data-reason={s.reason}>
                    {t(`dash.reason.${s.reason}`)}
                  </span>
                  <span class="slip-detail">{s.detail}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card id="dash-lessons" title={t('dash.lessons')}>
          {lessons.length === 0 ? (
            <p class="hint">{t('dash.noLessons')}</p>
          ) : (
            <table class="dash-lessons">
              <caption class="sr-only">{t('dash.lessonsCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('dash.col.lesson')}</th>
                  <th scope="col">{t('dash.col.date')}</th>
                  <th scope="col">{t('dash.col.attendance')}</th>
                  <th scope="col">{t('dash.col.accuracy')}</th>
                  <th scope="col">{t('dash.col.engagement')}</th>
                  <th scope="col">
                    <span class="sr-only">{t('dash.open')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...lessons].reverse().map((l) => (
                  <tr key={l.id} data-lesson-id={l.id} data-number={l.number}>
                    <th scope="row">{t('dash.lessonN', { n: l.number })}</th>
                    <td>
                      <time dateTime={l.startedAt}>{dateText(l.startedAt, lang)}</time>
                    </td>
                    <td class="num">{l.attendance}</td>
                    <td class="num">{percentText(l.accuracy)}</td>
                    <td class="num">{l.engagement === null ? '–' : Math.round(l.engagement)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        class="btn small open-report"
                        aria-label={t('dash.openN', { n: l.number })}
                        onClick={() => props.onOpen(l.id)}
                      >
                        {t('dash.open')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </>
  );
}

/** The dashboard view; `classes` is the console's list (own classes, or all for an admin). */
export function Dashboard(props: { classes: ClassInfo[] }): JSX.Element {
  const { t } = useI18n();
  const [classId, setClassId] = useState<string | null>(() =>
    firstClass(props.classes, new URLSearchParams(location.search).get('report')),
  );
  const [lessonId, setLessonId] = useState<string | null>(() =>
    new URLSearchParams(location.search).get('lesson'),
  );
  const [report, setReport] = useState<ClassReport | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => keepInUrl(classId, lessonId), [classId, lessonId]);

  useEffect(() => {
    setReport(null);
    setError(null);
    if (!classId) return;
    const ctl = new AbortController();
    api<ClassReport>('GET', `/api/classes/${encodeURIComponent(classId)}/report`, undefined, {
      signal: ctl.signal,
    }).then(setReport, (e: unknown) => !ctl.signal.aborted && setError(e));
    return () => ctl.abort();
  }, [classId]);

  const choose = (id: string) => {
    setClassId(id || null);
    setLessonId(null);
  };
  // Back from a report: focus returns to that lesson's "Report" button.
  const back = () => {
    const was = lessonId;
    setLessonId(null);
    requestAnimationFrame(() =>
      document
        .querySelector<HTMLButtonElement>(`tr[data-lesson-id="${CSS.escape(was ?? '')}"] .open-report`)
        ?.focus(),
    );
  };

  return (
    <main class="main dashboard" id="main" data-class-id={classId ?? undefined}>
      <div class="class-head">
        <h1>{t('dash.title')}</h1>
        <p class="hint">{t('dash.hint')}</p>
      </div>
      {props.classes.length === 0 ? (
        <p class="empty">{t('dash.noClasses')}</p>
      ) : (
        <>
          <div class="row dash-pick">
            <label for="dash-class">{t('dash.class')}</label>
            <select id="dash-class" value={classId ?? ''} onChange={(e) => choose(e.currentTarget.value)}>
              {!classId && <option value="">{t('dash.pickClass')}</option>}
              {props.classes.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.title}
                  {c.status === 'live' ? ` · ${t('head.status.live')}` : ''}
                  {c.status === 'archived' || c.archived ? ` · ${t('head.status.archived')}` : ''}
                </option>
              ))}
            </select>
          </div>
          {error !== null && (
            <div id="dash-error">
              <p class="hint">{t('dash.failed')}</p>
              <ErrorLine error={error} />
            </div>
          )}
          {classId && lessonId ? (
            <LessonReportView key={lessonId} lessonId={lessonId} onBack={back} />
          ) : report ? (
            <ClassOverview report={report} onOpen={setLessonId} />
          ) : (
            classId && error === null && <p class="hint">{t('dash.loading')}</p>
          )}
        </>
      )}
    </main>
  );
}
