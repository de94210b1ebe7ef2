/**
 * Who is in the lesson now, with join times, students first by name; the teacher can remove a
 * student (after a confirm): `DELETE /api/classes/:id/participants/:pid` stops their token for
 * this lesson and they see why.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { RosterEntry } from '../lib/protocol.ts';
import { Card, clock, Confirm, ErrorLine } from './ui.tsx';

/** The roster; `classId` null = read only (monitor). */
export function RosterPanel(props: { roster: RosterEntry[]; classId: string | null }): JSX.Element {
  const { t, lang } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const students = props.roster
    .filter((p) => p.role === 'student')
    .sort((a, b) => a.name.localeCompare(b.name, lang));
  const others = props.roster.filter((p) => p.role !== 'student');
  const remove = async (p: RosterEntry) => {
    setError(null);
    try {
      await api('DELETE', `/api/classes/${props.classId}/participants/${p.id}`);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card id="roster" title={t('roster.title', { n: students.length })} class="roster-card">
      <ErrorLine error={error} />
      {students.length === 0 ? (
        <p class="hint">{t('roster.none')}</p>
      ) : (
        <table class="roster">
          <caption class="sr-only">{t('roster.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('roster.name')}</th>
              <th scope="col">{t('roster.joined')}</th>
              {props.classId && (
                <th scope="col">
                  <span class="sr-only">{t('roster.actions')}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {students.map((p) => (
              <tr key={p.id} data-id={p.id} data-name={p.name}>
                <th scope="row">{p.name}</th>
                <td>{clock(p.joinedAt, lang)}</td>
                {props.classId && (
                  <td class="actions">
                    <Confirm
                      label={t('roster.remove')}
                      question={t('roster.removeQ', { name: p.name })}
                      class="btn small roster-remove"
                      confirmId={`confirm-remove-${p.id}`}
                      danger
                      onConfirm={() => remove(p)}
                    />
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {others.length > 0 && (
        <p class="hint staff-line">{others.map((p) => `${p.name} (${t(`role.${p.role}`)})`).join(' · ')}</p>
      )}
    </Card>
  );
}
