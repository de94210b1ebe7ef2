/**
 * Student join: the 6-digit code (prefilled from `?code=`, which the class QR points at) and a
 * name → POST /api/join → the watch page with the student token. Shows what is recorded about
 * the student (DESIGN §11) before they join. The name is remembered on this device.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../lib/api.ts';
import { Header } from '../lib/components/Header.tsx';
import { Notice } from '../lib/components/Notice.tsx';
import { langSuffix, useI18n } from '../lib/i18n.ts';

const NAME_KEY = 'airclass.name';

/** Only the digits of what was typed or pasted ("123 456" → "123456"). */
export const digits = (s: string): string => s.replace(/\D/g, '').slice(0, 6);

function readName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function keepName(name: string): void {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // private mode: fine
  }
}

interface Joined {
  token: string;
  path: string;
}

/** The join form. */
export function JoinPage() {
  const { t } = useI18n();
  const [code, setCode] = useState(() => digits(new URLSearchParams(location.search).get('code') ?? ''));
  const [name, setName] = useState(readName);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (code.length === 6 ? nameRef : codeRef).current?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const name_ = name.trim();
    if (code.length !== 6) {
      codeRef.current?.focus();
      return setError('join.badCode');
    }
    if (!name_) {
      nameRef.current?.focus();
      return setError('join.noName');
    }
    setBusy(true);
    try {
      const joined = await api<Joined>('POST', '/api/join', { code, name: name_ });
      keepName(name_);
      // Same origin as this page (the API's watchUrl names the public host, which may differ).
      location.assign(`/watch/${joined.path}?jwt=${encodeURIComponent(joined.token)}${langSuffix('&')}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const message = error === null ? '' : typeof error === 'string' ? t(error) : joinErrorText(t, error);
  return (
    <>
      <Header />
      <main class="single">
        <form class="card" id="form" noValidate onSubmit={submit}>
          <h1>{t('join.title')}</h1>
          <p class="lead">{t('join.lead')}</p>
          <Notice kind="error" id="error">
            {message}
          </Notice>
          <label class="field">
            <span>{t('join.code')}</span>
            <input
              type="text"
              id="code"
              class="code-input"
              name="code"
              inputMode="numeric"
              autoComplete="off"
              pattern="[0-9]{6}"
              placeholder="000000"
              required
              ref={codeRef}
              value={code}
              onInput={(ev) => {
                const v = digits(ev.currentTarget.value);
                ev.currentTarget.value = v;
                setCode(v);
              }}
            />
          </label>
          <label class="field">
            <span>{t('join.name')}</span>
            <input
              type="text"
              id="name"
              name="name"
              maxLength={40}
              autoComplete="nickname"
              required
              ref={nameRef}
              value={name}
              onInput={(ev) => setName(ev.currentTarget.value)}
            />
          </label>
          <button type="submit" class="btn primary" id="submit" disabled={busy}>
            {t('join.submit')}
          </button>
          <section class="notice data-notice" aria-labelledby="data-title">
            <h2 id="data-title">{t('join.dataTitle')}</h2>
            <p class="hint">{t('join.notice')}</p>
          </section>
          <p class="below">
            <a href={`/login${langSuffix('?')}`} id="login-link">
              {t('join.teacherLink')}
            </a>
          </p>
        </form>
      </main>
    </>
  );
}

/** The join errors a student can act on, in their words; others as the common text. */
function joinErrorText(
  t: (id: string, vars?: Record<string, string | number>) => string,
  e: unknown,
): string {
  const code = (e as { code?: string } | null)?.code;
  const own = `join.error.${code}`;
  const text = t(own);
  return text !== own ? text : errorText(t, e);
}
