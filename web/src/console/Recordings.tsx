/**
 * The recordings of a class on its console page: one entry per recording with its lesson, date,
 * status, length, size and when the retention job deletes it; per row "Watch" (the replay page
 * in a new window), "Share with students" and "Delete" (two steps). Below, the class's
 * retention in days. While a lesson is being recorded the list is read again now and then so
 * its length grows.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { dateTimeText, daysUntil, lengthText, sizeText } from '../lib/format.ts';
import { useI18n } from '../lib/i18n.ts';
import type { RecordingList, RecordingView } from '../lib/report-types.ts';
import { Card, Confirm, ErrorLine } from './ui.tsx';
import './dashboard.css';

/** How often the list is read again while a recording is running, ms. */
export const RECORDING_REFRESH_MS = 15_000;

/** Retention bounds of `PUT /api/classes/:id/retention`. */
const MIN_DAYS = 1;
const MAX_DAYS = 3650;

/** `url` (a path with an optional #fragment) with `?lang=` of this page, when one was chosen. */
export function withLang(url: string, search: string = location.search): string {
  const lang = new URLSearchParams(search).get('lang');
  if (!lang) return url;
  const hash = url.indexOf('#');
  const [base, frag] = hash < 0 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}lang=${encodeURIComponent(lang)}${frag}`;
}

/** One recording's row. */
function RecordingRow(props: {
  r: RecordingView;
  onChange: (r: RecordingView) => void;
  onDeleted: (id: string) => void;
  onError: (e: unknown) => void;
}): JSX.Element {
  const { t, lang } = useI18n();
  const { r } = props;
  const [busy, setBusy] = useState(false);
  const days = daysUntil(r.expiresAt);
  const reason = r.reason ? t(`rec.reason.${r.reason}`) : '';
  const share = async (shared: boolean) => {
    setBusy(true);
    props.onError(null);
    try {
      props.onChange(await api<RecordingView>('PATCH', `/api/recordings/${r.id}`, { shared }));
    } catch (e) {
      props.onError(e);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    props.onError(null);
    try {
      await api('DELETE', `/api/recordings/${r.id}`);
      props.onDeleted(r.id);
    } catch (e) {
      props.onError(e);
    }
  };
  const lesson = r.lessonNumber === null ? '—' : t('rec.lessonN', { n: r.lessonNumber });
  const headId = `rec-${r.id}-title`;
  return (
    <li
      class="rec"
      data-recording-id={r.id}
      data-status={r.status}
      data-shared={String(r.shared)}
      aria-labelledby={headId}
    >
      <div class="rec-main">
        <div class="rec-line">
          <strong class="rec-lesson" id={headId}>
            {lesson}
          </strong>
          <time class="rec-date" dateTime={r.startedAt}>
            {dateTimeText(r.startedAt, lang)}
          </time>
          <span class="badge rec-status" data-rec-status={r.status}>
            {t(`rec.status.${r.status}`)}
          </span>
          {reason && !reason.startsWith('rec.reason.') && <span class="rec-reason">{reason}</span>}
        </div>
        <dl class="rec-facts">
          <div>
            <dt>{t('rec.col.duration')}</dt>
            <dd class="num rec-duration">{lengthText(r.durationSec, lang)}</dd>
          </div>
          <div>
            <dt>{t('rec.col.size')}</dt>
            <dd class="num rec-size">{sizeText(r.sizeBytes, lang)}</dd>
          </div>
          {days !== null && (
            <div>
              <dt>{t('rec.col.expires')}</dt>
              <dd class="rec-expires">
                <time
                  dateTime={r.expiresAt}
                  title={t('rec.expiresAt', { at: dateTimeText(r.expiresAt, lang) })}
                  data-days={days}
                >
                  {days === 0 ? t('rec.expiresToday') : t('rec.expires', { n: days })}
                </time>
              </dd>
            </div>
          )}
        </dl>
      </div>
      <div class="rec-actions">
        <a
          class="btn small rec-watch"
          href={withLang(r.replayUrl)}
          target="_blank"
          rel="noopener noreferrer"
          aria-label={r.lessonNumber === null ? undefined : t('rec.watchN', { n: r.lessonNumber })}
        >
          {t('rec.watch')}
        </a>
        <label class="check rec-share-label">
          <input
            type="checkbox"
            class="rec-share"
            checked={r.shared}
            disabled={busy}
            onChange={(e) => void share(e.currentTarget.checked)}
          />
          <span>{t('rec.share')}</span>
        </label>
        <Confirm
          label={t('rec.delete')}
          question={t('rec.deleteQ')}
          confirmLabel={t('rec.deleteConfirm')}
          class="btn small danger rec-delete"
          id={`rec-delete-${r.id}`}
          confirmId={`rec-delete-confirm-${r.id}`}
          danger
          disabled={r.status === 'recording'}
          onConfirm={remove}
        />
      </div>
    </li>
  );
}

/** The class's retention: days, saved with `PUT /api/classes/:id/retention`. */
function Retention(props: { classId: string; days: number; onSaved: (days: number) => void }): JSX.Element {
  const { t } = useI18n();
  const [value, setValue] = useState(String(props.days));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setValue(String(props.days)), [props.days]);
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    const days = Number(value);
    if (!Number.isInteger(days) || days < MIN_DAYS || days > MAX_DAYS) return setError('rec.retentionBad');
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ retentionDays: number }>('PUT', `/api/classes/${props.classId}/retention`, {
        days,
      });
      setSaved(r.retentionDays);
      props.onSaved(r.retentionDays);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="retention" id="retention" onSubmit={save} noValidate>
      <div class="row">
        <label for="retention-days">{t('rec.retention')}</label>
        <input
          type="number"
          id="retention-days"
          min={MIN_DAYS}
          max={MAX_DAYS}
          step={1}
          inputMode="numeric"
          aria-describedby="retention-hint"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" class="btn small" id="retention-save" disabled={busy}>
          {t('rec.retentionSave')}
        </button>
      </div>
      <p class="hint" id="retention-hint">
        {t('rec.retentionHint')}
      </p>
      <ErrorLine error={error} id="retention-error" />
      {saved !== null && (
        <p class="notice-ok" role="status" id="retention-saved">
          {t('rec.retentionSaved', { n: saved })}
        </p>
      )}
    </form>
  );
}

/**
 * The recordings card of a class. The list is read again whenever `refresh` changes (the class
 * page passes its lesson and stream state: a recording starts and ends with them).
 */
export function RecordingsPanel(props: { classId: string; refresh?: string | number }): JSX.Element {
  const { t } = useI18n();
  const [list, setList] = useState<RecordingList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    api<RecordingList>('GET', `/api/classes/${props.classId}/recordings`, undefined, {
      signal: ctl.signal,
    }).then(
      (r) => {
        setList(r);
        setError(null);
      },
      (e: unknown) => !ctl.signal.aborted && setError(e),
    );
    return () => ctl.abort();
  }, [props.classId, props.refresh, reload]);

  const running = list?.recordings.some((r) => r.status === 'recording') ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setTimeout(() => setReload((n) => n + 1), RECORDING_REFRESH_MS);
    return () => clearTimeout(timer);
  }, [running, list]);

  const recordings = [...(list?.recordings ?? [])].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const replace = (r: RecordingView) =>
    setList((l) => l && { ...l, recordings: l.recordings.map((x) => (x.id === r.id ? r : x)) });
  const drop = (id: string) =>
    setList((l) => l && { ...l, recordings: l.recordings.filter((x) => x.id !== id) });

  return (
    <Card id="recordings" title={t('rec.title')} class="recordings-card">
      <ErrorLine error={error} id="recordings-error" />
      {list === null ? (
        error === null && <p class="hint">{t('rec.loading')}</p>
      ) : recordings.length === 0 ? (
        <p class="hint" id="recordings-empty">
          {t('rec.none')}
        </p>
      ) : (
        <ul class="recordings" id="recordings-list" aria-label={t('rec.caption')}>
          {recordings.map((r) => (
            <RecordingRow key={r.id} r={r} onChange={replace} onDeleted={drop} onError={setError} />
          ))}
        </ul>
      )}
      {list && (
        <Retention
          classId={props.classId}
          days={list.retentionDays}
          onSaved={(days) => {
            setList((l) => l && { ...l, retentionDays: days });
            setReload((n) => n + 1); // every expiresAt moves
          }}
        />
      )}
    </Card>
  );
}
