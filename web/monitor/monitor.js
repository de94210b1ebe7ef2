// Monitor (TA) page, opened from the teacher's share link `/monitor#token=…` (the token stays
// in the fragment, out of logs and Referer): the class picture, the chat (read only) and the
// roster. The token holds read on the class path and the class channel.

import { setupLanguage } from '/web/common/page.js';
import { createPreview } from '/web/common/preview.js';
import { createChat } from '/web/chat/chat.js';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
let chat = null;
let preview = null;
let previewState = 'connecting';
let title = '';
const i18n = setupLanguage(() => {
  chat?.setLanguage(i18n.t, i18n.lang);
  render();
});

function render() {
  $('title').textContent = title;
  document.title = title ? `${title} · AirClass` : 'AirClass';
  const veil = $('veil');
  veil.hidden = previewState === 'live';
  if (!token) veil.textContent = i18n.t('monitor.noToken');
  else veil.textContent = i18n.t(previewState === 'offline' ? 'preview.offlineHint' : 'preview.connecting');
}

if (token) {
  chat = createChat($('chat'), {
    params: { token },
    t: i18n.t,
    lang: i18n.lang,
    onWelcome: (w) => {
      title = w.class.title;
      preview ??= createPreview(/** @type {HTMLVideoElement} */ ($('video')), {
        endpoint: `/live/${encodeURIComponent(w.class.id)}/whep`,
        token: async () => token,
        onState: (s) => {
          previewState = s;
          render();
        },
      });
      render();
    },
    onEvent: (e) => {
      if (e.type === 'stream.live') preview?.kick();
    },
  });
}
window.addEventListener('pagehide', (e) => {
  if (e.persisted) return;
  preview?.close();
  chat?.close();
});
render();
