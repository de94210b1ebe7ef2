// Student join: the 6-digit code (prefilled from `?code=`, which the class QR points at) and a
// name → POST /api/join → the watch page with the student token. The name is remembered on
// this device for the next class.

/* global localStorage */
import { api, errorText } from '/web/common/api.js';
import { langSuffix, setupLanguage } from '/web/common/page.js';

const NAME_KEY = 'airclass.name';
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
let lastError = null;
const i18n = setupLanguage(() => lastError && showError(lastError));

/** Only the digits of what was typed or pasted ("123 456" → "123456"). */
const digits = (s) => s.replace(/\D/g, '').slice(0, 6);

function showError(e) {
  lastError = e;
  $('error').textContent = typeof e === 'string' ? i18n.t(e) : errorText(i18n.t, e);
  $('error').hidden = false;
}

function readName() {
  try {
    return localStorage.getItem(NAME_KEY) ?? '';
  } catch {
    return '';
  }
}

function keepName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // private mode: fine
  }
}

async function submit(event) {
  event.preventDefault();
  const code = digits($('code').value);
  const name = $('name').value.trim();
  if (code.length !== 6) {
    $('code').focus();
    return showError('join.badCode');
  }
  if (!name) {
    $('name').focus();
    return showError('join.noName');
  }
  $('submit').disabled = true;
  try {
    const joined = await api('POST', '/api/join', { code, name });
    keepName(name);
    // Same origin as this page (the API's watchUrl names the public host, which may differ).
    location.assign(`/watch/${joined.path}?jwt=${encodeURIComponent(joined.token)}${langSuffix('&')}`);
  } catch (e) {
    showError(e);
    $('submit').disabled = false;
  }
}

$('code').value = digits(new URLSearchParams(location.search).get('code') ?? '');
$('name').value = readName();
$('code').addEventListener('input', () => {
  const v = digits($('code').value);
  if (v !== $('code').value) $('code').value = v;
});
$('form').addEventListener('submit', submit);
$('login-link').href = `/login${langSuffix('?')}`;
($('code').value.length === 6 ? $('name') : $('code')).focus();
