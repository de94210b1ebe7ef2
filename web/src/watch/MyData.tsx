/**
 * "My data": what is recorded about the student in this lesson (`GET /api/me`, DESIGN §11),
 * shown as a dialog. Known fields get a translated label; anything else is shown as sent, so
 * nothing the server records is hidden from the student.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { api, errorText } from '../lib/api.ts';
import { useI18n, type Translate } from '../lib/i18n.ts';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

function label(t: Translate, key: string): string {
  const id = `watch.data.field.${key}`;
  const text = t(id);
  return text === id ? key : text;
}

function value(t: Translate, lang: string, v: unknown, depth = 0): ComponentChildren {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return t(v ? 'watch.data.yes' : 'watch.data.no');
  if (typeof v === 'string' && TIME.test(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toLocaleString(lang);
  }
  if (typeof v !== 'object') return String(v);
  if (depth > 3) return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return t('watch.data.none');
    return (
      <ul class="data-list">
        {v.map((item, i) => (
          <li key={i}>{value(t, lang, item, depth + 1)}</li>
        ))}
      </ul>
    );
  }
  return (
    <dl class="data-fields">
      {Object.entries(v as Record<string, unknown>).map(([k, item]) => (
        <div key={k}>
          <dt>{label(t, k)}</dt>
          <dd>{value(t, lang, item, depth + 1)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The dialog; `onClose` returns focus to the button that opened it (the caller's job). */
export function MyData({ token, onClose }: { token: string; onClose: () => void }) {
  const { t, lang } = useI18n();
  const [data, setData] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    const ctl = new AbortController();
    api('GET', '/api/me', undefined, { token, signal: ctl.signal }).then(
      setData,
      (e) => ctl.signal.aborted || setError(e),
    );
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('keydown', onKey);
    return () => {
      ctl.abort();
      document.removeEventListener('keydown', onKey);
    };
  }, [token]);

  return (
    <div class="dialog-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class="dialog card"
        role="dialog"
        aria-modal="true"
        aria-labelledby="my-data-title"
        id="my-data-panel"
      >
        <h2 id="my-data-title" tabIndex={-1} ref={heading}>
          {t('watch.data.title')}
        </h2>
        <p class="hint">{t('watch.data.lead')}</p>
        <div class="data-body">
          {error ? (
            <p class="form-error" role="alert">
              {errorText(t, error)}
            </p>
          ) : data === undefined ? (
            <p role="status">{t('watch.data.loading')}</p>
          ) : data && typeof data === 'object' && Object.keys(data).length > 0 ? (
            value(t, lang, data)
          ) : (
            <p>{t('watch.data.empty')}</p>
          )}
        </div>
        <button type="button" class="btn" onClick={onClose}>
          {t('watch.data.close')}
        </button>
      </div>
    </div>
  );
}
