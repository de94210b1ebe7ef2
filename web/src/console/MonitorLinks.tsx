/**
 * Read-only share links for a teaching assistant or an observer (`/monitor#token=…`): create,
 * list (with expiry), copy the one just made (the token is shown once), revoke.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { MonitorLinkInfo } from './types.ts';
import { Card, Confirm, CopyButton, ErrorLine } from './ui.tsx';

/** The monitor-links card. */
export function MonitorLinks(props: { classId: string }): JSX.Element {
  const { t, lang } = useI18n();
  const [links, setLinks] = useState<MonitorLinkInfo[]>([]);
  const [fresh, setFresh] = useState<{ id?: string; url: string; expiresIn: number } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const base = `/api/classes/${props.classId}/monitor-links`;
  const load = async () => {
    try {
      const r = await api<{ links?: MonitorLinkInfo[]; monitorLinks?: MonitorLinkInfo[] }>('GET', base);
      setLinks(
        (r.links ?? r.monitorLinks ?? []).filter((l) => (l.status ? l.status === 'active' : !l.revokedAt)),
      );
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    setFresh(null);
    void load();
  }, [props.classId]);
  const create = async () => {
    setError(null);
    try {
      setFresh(await api<{ id?: string; url: string; expiresIn: number }>('POST', base));
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const revoke = async (id: string) => {
    setError(null);
    try {
      await api('DELETE', `${base}/${id}`);
      if (fresh?.id === id) setFresh(null);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const when = (iso?: string) =>
    iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' }) : '';
  return (
    <Card id="monitor-links" title={t('mon.title')} class="monitor-card">
      <p class="hint">{t('mon.hint')}</p>
      <ErrorLine error={error} />
      {fresh && (
        <div class="fresh-link">
          <div class="row">
            <span class="mono clip" id="monitor-url" title={fresh.url}>
              {fresh.url}
            </span>
            <CopyButton value={() => fresh.url} label={t('mon.link')} />
            <a class="btn small" href={fresh.url} target="_blank" rel="noopener">
              {t('common.open')}
            </a>
          </div>
          <p class="hint">{t('mon.onlyOnce', { h: Math.round(fresh.expiresIn / 3600) })}</p>
        </div>
      )}
      <button type="button" class="btn" id="make-monitor" onClick={create}>
        {t('mon.make')}
      </button>
      {links.length > 0 && (
        <ul class="links" id="monitor-link-list">
          {links.map((l, i) => (
            <li key={l.id} data-id={l.id}>
              <span>
                {t('mon.linkN', { n: links.length - i })}
                {l.expiresAt ? ` · ${t('mon.until', { at: when(l.expiresAt) })}` : ''}
              </span>
              <Confirm
                label={t('mon.revoke')}
                question={t('mon.revokeQ')}
                class="btn small ghost monitor-revoke"
                danger
                onConfirm={() => revoke(l.id)}
              />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
