// One class in the teacher console: start / end, the join code big with its QR (and a
// projector view), the RTMP server and stream key with copy buttons (key hidden until "show"),
// key rotation, a monitor share link, a live preview (WHEP) and the chat + roster panel.

import { api, errorText } from '/web/common/api.js';
import { confirmButton, copyButton, el } from '/web/common/page.js';
import { createPreview } from '/web/common/preview.js';
import { createChat } from '/web/chat/chat.js';

/** "123456" → "123 456" (easier to read off a projector). */
const spaced = (code) => (code ? `${code.slice(0, 3)} ${code.slice(3)}` : '');

/**
 * Shows `cls` in `main` and its chat in `chatCol`.
 * @param {{
 *   main: HTMLElement, chatCol: HTMLElement, cls: any, me: any,
 *   i18n: { lang: 'ko' | 'en', t: (id: string, vars?: object) => string },
 *   onChange: (cls: any) => void,
 * }} o `onChange`: the class changed (status, key, code); `i18n` is read live
 * @returns {{ setLanguage(): void, close(): void }}
 */
export function openClassView(o) {
  const { main, chatCol, me, i18n } = o;
  let cls = o.cls;
  let showKey = false;
  let monitor = null; // { url, expiresIn }
  let error = null;
  let previewState = 'connecting';
  let streamLive = false;
  let mediaToken = null;
  let projector = null;
  let closed = false;
  const t = (id, vars) => i18n.t(id, vars);

  const video = /** @type {HTMLVideoElement} */ (
    el('video', { muted: true, playsinline: true, autoplay: true })
  );
  video.muted = true;
  let preview = null;

  async function previewToken(fresh) {
    if (!mediaToken || fresh) {
      const q = new URLSearchParams({
        user_type: 'teacher',
        user_id: me.sub,
        action: 'read',
        stream: cls.id,
      });
      mediaToken = (await api('POST', `/api/token?${q}`)).token;
    }
    return mediaToken;
  }

  function syncPreview() {
    if (cls.status === 'ended') {
      preview?.close();
      preview = null;
      return;
    }
    preview ??= createPreview(video, {
      endpoint: `/${cls.path}/whep`,
      token: previewToken,
      onState: (s) => {
        previewState = s;
        updatePreview();
      },
    });
  }

  const chat = createChat(chatCol, {
    params: { classId: cls.id },
    t,
    lang: i18n.lang,
    onWelcome: (w) => {
      streamLive = w.class.streamLive;
      if (w.class.status !== cls.status) refresh();
      else render();
    },
    onEvent: (e) => {
      if (e.type === 'stream.live' || e.type === 'stream.offline') {
        streamLive = e.type === 'stream.live';
        if (streamLive) preview?.kick();
        render();
      } else if (e.type === 'class.started' || e.type === 'class.ended') {
        refresh();
      }
    },
  });
  chatCol.hidden = false;

  /** Reloads the class (after an event from the channel). */
  async function refresh() {
    try {
      update(await api('GET', `/api/classes/${cls.id}`));
    } catch {
      render();
    }
  }

  function update(next) {
    if (closed) return;
    cls = next;
    o.onChange(cls);
    syncPreview();
    render();
  }

  async function act(path, after) {
    error = null;
    try {
      update(await api('POST', `/api/classes/${cls.id}/${path}`));
      after?.();
    } catch (e) {
      error = e;
      render();
    }
  }

  async function makeMonitorLink() {
    error = null;
    try {
      monitor = await api('POST', `/api/classes/${cls.id}/monitor-link`);
    } catch (e) {
      error = e;
    }
    render();
  }

  function head() {
    const live = cls.status === 'live';
    return el(
      'div',
      { class: 'class-head' },
      el('h1', { id: 'class-title' }, cls.title),
      el(
        'span',
        { class: 'badge', id: 'class-status', dataset: { status: cls.status } },
        t(`status.${cls.status}`),
      ),
      streamLive &&
        cls.status !== 'ended' &&
        el('span', { class: 'badge', dataset: { status: 'onair' } }, t('console.onAir')),
      el(
        'div',
        { class: 'actions' },
        cls.status === 'scheduled' &&
          el(
            'button',
            { type: 'button', class: 'btn go', id: 'start-class', onclick: () => act('start') },
            t('console.start'),
          ),
        cls.status !== 'ended' &&
          confirmButton({
            label: t('console.end'),
            confirm: t('console.endConfirm'),
            className: live ? 'btn danger' : 'btn',
            action: () => act('end'),
          }),
      ),
    );
  }

  function joinCard() {
    const qrSrc = `/api/classes/${cls.id}/qr.svg`;
    return el(
      'section',
      { class: 'card join-card' },
      el(
        'div',
        { class: 'join-main' },
        el('h2', {}, t('console.joinTitle')),
        el(
          'div',
          { class: 'join-code', id: 'join-code', dataset: { code: cls.joinCode } },
          spaced(cls.joinCode),
        ),
        el(
          'div',
          { class: 'row' },
          el('span', { class: 'mono', id: 'join-url' }, cls.joinUrl),
          copyButton(() => cls.joinUrl, t),
        ),
        el(
          'div',
          { class: 'buttons' },
          el('button', { type: 'button', class: 'btn', onclick: openProjector }, t('console.showBig')),
          el(
            'a',
            {
              class: 'btn',
              href: `/api/classes/${cls.id}/qr.png?size=1024`,
              download: `airclass-${cls.joinCode}.png`,
            },
            t('console.qrPng'),
          ),
        ),
      ),
      el('img', { class: 'qr', src: qrSrc, alt: t('console.qrAlt'), width: '168', height: '168' }),
    );
  }

  function streamCard() {
    const { server, streamKey, url } = cls.rtmp;
    return el(
      'section',
      { class: 'card stream-card' },
      el('h2', {}, t('console.streamTitle')),
      el('p', { class: 'hint' }, t('console.streamHint')),
      el(
        'div',
        { class: 'row' },
        el('span', { class: 'label' }, t('console.rtmpServer')),
        el('span', { class: 'mono', id: 'rtmp-server' }, server),
        copyButton(() => server, t),
      ),
      el(
        'div',
        { class: 'row' },
        el('span', { class: 'label' }, t('console.streamKey')),
        showKey
          ? el('span', { class: 'mono', id: 'stream-key' }, streamKey)
          : el(
              'span',
              { class: 'mono secret', id: 'stream-key', 'aria-label': t('console.keyHidden') },
              '••••••••••••',
            ),
        el(
          'button',
          {
            type: 'button',
            class: 'btn small',
            id: 'toggle-key',
            onclick: () => ((showKey = !showKey), render()),
          },
          t(showKey ? 'console.hide' : 'console.show'),
        ),
        copyButton(() => streamKey, t),
      ),
      showKey &&
        el(
          'div',
          { class: 'row' },
          el('span', { class: 'label' }, t('console.fullUrl')),
          el('span', { class: 'mono', id: 'rtmp-url' }, url),
          copyButton(() => url, t),
        ),
      el(
        'div',
        { class: 'buttons' },
        confirmButton({
          label: t('console.rotate'),
          confirm: t('console.rotateConfirm'),
          action: () => act('stream-key', () => (mediaToken = null)),
        }),
      ),
      el('p', { class: 'hint' }, t('console.rotateHint')),
    );
  }

  function monitorCard() {
    return el(
      'section',
      { class: 'card monitor-card' },
      el('h2', {}, t('console.monitorTitle')),
      el('p', { class: 'hint' }, t('console.monitorHint')),
      monitor
        ? el(
            'div',
            { class: 'row' },
            el('span', { class: 'mono clip', id: 'monitor-url', title: monitor.url }, monitor.url),
            copyButton(() => monitor.url, t),
            el(
              'a',
              { class: 'btn small', href: monitor.url, target: '_blank', rel: 'noopener' },
              t('common.open'),
            ),
          )
        : el(
            'button',
            { type: 'button', class: 'btn', id: 'make-monitor', onclick: makeMonitorLink },
            t('console.monitorMake'),
          ),
      monitor &&
        el('p', { class: 'hint' }, t('console.monitorExpires', { h: Math.round(monitor.expiresIn / 3600) })),
    );
  }

  const previewBadge = el('span', { class: 'badge', id: 'preview-state' });
  const previewVeil = el('div', { class: 'veil' });

  /** Updates the preview's badge and veil in place (the video keeps playing). */
  function updatePreview() {
    const state = previewState === 'live' ? 'live' : streamLive ? 'connecting' : 'offline';
    previewBadge.dataset.status = state === 'live' ? 'live' : 'ended';
    previewBadge.textContent = t(`preview.${state}`);
    previewVeil.hidden = state === 'live';
    previewVeil.textContent = t(state === 'offline' ? 'preview.offlineHint' : 'preview.connecting');
  }

  function previewCard() {
    updatePreview();
    return el(
      'section',
      { class: 'card preview-card' },
      el('div', { class: 'preview-head' }, el('h2', {}, t('console.previewTitle')), previewBadge),
      el('div', { class: 'preview' }, video, previewVeil),
    );
  }

  function endedCard() {
    const at = cls.endedAt ? new Date(cls.endedAt).toLocaleString(i18n.lang) : '';
    return el(
      'section',
      { class: 'card' },
      el('h2', {}, t('console.endedTitle')),
      el('p', { class: 'hint' }, t('console.endedHint', { at })),
    );
  }

  function render() {
    if (closed) return;
    const cards =
      cls.status === 'ended' ? [endedCard()] : [joinCard(), streamCard(), previewCard(), monitorCard()];
    const problem = error && el('p', { class: 'form-error', role: 'alert' }, errorText(t, error));
    main.replaceChildren(...[head(), problem, el('div', { class: 'grid' }, ...cards)].filter(Boolean));
    if (projector) drawProjector();
  }

  function openProjector() {
    projector = el('div', { class: 'projector', role: 'dialog', 'aria-modal': 'true' });
    document.body.append(projector);
    drawProjector();
    document.addEventListener('keydown', onKey);
  }

  function drawProjector() {
    const host = cls.joinUrl.replace(/^https?:\/\//, '').replace(/\?.*$/, '');
    projector.replaceChildren(
      el('button', { type: 'button', class: 'btn p-close', onclick: closeProjector }, t('common.close')),
      el('div', { class: 'p-title' }, cls.title),
      el(
        'div',
        { class: 'p-body' },
        el(
          'div',
          {},
          el('div', { class: 'p-title' }, t('console.joinTitle')),
          el('div', { class: 'p-code' }, spaced(cls.joinCode)),
        ),
        el('img', { src: `/api/classes/${cls.id}/qr.svg`, alt: t('console.qrAlt') }),
      ),
      el('div', { class: 'p-url' }, t('console.projectorUrl', { url: host })),
    );
  }

  function closeProjector() {
    projector?.remove();
    projector = null;
    document.removeEventListener('keydown', onKey);
  }

  function onKey(e) {
    if (e.key === 'Escape') closeProjector();
  }

  syncPreview();
  render();

  return {
    setLanguage() {
      chat.setLanguage(t, i18n.lang);
      render();
    },
    close() {
      closed = true;
      closeProjector();
      preview?.close();
      chat.close();
      chatCol.replaceChildren();
      chatCol.hidden = true;
    },
  };
}
