/**
 * Sign-in for teachers and admins: POST /api/auth/login sets the httpOnly session cookie, then
 * the browser goes to `?next=` (a path of this site only: {@link safeNext}) or the console. A
 * visitor who is already signed in goes straight on.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorText } from '../lib/api.ts';
import { Header } from '../lib/components/Header.tsx';
import { Notice } from '../lib/components/Notice.tsx';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import { safeNext } from '../lib/safe-next.ts';

/** Where to go after sign-in, with the chosen language. */
function target(): string {
  const next = safeNext(new URLSearchParams(location.search).get('next'), '/console');
  return next + (next.includes('lang=') ? '' : langSuffix(next.includes('?') ? '&' : '?'));
}

/** The sign-in form. */
export function LoginPage() {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    emailRef.current?.focus();
    api<{ role?: string } | null>('GET', '/api/auth/me')
      .then((me) => {
        if (me && (me.role === 'teacher' || me.role === 'admin')) location.replace(target());
      })
      .catch(() => {});
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!email.trim() || !password) return setError('login.empty');
    setBusy(true);
    try {
      await api('POST', '/api/auth/login', { email: email.trim(), password });
      location.assign(target());
    } catch (err) {
      setError(err);
      passwordRef.current?.select();
      setBusy(false);
    }
  };

  const message = error === null ? '' : typeof error === 'string' ? t(error) : errorText(t, error);
  return (
    <>
      <Header />
      <main class="single">
        <form class="card" id="form" noValidate onSubmit={submit}>
          <h1>{t('login.title')}</h1>
          <p class="lead">{t('login.lead')}</p>
          <Notice kind="error" id="error">
            {message}
          </Notice>
          <label class="field">
            <span>{t('login.email')}</span>
            <input
              type="email"
              id="email"
              name="email"
              autoComplete="username"
              required
              ref={emailRef}
              value={email}
              onInput={(ev) => setEmail(ev.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>{t('login.password')}</span>
            <input
              type="password"
              id="password"
              name="password"
              autoComplete="current-password"
              required
              ref={passwordRef}
              value={password}
              onInput={(ev) => setPassword(ev.currentTarget.value)}
            />
          </label>
          <button type="submit" class="btn primary" id="submit" disabled={busy}>
            {t('login.submit')}
          </button>
          <p class="below">
            <a href={`/join${langSuffix('?')}`} id="join-link">
              {t('login.studentLink')}
            </a>
          </p>
        </form>
      </main>
    </>
  );
}
