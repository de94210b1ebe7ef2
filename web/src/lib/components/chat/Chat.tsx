/**
 * The chat + roster panel of a class (watch page, teacher console, monitor), on the page's one
 * {@link ClassChannel}. Shows chat, class notes and the server's errors; a moderator (the
 * teacher: `welcome.you.canModerate`, or the `canModerate` prop) can delete messages and lock
 * the chat. DOM classes are those the tests use (`.chat[data-state]`, `.chat-log .msg[data-id]`).
 */
import { useEffect, useId, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { ClassChannel } from '../../channel.ts';
import { useI18n } from '../../i18n.ts';
import type { AnyServerMessage } from '../../protocol.ts';
import { addPending, chatReduce, initialChat, type ChatItem, type ChatState } from './chat-state.ts';
import './chat.css';

const MAX_CHARS = 1000; // MAX_CHAT_CHARS on the server
const ERROR_SHOW_MS = 6000;
const ROLE_ORDER: Record<string, number> = { teacher: 0, admin: 0, student: 1, monitor: 2 };

type Action = { msg: AnyServerMessage } | { pending: { clientId: string; text: string } } | { error: string };

function reduce(s: ChatState, a: Action): ChatState {
  if ('msg' in a) return chatReduce(s, a.msg);
  if ('pending' in a) return addPending(s, a.pending.clientId, a.pending.text);
  return { ...s, error: { id: a.error, vars: { n: MAX_CHARS }, n: Date.now() } };
}

/** Props: the page's channel; `canModerate` overrides what `welcome` says. */
export interface ChatProps {
  channel: ClassChannel;
  canModerate?: boolean;
}

/** The chat panel. */
export function Chat({ channel, canModerate }: ChatProps) {
  const { t, lang } = useI18n();
  const [s, dispatch] = useReducer(reduce, undefined, initialChat);
  const [conn, setConn] = useState<string>('connecting');
  const [tab, setTab] = useState<'chat' | 'people'>('chat');
  const [text, setText] = useState('');
  const [errorShown, setErrorShown] = useState(false);
  const log = useRef<HTMLOListElement>(null);
  const uid = useId();

  // Layout effect: subscribe in the same task the page created the channel; replay catches up.
  useLayoutEffect(() => {
    const offMsg = channel.on('*', (msg) => dispatch({ msg }), { replay: true });
    const offState = channel.onState((state, info) =>
      setConn(state === 'connecting' && info.reconnecting ? 'reconnecting' : state),
    );
    return () => {
      offMsg();
      offState();
    };
  }, [channel]);

  useEffect(() => {
    if (!s.error) return;
    setErrorShown(true);
    const timer = setTimeout(() => setErrorShown(false), ERROR_SHOW_MS);
    return () => clearTimeout(timer);
  }, [s.error?.n]);

  useEffect(() => {
    if (s.restore) setText((cur) => cur || s.restore!.text);
  }, [s.restore?.n]);

  // Stick to the bottom when the reader is near it.
  const count = s.items.length;
  const near = useRef(true);
  useLayoutEffect(() => {
    const el = log.current;
    if (el && near.current) el.scrollTop = el.scrollHeight;
  }, [count, tab]);
  const onScroll = () => {
    const el = log.current;
    if (el) near.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  const moderator = canModerate ?? Boolean(s.you?.canModerate);
  const locked = Boolean(s.cls?.chatLocked);
  const ended = s.cls?.status === 'ended' || conn === 'ended' || conn === 'closed';
  const canSend = s.you ? s.you.canSend : true;
  const blocked = ended || (locked && !moderator);

  const submit = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    if (body.length > MAX_CHARS) return dispatch({ error: 'chat.error.tooLong' });
    const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    if (!channel.send({ type: 'chat.send', text: body, clientId }))
      return dispatch({ error: 'chat.error.offline' });
    near.current = true;
    dispatch({ pending: { clientId, text: body } });
    setText('');
  };
  const offline = () => dispatch({ error: 'chat.error.offline' });

  const time = (at: string) => {
    try {
      return new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' }).format(new Date(at));
    } catch {
      return '';
    }
  };

  const errorText = (() => {
    const e = s.error;
    if (!e) return '';
    const own = t(e.id, e.vars);
    if (own !== e.id) return own;
    const code = `error.${e.id.split('.').pop()}`;
    const general = t(code, e.vars);
    return general !== code ? general : e.raw || t('error.generic');
  })();

  const roster = [...s.roster.values()].sort(
    (a, b) => (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) || a.name.localeCompare(b.name, lang),
  );

  const drawItem = (item: ChatItem) => {
    if (item.kind === 'note')
      return (
        <li class="chat-note" key={item.key}>
          {item.at ? `${t(item.id)} · ${time(item.at)}` : t(item.id)}
        </li>
      );
    if (item.kind === 'pending')
      return (
        <li class="msg mine pending" data-client-id={item.clientId} key={item.clientId}>
          <div class="msg-head">
            <span class="msg-name">{s.you?.name ?? ''}</span>
            <time>{t('chat.sending')}</time>
          </div>
          <div class="msg-text">{item.text}</div>
        </li>
      );
    if (item.kind === 'held')
      return (
        <li
          class={`msg mine held ${item.state}`}
          data-held-id={item.id}
          data-state={item.state}
          key={item.id}
        >
          <div class="msg-head">
            <span class="msg-name">{s.you?.name ?? ''}</span>
          </div>
          <div class="msg-text">{item.text}</div>
          <div class="msg-held" role="status">
            {t(item.state === 'waiting' ? 'chat.held.waiting' : 'chat.held.rejected')}
          </div>
        </li>
      );
    const ev = item.ev;
    const mine = s.you !== null && ev.from.id === s.you.sub;
    const role = ev.from.role;
    const cls = ['msg', mine && 'mine', role === 'teacher' && 'teacher', ev.deleted && 'deleted'].filter(
      Boolean,
    );
    return (
      <li class={cls.join(' ')} data-id={ev.id} data-seq={String(ev.seq)} key={ev.id}>
        <div class="msg-head">
          <span class="msg-name">{ev.from.name}</span>
          {role !== 'student' && <span class={`role role-${role}`}>{t(`chat.role.${role}`)}</span>}
          <time dateTime={ev.at}>{time(ev.at)}</time>
          {moderator && !ev.deleted && (
            <button
              type="button"
              class="msg-del"
              title={t('chat.delete')}
              aria-label={t('chat.delete')}
              onClick={() => channel.send({ type: 'chat.delete', id: ev.id }) || offline()}
            >
              ×
            </button>
          )}
        </div>
        <div class="msg-text">{ev.deleted ? t('chat.deleted') : ev.text}</div>
      </li>
    );
  };

  return (
    <section class="chat" data-state={conn} aria-label={t('chat.tab.chat')}>
      <div class="chat-head">
        <div class="chat-tabs" role="tablist">
          {(['chat', 'people'] as const).map((which) => (
            <button
              type="button"
              role="tab"
              class="chat-tab"
              id={`${uid}-tab-${which}`}
              aria-selected={tab === which}
              aria-controls={`${uid}-${which}`}
              onClick={() => setTab(which)}
              key={which}
            >
              {which === 'chat' ? t('chat.tab.chat') : `${t('chat.tab.people')} ${s.roster.size}`}
            </button>
          ))}
        </div>
        {moderator && !ended && (
          <button
            type="button"
            class={`btn small chat-lock${locked ? ' armed' : ''}`}
            onClick={() => channel.send({ type: 'chat.lock', locked: !locked }) || offline()}
          >
            {t(locked ? 'chat.unlock' : 'chat.lock')}
          </button>
        )}
      </div>
      {conn !== 'open' && !ended && conn !== 'closed' && (
        <div class="chat-conn" role="status">
          {t(conn === 'connecting' ? 'chat.conn.connecting' : 'chat.conn.reconnecting')}
        </div>
      )}
      {locked && !ended && (
        <div class="chat-banner">{t(moderator ? 'chat.banner.lockedTeacher' : 'chat.banner.locked')}</div>
      )}
      <ol
        class="chat-log"
        id={`${uid}-chat`}
        aria-labelledby={`${uid}-tab-chat`}
        aria-live="polite"
        tabIndex={0}
        hidden={tab !== 'chat'}
        data-empty={t('chat.empty')}
        ref={log}
        onScroll={onScroll}
      >
        {s.items.map(drawItem)}
      </ol>
      <ul
        class="chat-roster"
        id={`${uid}-people`}
        aria-labelledby={`${uid}-tab-people`}
        hidden={tab !== 'people'}
      >
        {roster.map((p) => (
          <li class={`person role-${p.role}`} data-id={p.id} key={p.id}>
            <span class="person-name">{p.name}</span>
            {p.role !== 'student' && <span class={`role role-${p.role}`}>{t(`chat.role.${p.role}`)}</span>}
            {s.you && p.id === s.you.id && <span class="me">{t('chat.me')}</span>}
          </li>
        ))}
        {roster.length === 0 && <li class="chat-empty">{t('chat.nobody')}</li>}
      </ul>
      <div class="chat-error" role="alert" hidden={!errorShown || !errorText}>
        {errorShown ? errorText : ''}
      </div>
      {canSend ? (
        <form class="chat-form" onSubmit={submit}>
          <textarea
            class="chat-input"
            rows={1}
            maxLength={MAX_CHARS}
            value={text}
            disabled={blocked}
            aria-label={t('chat.placeholder')}
            placeholder={t(
              ended ? 'chat.placeholder.ended' : blocked ? 'chat.placeholder.locked' : 'chat.placeholder',
            )}
            onInput={(e) => {
              const el = e.currentTarget;
              setText(el.value);
              el.style.height = 'auto';
              el.style.height = `${Math.min(120, el.scrollHeight)}px`;
            }}
            onKeyDown={(e) => {
              // Enter sends, Shift+Enter is a new line; never while a Korean IME is composing.
              if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
              e.preventDefault();
              e.currentTarget.form?.requestSubmit();
            }}
          />
          <button type="submit" class="btn primary chat-send" disabled={blocked || conn !== 'open'}>
            {t('chat.send')}
          </button>
        </form>
      ) : (
        <p class="chat-readonly">{t('chat.readonly')}</p>
      )}
    </section>
  );
}
