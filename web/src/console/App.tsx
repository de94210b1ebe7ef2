/**
 * The teacher console (/console): who is signed in (the session cookie set at /login; without
 * one the page goes there), the class list, one class at a time and, for admins, the teacher
 * accounts and the cluster's nodes, and the dashboard of every class. The selection is kept in
 * the address (`?class=<id>`, `?view=dashboard`, `?view=teachers` or `?view=cluster`).
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../lib/api.ts';
import { Header } from '../lib/components/Header.tsx';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import { AdminView } from './AdminView.tsx';
import { ClassPage } from './ClassPage.tsx';
import { ClusterView } from './ClusterView.tsx';
import { Dashboard, DASHBOARD_PARAMS } from './Dashboard.tsx';
import { Sidebar } from './Sidebar.tsx';
import type { ClassInfo, Me } from './types.ts';

function toLogin(): void {
  location.replace(`/login?next=${encodeURIComponent('/console')}${langSuffix('&')}`);
}

/** The views that are not a class: the sidebar's id for each and its `?view=` name. */
const VIEWS = new Map([
  ['admin', 'teachers'],
  ['cluster', 'cluster'],
  ['dashboard', 'dashboard'],
]);
/** The views only an admin may open. */
const ADMIN_ONLY = new Set(['admin', 'cluster']);

function keepInUrl(selected: string | null): void {
  const url = new URL(location.href);
  url.searchParams.delete('class');
  url.searchParams.delete('view');
  // The dashboard keeps its own choice (class, lesson) in the address; other views drop it.
  if (selected !== 'dashboard') for (const p of DASHBOARD_PARAMS) url.searchParams.delete(p);
  const view = selected ? VIEWS.get(selected) : undefined;
  if (view) url.searchParams.set('view', view);
  else if (selected) url.searchParams.set('class', selected);
  history.replaceState(history.state, '', url);
}

/** The console page. */
export function ConsoleApp(): JSX.Element {
  const { t } = useI18n();
  const [me, setMe] = useState<Me | null>(null);
  const [classes, setClasses] = useState<ClassInfo[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    (async () => {
      let who: Me;
      try {
        who = await api<Me>('GET', '/api/auth/me');
      } catch (e) {
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return toLogin();
        return setError(e);
      }
      if (who.role !== 'teacher' && who.role !== 'admin') return toLogin();
      setMe(who);
      let list: ClassInfo[] = [];
      try {
        list = (await api<{ classes: ClassInfo[] }>('GET', '/api/classes')).classes;
      } catch (e) {
        setError(e);
      }
      list.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
      setClasses(list);
      const q = new URLSearchParams(location.search);
      const view = [...VIEWS].find(([, name]) => name === q.get('view'))?.[0];
      const wanted = view ?? q.get('class');
      const ok =
        wanted && (view ? !ADMIN_ONLY.has(view) || who.role === 'admin' : list.some((c) => c.id === wanted));
      // An admin sees every teacher's classes: open none unasked (opening one joins its roster).
      const first =
        who.role === 'admin'
          ? 'admin'
          : (list.find((c) => c.status === 'live') ?? list.find((c) => c.status !== 'archived'))?.id;
      select(ok ? wanted : (first ?? null));
    })();
  }, []);

  const select = (id: string | null) => {
    setSelected(id);
    keepInUrl(id);
  };
  const changed = (c: ClassInfo) => setClasses((list) => list.map((x) => (x.id === c.id ? c : x)));
  const logout = async () => {
    await api('POST', '/api/auth/logout').catch(() => {});
    location.assign(`/login${langSuffix('?')}`);
  };

  const cls = classes.find((c) => c.id === selected) ?? null;
  const name = me?.user?.name ?? me?.name ?? '';
  return (
    <div class="page console-page">
      <Header
        home="/console"
        end={
          me && (
            <button type="button" class="btn small" id="logout" onClick={logout}>
              {t('side.logout')}
            </button>
          )
        }
      >
        <span class="who" id="who">
          {me ? `${name} · ${t(`role.${me.role}`)}` : ''}
        </span>
      </Header>
      {error !== null && !me ? (
        <p class="form-error" role="alert">
          {errorText(t, error)}
        </p>
      ) : (
        me && (
          <div class={`console${cls ? '' : ' no-chat'}`} id="console">
            <Sidebar
              classes={classes}
              selected={selected}
              isAdmin={me.role === 'admin'}
              onSelect={select}
              onCreated={(c) => {
                setClasses((list) => [c, ...list]);
                select(c.id);
              }}
            />
            {selected === 'admin' && me.role === 'admin' ? (
              <AdminView selfId={me.sub} />
            ) : selected === 'cluster' && me.role === 'admin' ? (
              <ClusterView />
            ) : selected === 'dashboard' ? (
              <Dashboard classes={classes} />
            ) : cls ? (
              <ClassPage key={cls.id} cls={cls} onChange={changed} />
            ) : (
              <main class="main" id="main">
                <p class="empty">{t(classes.length ? 'side.pick' : 'side.none')}</p>
              </main>
            )}
          </div>
        )
      )}
    </div>
  );
}
