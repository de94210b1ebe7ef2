// Helpers shared by the AirClass pages (login, join, console, monitor): language set-up with the
// header's switch button, a small DOM builder, copy-to-clipboard and two-step confirm buttons.

/* global history */
import { applyTranslations, createTranslator, pickLanguage } from '/web/i18n.js';

/**
 * Picks the language (`?lang=` wins, else the browser's), translates the page and wires the
 * `#lang` button, which switches ko ↔ en, keeps the choice in the URL and calls `onChange`.
 * @param {() => void} [onChange] re-renders what the page built with `i18n.t`
 * @returns {{ lang: 'ko' | 'en', t: (id: string, vars?: Record<string, string | number>) => string }}
 */
export function setupLanguage(onChange) {
  const i18n = { lang: pickLanguage(location.search, navigator.languages ?? [navigator.language]), t: null };
  i18n.t = createTranslator(i18n.lang);
  const button = document.getElementById('lang');
  const apply = () => {
    applyTranslations(document, i18n.lang);
    if (button) button.textContent = i18n.t('lang.switch');
  };
  apply();
  button?.addEventListener('click', () => {
    i18n.lang = i18n.lang === 'ko' ? 'en' : 'ko';
    i18n.t = createTranslator(i18n.lang);
    const url = new URL(location.href);
    url.searchParams.set('lang', i18n.lang);
    history.replaceState(null, '', url);
    apply();
    onChange?.();
  });
  return i18n;
}

/**
 * `?lang=xx` to append to links to other pages when the user chose a language here ('' else).
 * @param {'&' | '?'} sep
 */
export function langSuffix(sep) {
  const forced = new URLSearchParams(location.search).get('lang');
  return forced ? `${sep}lang=${encodeURIComponent(forced)}` : '';
}

/**
 * Builds an element: `el('button', { class: 'btn', onclick: fn }, 'text', child)`. Keys starting
 * with `on` add listeners, `dataset` sets data-*, `hidden`/`disabled` are booleans, other keys
 * are attributes. Children are nodes or strings (always text: user content is never parsed).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'hidden' || key === 'disabled') node[key] = Boolean(value);
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/**
 * Copies text to the clipboard. `navigator.clipboard` exists only on https and localhost, and
 * schools often reach AirClass over plain http on the LAN: fall back to a selected textarea.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the textarea
  }
  const area = el('textarea', { readonly: true, style: 'position:fixed;top:-1000px;opacity:0' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * A "copy" button for `value()`: shows "Copied" for a moment after a click.
 * @param {() => string} value
 * @param {(id: string) => string} t
 * @param {string} [labelId] i18n id of the label
 */
export function copyButton(value, t, labelId = 'common.copy') {
  const button = el('button', { type: 'button', class: 'btn small' }, t(labelId));
  let timer = null;
  button.addEventListener('click', async () => {
    const ok = await copyText(value());
    button.textContent = t(ok ? 'common.copied' : 'common.copyFailed');
    button.classList.toggle('done', ok);
    clearTimeout(timer);
    timer = setTimeout(() => {
      button.textContent = t(labelId);
      button.classList.remove('done');
    }, 1500);
  });
  return button;
}

/**
 * A button that asks once before acting: the first click turns it into "Sure? <label>" for a
 * few seconds, the second runs `action`. No modal dialog (works with touch and screen readers).
 * @param {{ label: string, confirm: string, className?: string, action: () => unknown }} o
 *   label/confirm: translated texts
 */
export function confirmButton({ label, confirm, className = 'btn', action }) {
  const button = el('button', { type: 'button', class: className }, label);
  let armed = null;
  button.addEventListener('click', () => {
    if (armed) {
      clearTimeout(armed);
      armed = null;
      button.textContent = label;
      button.classList.remove('armed');
      action();
      return;
    }
    button.textContent = confirm;
    button.classList.add('armed');
    armed = setTimeout(() => {
      armed = null;
      button.textContent = label;
      button.classList.remove('armed');
    }, 4000);
  });
  return button;
}

/**
 * A same-origin path to go to after sign-in (`?next=`), or the fallback. Refuses other
 * origins and protocol-relative URLs, so the link cannot send a teacher elsewhere.
 * @param {string | null} next
 * @param {string} fallback
 */
export function safeNext(next, fallback) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}
