// Teacher console (/console): who is signed in, the class list with "new class", one class at
// a time (class-view.js) and, for admins, the teacher accounts (admin-view.js). The session is
// the httpOnly cookie set at /login; without one the page goes there.

/* global history */
import { api, ApiError, errorText } from '/web/common/api.js';
import { el, langSuffix, setupLanguage } from '/web/common/page.js';
import { openAdminView } from '/web/console/admin-view.js';
import { openClassView } from '/web/console/class-view.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const STATUS_ORDER = ['live', 'scheduled', 'ended'];

let me = null;
let classes = [];
let view = null; // the open class or admin view
let selected = null; // class id, or 'admin'
let sideError = null;
const i18n = setupLanguage(() => {
  renderSide();
  view?.setLanguage();
});

function toLogin() {
  location.replace(`/login?next=${encodeURIComponent('/console')}${langSuffix('&')}`);
}

function setUrl() {
  const url = new URL(location.href);
  url.searchParams.delete('class');
  url.searchParams.delete('view');
  if (selected === 'admin') url.searchParams.set('view', 'teachers');
  else if (selected) url.searchParams.set('class', selected);
  history.replaceState(null, '', url);
}

function select(id) {
  if (id === selected && view) return;
  view?.close();
  view = null;
  selected = id;
  setUrl();
  const main = $('main');
  const chatCol = $('chat-col');
  const cls = classes.find((c) => c.id === id);
  if (id === 'admin' && me.role === 'admin') {
    view = openAdminView({ main, i18n });
  } else if (cls) {
    view = openClassView({ main, chatCol, cls, me, i18n, onChange: onClassChange });
  } else {
    selected = null;
    main.replaceChildren(
      el('p', { class: 'empty' }, i18n.t(classes.length ? 'console.pick' : 'console.none')),
    );
  }
  $('console').classList.toggle('no-chat', !cls || id === 'admin');
  renderSide();
}

function onClassChange(cls) {
  classes = classes.map((c) => (c.id === cls.id ? cls : c));
  renderSide();
}

function renderSide() {
  const t = i18n.t;
  $('who').textContent = me ? `${me.user?.name ?? me.name ?? ''} · ${t(`role.${me.role}`)}` : '';
  $('new-title').placeholder = t('console.newClassPlaceholder');
  $('side-error').hidden = !sideError;
  $('side-error').textContent = sideError ? errorText(t, sideError) : '';
  const groups = STATUS_ORDER.map((status) => ({ status, list: classes.filter((c) => c.status === status) }));
  $('class-list').replaceChildren(
    ...groups
      .filter((g) => g.list.length > 0)
      .flatMap((g) => [
        el('h3', {}, t(`console.group.${g.status}`)),
        ...g.list.map((c) =>
          el(
            'button',
            {
              type: 'button',
              class: 'class-item',
              'aria-current': String(c.id === selected),
              dataset: { id: c.id },
              onclick: () => select(c.id),
            },
            el('span', { class: 't' }, c.title),
            el('span', { class: 'badge', dataset: { status: c.status } }, t(`status.${c.status}`)),
          ),
        ),
      ]),
  );
  $('admin-nav').hidden = me?.role !== 'admin';
  $('open-admin').setAttribute('aria-current', String(selected === 'admin'));
}

async function createClass(e) {
  e.preventDefault();
  const title = /** @type {HTMLInputElement} */ ($('new-title')).value.trim();
  if (!title) return $('new-title').focus();
  $('create-class').setAttribute('disabled', '');
  try {
    const cls = await api('POST', '/api/classes', { title });
    classes = [cls, ...classes];
    /** @type {HTMLInputElement} */ ($('new-title')).value = '';
    sideError = null;
    select(cls.id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return toLogin();
    sideError = err;
    renderSide();
  } finally {
    $('create-class').removeAttribute('disabled');
  }
}

async function logout() {
  await api('POST', '/api/auth/logout').catch(() => {});
  location.assign(`/login${langSuffix('?')}`);
}

async function boot() {
  try {
    me = await api('GET', '/api/auth/me');
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return toLogin();
    $('main').replaceChildren(el('p', { class: 'form-error' }, errorText(i18n.t, e)));
    return;
  }
  if (me.role !== 'teacher' && me.role !== 'admin') return toLogin();
  try {
    classes = (await api('GET', '/api/classes')).classes;
  } catch (e) {
    sideError = e;
  }
  classes.sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  const params = new URLSearchParams(location.search);
  const wanted = params.get('view') === 'teachers' ? 'admin' : params.get('class');
  // An admin sees every teacher's classes: open none of them unasked (opening one joins its
  // roster); a teacher starts in their newest class that has not ended.
  const first = me.role === 'admin' ? 'admin' : (classes.find((c) => c.status !== 'ended') ?? classes[0])?.id;
  select(wanted && (wanted === 'admin' || classes.some((c) => c.id === wanted)) ? wanted : (first ?? null));
}

$('new-class').addEventListener('submit', createClass);
$('logout').addEventListener('click', logout);
$('open-admin').addEventListener('click', () => select('admin'));
// Leaving: end the preview's WHEP session on the server (keepalive DELETE) and the socket.
window.addEventListener('pagehide', (e) => !e.persisted && view?.close());
boot();
