// Mounts the class chat + roster beside the video on the watch page (below it on phones) when
// the page's token is a class token from POST /api/join (audience airclass-api, a class). A
// media-only token (`airclass token`) leaves the page exactly as it was. Separate from
// watch.js on purpose: the player and `window.airclass` are not touched.

/* global atob, TextDecoder, MutationObserver */
import { createTranslator, pickLanguage } from '/web/i18n.js';
import { createChat } from '/web/chat/chat.js';

/**
 * The payload of a JWT without verifying it (the server verifies; this only decides whether
 * to show the chat). Null when it is not a JWT.
 * @param {string} jwt
 */
export function jwtPayload(jwt) {
  const part = jwt.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** True when the token opens the class channel (a student's or monitor's class token). */
export function isClassToken(payload) {
  if (!payload || typeof payload.cls !== 'string') return false;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return aud.includes('airclass-api');
}

function mount(token) {
  const stage = document.getElementById('stage');
  if (!stage) return null;
  const room = document.createElement('div');
  room.className = 'room';
  const aside = document.createElement('aside');
  aside.className = 'side-chat';
  aside.id = 'chat';
  stage.replaceWith(room);
  room.append(stage, aside);

  let lang = pickLanguage(location.search, navigator.languages ?? [navigator.language]);
  const chat = createChat(aside, {
    params: { token },
    t: createTranslator(lang),
    lang,
    onWelcome: (w) => {
      // The bar shows the media path; a class has a title.
      const path = document.getElementById('path');
      if (path && w.class.title) path.textContent = w.class.title;
    },
  });
  // watch.js switches the language by re-translating the page, which sets <html lang>.
  new MutationObserver(() => {
    const next = document.documentElement.lang === 'en' ? 'en' : 'ko';
    if (next === lang) return;
    lang = next;
    chat.setLanguage(createTranslator(lang), lang);
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  window.addEventListener('pagehide', (e) => !e.persisted && chat.close());
  return chat;
}

const token = new URLSearchParams(location.search).get('jwt') ?? '';
const chat = isClassToken(jwtPayload(token)) ? mount(token) : null;
/** For tests and debugging: the chat panel's state (undefined without a class token). */
window.airclassChat = chat ?? undefined;
