// Sign-in for teachers and admins: POST /api/auth/login sets the httpOnly session cookie, then
// the browser goes to `?next=` (same origin only) or the console.

import { api, errorText } from '/web/common/api.js';
import { langSuffix, safeNext, setupLanguage } from '/web/common/page.js';

const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const i18n = setupLanguage(() => lastError && showError(lastError));
const params = new URLSearchParams(location.search);
const next = safeNext(params.get('next'), '/console');
let lastError = null;

function target() {
  return next + (next.includes('lang=') ? '' : langSuffix(next.includes('?') ? '&' : '?'));
}

function showError(e) {
  lastError = e;
  $('error').textContent = e === 'empty' ? i18n.t('login.empty') : errorText(i18n.t, e);
  $('error').hidden = false;
}

async function submit(event) {
  event.preventDefault();
  const email = $('email').value.trim();
  const password = $('password').value;
  if (!email || !password) return showError('empty');
  $('submit').disabled = true;
  try {
    await api('POST', '/api/auth/login', { email, password });
    location.assign(target());
  } catch (e) {
    showError(e);
    $('password').select();
  } finally {
    $('submit').disabled = false;
  }
}

$('join-link').href = `/join${langSuffix('?')}`;
$('form').addEventListener('submit', submit);
// Already signed in (a teacher or admin): straight on.
api('GET', '/api/auth/me')
  .then((me) => {
    if (me && (me.role === 'teacher' || me.role === 'admin')) location.replace(target());
  })
  .catch(() => {});
$('email').focus();
