// The admin's part of the console: create teacher accounts (name, email, a first password to
// hand over) and list the accounts.

/* global crypto */
import { api, errorText } from '/web/common/api.js';
import { el } from '/web/common/page.js';

/** A readable random password (no look-alike characters), 12 characters. */
function randomPassword() {
  const chars = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}

/**
 * Shows the teacher accounts panel in `main`.
 * @param {{ main: HTMLElement, i18n: { lang: string, t: (id: string, vars?: object) => string } }} o
 * @returns {{ setLanguage(): void, close(): void }}
 */
export function openAdminView(o) {
  const { main, i18n } = o;
  const t = (id, vars) => i18n.t(id, vars);
  let users = [];
  let error = null;
  let created = null; // { email, password }
  let loadError = null;
  let closed = false;

  const name = el('input', { type: 'text', id: 'teacher-name', maxlength: '100', autocomplete: 'off' });
  const email = el('input', { type: 'email', id: 'teacher-email', maxlength: '320', autocomplete: 'off' });
  const password = el('input', {
    type: 'text',
    id: 'teacher-password',
    maxlength: '200',
    autocomplete: 'new-password',
  });
  const submit = el('button', { type: 'submit', class: 'btn primary', id: 'create-teacher' });

  async function load() {
    try {
      users = (await api('GET', '/api/users')).users;
      loadError = null;
    } catch (e) {
      loadError = e;
    }
    render();
  }

  async function onSubmit(e) {
    e.preventDefault();
    const body = {
      name: name.value.trim(),
      email: email.value.trim(),
      password: password.value,
      role: 'teacher',
    };
    if (!body.name || !body.email || body.password.length < 8) {
      error = 'admin.incomplete';
      created = null;
      return render();
    }
    submit.disabled = true;
    try {
      await api('POST', '/api/users', body);
      created = { email: body.email, password: body.password };
      error = null;
      name.value = '';
      email.value = '';
      password.value = '';
      await load();
    } catch (err) {
      error = err;
      created = null;
      render();
    } finally {
      submit.disabled = false;
    }
  }

  function field(labelId, input, extra) {
    return el(
      'label',
      { class: 'field' },
      el('span', {}, t(labelId)),
      extra ? el('div', { class: 'row' }, input, extra) : input,
    );
  }

  function render() {
    if (closed) return;
    submit.textContent = t('admin.create');
    const form = el(
      'form',
      { class: 'card', id: 'teacher-form', onsubmit: onSubmit, novalidate: true },
      el('h2', {}, t('admin.newTeacher')),
      error &&
        el(
          'p',
          { class: 'form-error', role: 'alert' },
          typeof error === 'string' ? t(error) : errorText(t, error),
        ),
      created &&
        el(
          'p',
          { class: 'notice-ok', id: 'teacher-created' },
          t('admin.created', { email: created.email, password: created.password }),
        ),
      field('admin.name', name),
      field('admin.email', email),
      field(
        'admin.password',
        password,
        el(
          'button',
          { type: 'button', class: 'btn small', onclick: () => (password.value = randomPassword()) },
          t('admin.generate'),
        ),
      ),
      el('p', { class: 'hint' }, t('admin.passwordHint')),
      submit,
    );
    const list = el(
      'section',
      { class: 'card' },
      el('h2', {}, t('admin.accounts')),
      loadError && el('p', { class: 'form-error' }, errorText(t, loadError)),
      el(
        'table',
        { class: 'users' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', {}, t('admin.name')),
            el('th', {}, t('admin.email')),
            el('th', {}, t('admin.role')),
          ),
        ),
        el(
          'tbody',
          {},
          ...users.map((u) =>
            el(
              'tr',
              { dataset: { id: u.id } },
              el('td', {}, u.name),
              el('td', {}, u.email),
              el('td', {}, t(`role.${u.role}`)),
            ),
          ),
        ),
      ),
    );
    main.replaceChildren(
      el('div', { class: 'class-head' }, el('h1', {}, t('admin.title'))),
      el('div', { class: 'admin-grid' }, form, list),
    );
  }

  render();
  load();

  return {
    setLanguage: render,
    close() {
      closed = true;
    },
  };
}
