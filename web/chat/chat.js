// The chat + roster panel of a class, used by the teacher console, the student watch page and
// the monitor page. It talks to `/ws` through channel.js (reconnect with `since=`), shows chat,
// class events (started, ended, stream live / offline, chat locked) and the server's errors, and
// lets a teacher delete messages and lock the chat. Strings come from web/i18n.js (`chat.*`).

import { el } from '/web/common/page.js';
import { openChannel } from '/web/chat/channel.js';

const MAX_CHARS = 1000; // MAX_CHAT_CHARS on the server
const ERROR_SHOW_MS = 6000;
const ROLE_ORDER = { teacher: 0, student: 1, monitor: 2 };

/** The note (i18n id) a class event shows in the log, or null for none. */
function noteOf(msg) {
  switch (msg.type) {
    case 'class.started':
      return 'chat.note.started';
    case 'class.ended':
      return 'chat.note.ended';
    case 'stream.live':
      return 'chat.note.streamLive';
    case 'stream.offline':
      return 'chat.note.streamOffline';
    case 'chat.locked':
      return msg.locked ? 'chat.note.locked' : 'chat.note.unlocked';
    default:
      return null;
  }
}

/**
 * Mounts the chat panel in `root` and connects it.
 * @param {HTMLElement} root an empty container
 * @param {{
 *   params: Record<string, string>,
 *   t: (id: string, vars?: Record<string, string | number>) => string,
 *   lang: 'ko' | 'en',
 *   onEvent?: (msg: any) => void,
 *   onWelcome?: (welcome: any) => void,
 * }} opts `params`: `{ token }` or `{ classId }` (see channel.js); `onEvent`: every class event
 * @returns {{ setLanguage(t: Function, lang: string): void, close(): void, state(): object }}
 */
export function createChat(root, opts) {
  let { t, lang } = opts;
  let you = null;
  let cls = null;
  let status = 'connecting';
  let tab = 'chat';
  let generation = 0; // bumps on each welcome; pending sends remember theirs
  let errorTimer = null;
  const items = []; // { kind: 'msg', ev } | { kind: 'note', id, at, seq } | { kind: 'pending', clientId, text, gen }
  const byId = new Map();
  const seenSeq = new Set();
  const roster = new Map();

  const tabChat = el('button', {
    type: 'button',
    role: 'tab',
    class: 'chat-tab',
    onclick: () => show('chat'),
  });
  const tabPeople = el('button', {
    type: 'button',
    role: 'tab',
    class: 'chat-tab',
    onclick: () => show('people'),
  });
  const lockButton = el('button', {
    type: 'button',
    class: 'btn small chat-lock',
    hidden: true,
    onclick: toggleLock,
  });
  const conn = el('div', { class: 'chat-conn', role: 'status' });
  const banner = el('div', { class: 'chat-banner', hidden: true });
  const log = el('ol', { class: 'chat-log', 'aria-live': 'polite' });
  const people = el('ul', { class: 'chat-roster', hidden: true });
  const error = el('div', { class: 'chat-error', role: 'alert', hidden: true });
  const input = el('textarea', { class: 'chat-input', rows: '1', maxlength: String(MAX_CHARS) });
  const sendButton = el('button', { type: 'submit', class: 'btn primary chat-send' });
  const form = el('form', { class: 'chat-form', onsubmit: onSubmit }, input, sendButton);
  const readonly = el('p', { class: 'chat-readonly', hidden: true });
  const panel = el(
    'section',
    { class: 'chat', dataset: { state: status } },
    el(
      'div',
      { class: 'chat-head' },
      el('div', { class: 'chat-tabs', role: 'tablist' }, tabChat, tabPeople),
      lockButton,
    ),
    conn,
    banner,
    log,
    people,
    error,
    form,
    readonly,
  );
  root.replaceChildren(panel);

  input.addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter is a new line; never while a Korean IME is composing a syllable.
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    form.requestSubmit();
  });
  input.addEventListener('input', grow);

  const channel = openChannel({ params: opts.params, onMessage, onStatus });

  function onStatus(next) {
    status = next;
    renderChrome();
  }

  function onMessage(msg) {
    switch (msg.type) {
      case 'welcome':
        generation += 1;
        you = msg.you;
        cls = { ...msg.class };
        roster.clear();
        for (const p of msg.roster) roster.set(p.id, p);
        opts.onWelcome?.(msg);
        renderRoster();
        break;
      case 'replayed':
        if (msg.truncated) addNote('chat.note.truncated', new Date().toISOString());
        failStalePending();
        break;
      case 'chat.message':
        onChatMessage(msg);
        break;
      case 'chat.deleted': {
        const item = byId.get(msg.id);
        if (item) {
          item.ev = { ...item.ev, deleted: true, text: '' };
          redraw(item);
        }
        break;
      }
      case 'presence.join':
        roster.set(msg.participant.id, msg.participant);
        renderRoster();
        break;
      case 'presence.leave':
        roster.delete(msg.id);
        renderRoster();
        break;
      case 'error':
        onError(msg);
        break;
      default:
        break;
    }
    if (msg.type === 'chat.locked' && cls) cls.chatLocked = msg.locked;
    if (cls && (msg.type === 'class.started' || msg.type === 'class.ended')) {
      cls.status = msg.type === 'class.started' ? 'live' : 'ended';
      if (msg.class?.title) cls.title = String(msg.class.title);
    }
    if (cls && (msg.type === 'stream.live' || msg.type === 'stream.offline'))
      cls.streamLive = msg.type === 'stream.live';
    const note = noteOf(msg);
    if (note && !seenSeq.has(msg.seq)) {
      seenSeq.add(msg.seq);
      addNote(note, msg.at);
    }
    if (note || msg.type === 'welcome') opts.onEvent?.(msg);
    renderChrome();
  }

  function onChatMessage(ev) {
    const known = byId.get(ev.id);
    if (known) {
      known.ev = ev;
      redraw(known);
      return;
    }
    const mine = you && ev.from.id === you.sub;
    let pending = ev.clientId ? items.find((i) => i.kind === 'pending' && i.clientId === ev.clientId) : null;
    // A replayed message has no clientId: match what we sent before the drop by its text.
    pending ??= mine ? items.find((i) => i.kind === 'pending' && i.text === ev.text) : null;
    if (pending) remove(pending);
    const item = { kind: 'msg', ev };
    byId.set(ev.id, item);
    append(item, mine);
  }

  function onError(msg) {
    // A rate-limited frame is refused before it is read, so its error names no `ref`.
    if (msg.ref === 'chat.send' || (!msg.ref && msg.code === 'RATE_LIMITED')) {
      const failed = items.find((i) => i.kind === 'pending' && i.gen === generation);
      if (failed) {
        remove(failed);
        if (!input.value) input.value = failed.text;
      }
    }
    const own = `chat.error.${msg.code}`;
    const id = t(own) === own ? `error.${msg.code}` : own;
    const text = t(id, { s: 10 });
    showError(text === id ? msg.message || t('error.generic') : text);
  }

  /** Sends that were in flight when the connection dropped and are not in the replay. */
  function failStalePending() {
    const stale = items.filter((i) => i.kind === 'pending' && i.gen < generation);
    if (stale.length === 0) return;
    for (const item of stale) remove(item);
    if (!input.value) input.value = stale.map((i) => i.text).join('\n');
    showError(t('chat.error.notSent'));
  }

  function onSubmit(e) {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_CHARS) return showError(t('chat.error.tooLong', { n: MAX_CHARS }));
    const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    if (!channel.send({ type: 'chat.send', text, clientId })) return showError(t('chat.error.offline'));
    append({ kind: 'pending', clientId, text, gen: generation }, true);
    input.value = '';
    grow();
  }

  function toggleLock() {
    if (!cls) return;
    if (!channel.send({ type: 'chat.lock', locked: !cls.chatLocked })) showError(t('chat.error.offline'));
  }

  function deleteMessage(id) {
    if (!channel.send({ type: 'chat.delete', id })) showError(t('chat.error.offline'));
  }

  function addNote(id, at) {
    append({ kind: 'note', id, at }, false);
  }

  function time(at) {
    try {
      return new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' }).format(new Date(at));
    } catch {
      return '';
    }
  }

  function draw(item) {
    if (item.kind === 'note') {
      return el('li', { class: 'chat-note' }, item.at ? `${t(item.id)} · ${time(item.at)}` : t(item.id));
    }
    if (item.kind === 'pending') {
      return el(
        'li',
        { class: 'msg mine pending', dataset: { clientId: item.clientId } },
        el(
          'div',
          { class: 'msg-head' },
          el('span', { class: 'msg-name' }, you?.name ?? ''),
          el('time', {}, t('chat.sending')),
        ),
        el('div', { class: 'msg-text' }, item.text),
      );
    }
    const ev = item.ev;
    const mine = you && ev.from.id === you.sub;
    const role = ev.from.role;
    const canDelete = you?.canModerate && !ev.deleted;
    return el(
      'li',
      {
        class: `msg${mine ? ' mine' : ''}${role === 'teacher' ? ' teacher' : ''}${ev.deleted ? ' deleted' : ''}`,
        dataset: { id: ev.id, seq: String(ev.seq) },
      },
      el(
        'div',
        { class: 'msg-head' },
        el('span', { class: 'msg-name' }, ev.from.name),
        role !== 'student' && el('span', { class: `role role-${role}` }, t(`chat.role.${role}`)),
        el('time', { datetime: ev.at }, time(ev.at)),
        canDelete &&
          el(
            'button',
            {
              type: 'button',
              class: 'msg-del',
              title: t('chat.delete'),
              'aria-label': t('chat.delete'),
              onclick: () => deleteMessage(ev.id),
            },
            '×',
          ),
      ),
      el('div', { class: 'msg-text' }, ev.deleted ? t('chat.deleted') : ev.text),
    );
  }

  function append(item, scroll) {
    const stick = scroll || log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    items.push(item);
    item.node = draw(item);
    log.append(item.node);
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function redraw(item) {
    const node = draw(item);
    item.node?.replaceWith(node);
    item.node = node;
  }

  function remove(item) {
    const i = items.indexOf(item);
    if (i >= 0) items.splice(i, 1);
    item.node?.remove();
  }

  function renderRoster() {
    const list = [...roster.values()].sort(
      (a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || a.name.localeCompare(b.name, lang),
    );
    people.replaceChildren(
      ...list.map((p) =>
        el(
          'li',
          { class: `person role-${p.role}`, dataset: { id: p.id } },
          el('span', { class: 'person-name' }, p.name),
          p.role !== 'student' && el('span', { class: `role role-${p.role}` }, t(`chat.role.${p.role}`)),
          you && p.id === you.id && el('span', { class: 'me' }, t('chat.me')),
        ),
      ),
    );
    if (list.length === 0) people.append(el('li', { class: 'chat-empty' }, t('chat.nobody')));
    tabPeople.textContent = `${t('chat.tab.people')} ${roster.size}`;
  }

  function renderChrome() {
    panel.dataset.state = status;
    tabChat.textContent = t('chat.tab.chat');
    tabPeople.textContent = `${t('chat.tab.people')} ${roster.size}`;
    tabChat.setAttribute('aria-selected', String(tab === 'chat'));
    tabPeople.setAttribute('aria-selected', String(tab === 'people'));
    log.hidden = tab !== 'chat';
    log.dataset.empty = t('chat.empty');
    people.hidden = tab !== 'people';
    conn.hidden = status === 'open';
    conn.textContent = status === 'connecting' ? t('chat.conn.connecting') : t('chat.conn.reconnecting');
    const moderator = Boolean(you?.canModerate);
    const locked = Boolean(cls?.chatLocked);
    const ended = cls?.status === 'ended';
    lockButton.hidden = !moderator || ended;
    lockButton.textContent = t(locked ? 'chat.unlock' : 'chat.lock');
    lockButton.classList.toggle('armed', locked);
    banner.hidden = !locked || ended;
    banner.textContent = t(moderator ? 'chat.banner.lockedTeacher' : 'chat.banner.locked');
    const canSend = you ? you.canSend : true;
    form.hidden = !canSend;
    readonly.hidden = canSend;
    readonly.textContent = t('chat.readonly');
    const blocked = ended || (locked && !moderator);
    input.disabled = blocked;
    input.placeholder = t(
      ended ? 'chat.placeholder.ended' : blocked ? 'chat.placeholder.locked' : 'chat.placeholder',
    );
    input.setAttribute('aria-label', t('chat.placeholder'));
    sendButton.textContent = t('chat.send');
    sendButton.disabled = blocked || status !== 'open';
  }

  function show(which) {
    tab = which;
    renderChrome();
    if (which === 'chat') log.scrollTop = log.scrollHeight;
  }

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(() => (error.hidden = true), ERROR_SHOW_MS);
  }

  function grow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(120, input.scrollHeight)}px`;
  }

  renderChrome();
  renderRoster();

  return {
    setLanguage(nextT, nextLang) {
      t = nextT;
      lang = nextLang;
      for (const item of items) redraw(item);
      renderRoster();
      renderChrome();
    },
    close() {
      clearTimeout(errorTimer);
      channel.close();
    },
    state: () => ({
      status,
      lastSeq: channel.lastSeq(),
      you,
      class: cls,
      roster: [...roster.values()],
      messages: items.filter((i) => i.kind === 'msg').map((i) => ({ ...i.ev })),
    }),
  };
}
