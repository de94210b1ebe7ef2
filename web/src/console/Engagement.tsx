/**
 * The engagement panel (console and monitor, read-only in both): the class score with its line
 * over the lesson, and each present student's score, lowest first (who may need a word), with
 * why (watching / tab hidden / paused). The formula is in a disclosure under the title.
 */
import type { JSX } from 'preact';
import { useI18n } from '../lib/i18n.ts';
import { EngagementChart } from './charts.tsx';
import type { EngagementPoint, EngagementStudent } from './types.ts';
import { Card } from './ui.tsx';

/** Why a student's score is what it is, as an i18n id. */
function stateOf(s: EngagementStudent): string {
  if (s.watching) return 'eng.state.watching';
  if (s.visible === false) return 'eng.state.hidden';
  if (s.playing === 'stalled') return 'eng.state.stalled';
  if (s.playing === 'paused') return 'eng.state.paused';
  return 'eng.state.notPlaying';
}

/** A score's level for its colour: low < 40 ≤ mid < 70 ≤ high. */
const level = (score: number) => (score < 40 ? 'low' : score < 70 ? 'mid' : 'high');

/** The panel; `engagement` null until the first push of the lesson. */
export function EngagementPanel(props: {
  engagement: { class: number; students: EngagementStudent[] } | null;
  series: EngagementPoint[];
  live: boolean;
}): JSX.Element {
  const { t, lang } = useI18n();
  const e = props.engagement;
  const students = [...(e?.students ?? [])].sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  const classScore = e ? Math.round(e.class) : null;
  return (
    <Card id="engagement" title={t('eng.title')} class="engagement-card">
      <details class="help">
        <summary>{t('eng.how')}</summary>
        <p>{t('eng.formula')}</p>
      </details>
      {!props.live && !e ? (
        <p class="hint">{t('eng.notLive')}</p>
      ) : (
        <>
          <div class="eng-top">
            <div class="eng-class" id="engagement-class" data-score={classScore ?? ''}>
              <span class="eng-num" data-level={classScore === null ? undefined : level(classScore)}>
                {classScore ?? '–'}
              </span>
              <span class="eng-label">{t('eng.classScore')}</span>
            </div>
            <EngagementChart series={props.series} label={t('eng.seriesLabel')} lang={lang} />
          </div>
          {!props.live && (
            <p class="hint" id="engagement-final">
              {t('eng.final')}
            </p>
          )}
          {students.length === 0 ? (
            <p class="hint">{t('eng.noStudents')}</p>
          ) : (
            <table class="eng-table">
              <caption class="sr-only">{t('eng.tableCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('eng.student')}</th>
                  <th scope="col">{t('eng.score')}</th>
                  {props.live && <th scope="col">{t('eng.now')}</th>}
                </tr>
              </thead>
              <tbody>
                {students.map((s) => (
                  <tr key={s.id} data-student-name={s.name} data-score={Math.round(s.score)}>
                    <th scope="row">{s.name}</th>
                    <td>
                      <span class="meter" aria-hidden="true">
                        <span
                          data-level={level(s.score)}
                          style={{ width: `${Math.max(2, Math.round(s.score))}%` }}
                        />
                      </span>
                      <span class="num">{Math.round(s.score)}</span>
                    </td>
                    {/* After the end nobody is watching any more: only the last scores stand. */}
                    {props.live && (
                      <td class="eng-state" data-watching={String(Boolean(s.watching))}>
                        {t(stateOf(s))}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </Card>
  );
}
