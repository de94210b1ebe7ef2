/**
 * The admin's cluster view (`?view=cluster`): the main and its sub nodes with their state,
 * viewers against capacity, CPU, the live paths each relays, the students the main sent there
 * and when each was last heard from. Reads `GET /api/cluster/nodes` every 5 s while open.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../lib/api.ts';
import { useI18n, type Translate } from '../lib/i18n.ts';
import type { ClusterNode } from './types.ts';
import { Card } from './ui.tsx';
import './cluster.css';

/** How often the list is read again while the view is open, ms. */
export const CLUSTER_REFRESH_MS = 5000;

/** "3 s ago" / "3초 전" for a time `ms` before now (never negative: clocks drift a little). */
export function agoText(t: Translate, ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 1) return t('cluster.ago.now');
  if (s < 60) return t('cluster.ago.s', { n: s });
  if (s < 3600) return t('cluster.ago.m', { n: Math.floor(s / 60) });
  return t('cluster.ago.h', { n: Math.floor(s / 3600) });
}

/** How full a node is: 'low' below 70 %, 'mid' below 90 %, else 'high' (also when capacity is 0). */
export function loadLevel(viewers: number, capacity: number): 'low' | 'mid' | 'high' {
  if (capacity <= 0) return viewers > 0 ? 'high' : 'low';
  const share = viewers / capacity;
  return share >= 0.9 ? 'high' : share >= 0.7 ? 'mid' : 'low';
}

/** Viewers against capacity: the figures and a small bar. */
function Load(props: { viewers: number; capacity: number }): JSX.Element {
  const { viewers, capacity } = props;
  const pct = capacity > 0 ? Math.min(100, (viewers / capacity) * 100) : viewers > 0 ? 100 : 0;
  return (
    <span class="node-load" data-level={loadLevel(viewers, capacity)}>
      <span class="load-bar" aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span class="num load-text">
        {viewers} / {capacity}
      </span>
    </span>
  );
}

/** One node's row. `now` is when the list was last read (or retried). */
function NodeRow(props: { n: ClusterNode; now: number }): JSX.Element {
  const { t, lang } = useI18n();
  const { n } = props;
  const seen = Date.parse(n.lastSeen);
  const cpu = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(n.cpu);
  return (
    <tr data-id={n.id} data-role={n.role} data-state={n.state} class="node-row">
      <th scope="row">
        <span class="node-name">{n.name}</span>
        <span class="node-url">{n.httpUrl}</span>
      </th>
      <td class="node-role">{t(`cluster.role.${n.role}`)}</td>
      <td>
        <span class="badge node-state" data-node-state={n.state}>
          {t(`cluster.state.${n.state}`)}
        </span>
      </td>
      <td class="node-viewers">
        <Load viewers={n.viewers} capacity={n.capacity} />
      </td>
      <td class="num node-cpu">{cpu} %</td>
      <td class="node-paths">
        {n.paths.length ? (
          <ul>
            {n.paths.map((p) => (
              <li key={p} class="mono">
                {p}
              </li>
            ))}
          </ul>
        ) : (
          <span class="hint">{t('cluster.noPaths')}</span>
        )}
      </td>
      <td class="num node-assigned">{n.assigned}</td>
      <td class="node-seen">
        {Number.isNaN(seen) ? (
          '—'
        ) : (
          <time dateTime={n.lastSeen} title={new Date(seen).toLocaleString(lang)}>
            {agoText(t, props.now - seen)}
          </time>
        )}
      </td>
    </tr>
  );
}

/** The cluster view. */
export function ClusterView(): JSX.Element {
  const { t } = useI18n();
  const [nodes, setNodes] = useState<ClusterNode[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One request at a time: the next is planned when this one is answered (or fails).
    const load = async () => {
      try {
        const r = await api<{ nodes: ClusterNode[] }>('GET', '/api/cluster/nodes', undefined, {
          signal: ctl.signal,
        });
        if (ctl.signal.aborted) return;
        setNodes(r.nodes);
        setError(null);
      } catch (e) {
        if (ctl.signal.aborted) return;
        setError(e);
      }
      setNow(Date.now());
      timer = setTimeout(load, CLUSTER_REFRESH_MS);
    };
    void load();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, []);

  const alive = nodes?.filter((n) => n.state === 'alive').length ?? 0;
  return (
    <main class="main cluster" id="main">
      <div class="class-head">
        <h1>{t('cluster.title')}</h1>
        <p class="hint">{t('cluster.hint', { s: CLUSTER_REFRESH_MS / 1000 })}</p>
      </div>
      <Card
        id="cluster-nodes"
        title={t('cluster.nodes')}
        actions={
          nodes && (
            <span class="hint" id="cluster-summary">
              {t('cluster.summary', { alive, n: nodes.length })}
            </span>
          )
        }
      >
        {error !== null && (
          <p class="form-error" role="alert" id="cluster-error">
            {t('cluster.failed')} {errorText(t, error)}
          </p>
        )}
        {nodes === null ? (
          error === null && <p class="hint">{t('cluster.loading')}</p>
        ) : nodes.length === 0 ? (
          <p class="hint" id="cluster-empty">
            {t('cluster.empty')}
          </p>
        ) : (
          <div class="cluster-scroll">
            <table class="cluster-table" id="cluster-table" data-stale={String(error !== null)}>
              <caption class="sr-only">{t('cluster.caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('cluster.col.name')}</th>
                  <th scope="col">{t('cluster.col.role')}</th>
                  <th scope="col">{t('cluster.col.state')}</th>
                  <th scope="col">{t('cluster.col.viewers')}</th>
                  <th scope="col">{t('cluster.col.cpu')}</th>
                  <th scope="col">{t('cluster.col.paths')}</th>
                  <th scope="col">{t('cluster.col.assigned')}</th>
                  <th scope="col">{t('cluster.col.seen')}</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <NodeRow key={n.id} n={n} now={now} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </main>
  );
}
