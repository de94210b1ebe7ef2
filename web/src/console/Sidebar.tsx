/**
 * The console's left column: "new class" and the classes grouped by status (live first;
 * archived ones last), the dashboard entry, and for admins the teacher-accounts and cluster
 * entries.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ClassInfo } from './types.ts';
import { ErrorLine } from './ui.tsx';

const GROUPS = ['live', 'scheduled', 'archived'] as const;

/** The group a class is listed in. */
const groupOf = (c: ClassInfo) =>
  c.status === 'archived' || c.archived ? 'archived' : c.status === 'live' ? 'live' : 'scheduled';

/** The sidebar. `selected` is a class id, 'dashboard', 'admin' (accounts) or 'cluster'. */
export function Sidebar(props: {
  classes: ClassInfo[];
  selected: string | null;
  isAdmin: boolean;
  onSelect: (id: string) => void;
  onCreated: (c: ClassInfo) => void;
}): JSX.Element {
  const { t } = useI18n();
  const [title, setTitle] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    if (!title.trim()) return setError('side.titleEmpty');
    setBusy(true);
    try {
      props.onCreated(await api<ClassInfo>('POST', '/api/classes', { title: title.trim() }));
      setTitle('');
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <aside class="side" aria-label={t('side.label')}>
      <form class="new-class" onSubmit={create} noValidate>
        <label class="field">
          <span>{t('side.newClass')}</span>
          <input
            type="text"
            id="new-title"
            maxLength={200}
            autocomplete="off"
            placeholder={t('side.placeholder')}
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn primary" id="create-class" disabled={busy}>
          {t('side.create')}
        </button>
      </form>
      <ErrorLine error={error} id="side-error" />
      <nav class="class-list" id="class-list" aria-label={t('side.classes')}>
        {GROUPS.map((g) => {
          const list = props.classes.filter((c) => groupOf(c) === g);
          if (list.length === 0) return null;
          return (
            <div key={g} class="group" data-group={g}>
              <h3>{t(`side.group.${g}`)}</h3>
              <ul>
                {list.map((c) => (
                  <li key={c.id}>
                    <button
                      type="button"
                      class="class-item"
                      data-id={c.id}
                      aria-current={c.id === props.selected ? 'page' : undefined}
                      onClick={() => props.onSelect(c.id)}
                    >
                      <span class="t">{c.title}</span>
                      <span class="badge" data-status={c.status}>
                        {t(`head.status.${c.status}`)}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
        {props.classes.length === 0 && <p class="hint">{t('side.none')}</p>}
      </nav>
      <div class="admin-nav">
        <button
          type="button"
          class="btn"
          id="open-dashboard"
          aria-current={props.selected === 'dashboard' ? 'page' : undefined}
          onClick={() => props.onSelect('dashboard')}
        >
          {t('side.dashboard')}
        </button>
        {props.isAdmin && (
          <>
            <button
              type="button"
              class="btn"
              id="open-admin"
              aria-current={props.selected === 'admin' ? 'page' : undefined}
              onClick={() => props.onSelect('admin')}
            >
              {t('side.admin')}
            </button>
            <button
              type="button"
              class="btn"
              id="open-cluster"
              aria-current={props.selected === 'cluster' ? 'page' : undefined}
              onClick={() => props.onSelect('cluster')}
            >
              {t('side.cluster')}
            </button>
          </>
        )}
      </div>
    </aside>
  );
}
