/**
 * The admin's accounts view: create a teacher (name, email, a first password to hand over),
 * the list of accounts with disable / enable and "reset password" (`PATCH /api/users/:id`;
 * both sign the user out everywhere).
 */
import { GeminiKeyCard } from './ai/AiSettings.tsx';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { UserInfo } from './types.ts';
import { Card, Confirm, ErrorLine } from './ui.tsx';

/** A readable random password (no look-alike characters), 12 characters. */
export function randomPassword(): string {
  const chars = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}

/** The new-teacher form. */
function NewTeacher(props: { onCreated: () => void }): JSX.Element {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { name: name.trim(), email: email.trim(), password, role: 'teacher' };
    if (!body.name || !body.email || password.length < 8) {
      setCreated(null);
      return setError('admin.incomplete');
    }
    setBusy(true);
    try {
      await api('POST', '/api/users', body);
      setCreated({ email: body.email, password });
      setError(null);
      setName('');
      setEmail('');
      setPassword('');
      props.onCreated();
    } catch (err) {
      setCreated(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" id="teacher-form" onSubmit={submit} noValidate aria-labelledby="teacher-form-title">
      <h2 id="teacher-form-title">{t('admin.newTeacher')}</h2>
      <ErrorLine error={error} />
      {created && (
        <p class="notice-ok" id="teacher-created" role="status">
          {t('admin.created', created)}
        </p>
      )}
      <label class="field">
        <span>{t('admin.name')}</span>
        <input
          type="text"
          id="teacher-name"
          maxLength={100}
          autocomplete="off"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>{t('admin.email')}</span>
        <input
          type="email"
          id="teacher-email"
          maxLength={320}
          autocomplete="off"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
      </label>
      <label class="field" for="teacher-password">
        <span>{t('admin.password')}</span>
      </label>
      <div class="row">
        <input
          type="text"
          id="teacher-password"
          maxLength={200}
          autocomplete="new-password"
          aria-describedby="teacher-password-hint"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="button" class="btn small" onClick={() => setPassword(randomPassword())}>
          {t('admin.generate')}
        </button>
      </div>
      <p class="hint" id="teacher-password-hint">
        {t('admin.passwordHint')}
      </p>
      <button type="submit" class="btn primary" id="create-teacher" disabled={busy}>
        {t('admin.create')}
      </button>
    </form>
  );
}

/** One account row with its actions. */
function UserRow(props: { u: UserInfo; self: boolean; onChanged: () => void }): JSX.Element {
  const { t } = useI18n();
  const { u } = props;
  const [error, setError] = useState<unknown>(null);
  const [reset, setReset] = useState<string | null>(null);
  const patch = async (body: Record<string, unknown>) => {
    setError(null);
    try {
      await api('PATCH', `/api/users/${u.id}`, body);
      props.onChanged();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  const resetPassword = async () => {
    const pw = randomPassword();
    if (await patch({ password: pw })) setReset(pw);
  };
  return (
    <tr data-id={u.id} data-email={u.email} data-disabled={String(Boolean(u.disabled))}>
      <td>{u.name}</td>
      <td>{u.email}</td>
      <td>{t(`role.${u.role}`)}</td>
      <td>
        <span class="badge" data-status={u.disabled ? 'ended' : 'live'}>
          {t(u.disabled ? 'admin.disabled' : 'admin.active')}
        </span>
      </td>
      <td class="actions">
        {!props.self && (
          <Confirm
            label={t(u.disabled ? 'admin.enable' : 'admin.disable')}
            question={t(u.disabled ? 'admin.enableQ' : 'admin.disableQ', { name: u.name })}
            class="btn small user-toggle"
            danger={!u.disabled}
            onConfirm={() => patch({ disabled: !u.disabled })}
          />
        )}
        <Confirm
          label={t('admin.reset')}
          question={t('admin.resetQ', { name: u.name })}
          class="btn small user-reset"
          onConfirm={resetPassword}
        />
        {reset && (
          <p class="notice-ok user-new-password" role="status">
            {t('admin.resetDone', { password: reset })}
          </p>
        )}
        <ErrorLine error={error} />
      </td>
    </tr>
  );
}

/** The accounts view. */
export function AdminView(props: { selfId: string }): JSX.Element {
  const { t } = useI18n();
  const [users, setUsers] = useState<UserInfo[]>([]);
  const [error, setError] = useState<unknown>(null);
  const load = async () => {
    try {
      setUsers((await api<{ users: UserInfo[] }>('GET', '/api/users')).users);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => void load(), []);
  return (
    <main class="main admin" id="main">
      <div class="class-head">
        <h1>{t('admin.title')}</h1>
      </div>
      <div class="admin-grid">
        <NewTeacher onCreated={load} />
        <Card id="accounts" title={t('admin.accounts')}>
          <ErrorLine error={error} />
          <table class="users">
            <thead>
              <tr>
                <th scope="col">{t('admin.name')}</th>
                <th scope="col">{t('admin.email')}</th>
                <th scope="col">{t('admin.role')}</th>
                <th scope="col">{t('admin.state')}</th>
                <th scope="col">{t('admin.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <UserRow key={u.id} u={u} self={u.id === props.selfId} onChanged={load} />
              ))}
            </tbody>
          </table>
        </Card>
        <GeminiKeyCard />
      </div>
    </main>
  );
}
