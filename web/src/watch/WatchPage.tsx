/**
 * The student watch page `/watch/<app>/<name>?jwt=…`: the class video (the one WHEP player,
 * with live HLS as the fallback when WebRTC cannot connect: hls-fallback.ts, a visible note
 * says so), and with a class token the class channel: chat beside the video (below on phones),
 * hands, reactions, the quiz card, engagement reporting and "my data". The video area and the
 * chat read the same class state; the lesson's end and a removal are final, calm screens, the
 * end with links to the replay once the teacher shares it.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../lib/api.ts';
import { ClassChannel } from '../lib/channel.ts';
import { Chat } from '../lib/components/chat/Chat.tsx';
import { Header } from '../lib/components/Header.tsx';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import { clusterEndpoint } from '../lib/assign.ts';
import { FallbackPlayer, type Transport } from '../lib/hls-fallback.ts';
import { safeNext } from '../lib/safe-next.ts';
import type { PlayerMonitor, PlayerView } from '../lib/whep-player.ts';
import { Actions } from './Actions.tsx';
import { useEngagement } from './engagement.ts';
import { MyData } from './MyData.tsx';
import { PhotoSend } from './PhotoSend.tsx';
import { QuizCard } from './QuizCard.tsx';
import { stageView, type ClassInfo } from './stage-view.ts';
import { isClassToken, jwtPayload } from './token.ts';

declare global {
  interface Window {
    /** What tests and bench/ttff.ts read (test/helpers/chromium.ts AirclassMonitor). */
    airclass?: PlayerMonitor;
  }
}

const params = new URLSearchParams(location.search);
const TOKEN = params.get('jwt') ?? '';
const PATH = location.pathname.replace(/^\/watch\//, '').replace(/\/+$/, '');
const HLS_SRC = `/${PATH}/hls/index.m3u8${TOKEN ? `?jwt=${encodeURIComponent(TOKEN)}` : ''}`;
const REPLAY_POLL_MS = 20_000;
const REPLAY_POLL_FOR_MS = 2 * 3600_000;

/** The lesson id a class event carries (`class.started`, `class.ended`: `lesson.id`). */
function lessonOf(m: object): string | null {
  const l = (m as { lesson?: { id?: unknown } | null }).lesson;
  return typeof l?.id === 'string' ? l.id : null;
}

/** A replay link of this site (the server's `replayUrl`), else null. */
function replayHref(u: unknown): string | null {
  if (typeof u !== 'string') return null;
  let url: URL;
  try {
    url = new URL(u, location.href);
  } catch {
    return null;
  }
  if (url.origin !== location.origin) return null;
  return safeNext(url.pathname + url.search + url.hash, '') || null;
}

/**
 * The shared replays of an ended lesson: `GET /api/lessons/<id>/replay` with the student's
 * token, every 20 s for 2 h (empty until the teacher shares); stops on 401/403/404.
 */
function useReplays(lessonId: string | null, on: boolean): { id: string; href: string }[] {
  const [list, setList] = useState<{ id: string; href: string }[]>([]);
  useEffect(() => {
    if (!on || !lessonId || !TOKEN) return;
    const until = Date.now() + REPLAY_POLL_FOR_MS;
    const ctl = new AbortController();
    let timer: number | undefined;
    const poll = async (): Promise<void> => {
      try {
        const r = await api<{ recordings?: { id: string; replayUrl: string }[] }>(
          'GET',
          `/api/lessons/${encodeURIComponent(lessonId)}/replay`,
          undefined,
          { token: TOKEN, signal: ctl.signal },
        );
        const next = (r?.recordings ?? []).flatMap((x) => {
          const href = replayHref(x.replayUrl);
          return href ? [{ id: String(x.id), href }] : [];
        });
        setList((cur) => (JSON.stringify(cur) === JSON.stringify(next) ? cur : next));
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e instanceof ApiError && [401, 403, 404].includes(e.status)) return; // will not change
      }
      if (Date.now() < until) timer = window.setTimeout(() => void poll(), REPLAY_POLL_MS);
    };
    void poll();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [lessonId, on]);
  return list;
}

/** The watch page. */
export function WatchPage() {
  const { t } = useI18n();
  const channel = useMemo(
    () => (isClassToken(jwtPayload(TOKEN)) ? new ClassChannel({ token: TOKEN }) : null),
    [],
  );
  const videoRef = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<HTMLVideoElement>(null);
  const playerRef = useRef<FallbackPlayer | null>(null);
  const [transport, setTransport] = useState<Transport>('webrtc');
  const [lessonId, setLessonId] = useState<string | null>(null);
  const [view, setView] = useState<PlayerView>({
    state: 'connecting',
    reason: 'connecting',
    needsGesture: false,
  });
  const [cls, setCls] = useState<ClassInfo | null>(null);
  const [title, setTitle] = useState(() => decodeURIComponent(PATH));
  const [final, setFinal] = useState<'ended' | 'removed' | null>(null);
  const [dataOpen, setDataOpen] = useState(false);
  const dataButton = useRef<HTMLElement | null>(null);

  useLayoutEffect(() => {
    const player = new FallbackPlayer({
      video: videoRef.current!,
      endpoint: `/${PATH}/whep`,
      // The main sends the player to this viewer's sub node (and to another when it is lost).
      ...(TOKEN ? { resolveEndpoint: clusterEndpoint(TOKEN, PATH, `/${PATH}/whep`) } : {}),
      token: TOKEN,
      onChange: setView,
      // WebRTC cannot connect (UDP blocked): live HLS from this site, WebRTC tried again every 30 s.
      hlsVideo: hlsRef.current!,
      hlsSrc: HLS_SRC,
      onTransport: setTransport,
    });
    playerRef.current = player;
    window.airclass = player.monitor;
    const leave = () => player.stop();
    const back = (e: PageTransitionEvent) => e.persisted && player.start();
    window.addEventListener('pagehide', leave);
    window.addEventListener('pageshow', back);
    player.start();
    return () => {
      window.removeEventListener('pagehide', leave);
      window.removeEventListener('pageshow', back);
      player.stop();
    };
  }, []);

  useLayoutEffect(() => {
    if (!channel) return;
    const me = () => channel.welcome?.you.sub;
    const offs = [
      channel.on('welcome', (w) => {
        setCls({ status: w.class.status, streamLive: w.class.streamLive });
        if (w.class.lesson?.id) setLessonId(w.class.lesson.id);
        if (w.class.title) setTitle(w.class.title);
      }),
      channel.on('class.started', (m) => {
        setCls((c) => ({ streamLive: c?.streamLive ?? false, status: 'live' }));
        setLessonId((id) => lessonOf(m) ?? id);
        if (typeof m.class?.title === 'string') setTitle(m.class.title);
      }),
      channel.on('class.ended', (m) => {
        setLessonId((id) => lessonOf(m) ?? id);
        setFinal((f) => f ?? 'ended');
      }),
      channel.on('stream.live', () => setCls((c) => c && { ...c, streamLive: true })),
      channel.on('stream.waiting', () => setCls((c) => c && { ...c, streamLive: false })),
      channel.on('stream.offline', () => setCls((c) => c && { ...c, streamLive: false })),
      channel.on('participant.removed', (m) => m.id === me() && setFinal('removed')),
      channel.onState((state, info) => {
        if (state === 'ended') setFinal((f) => f ?? 'ended');
        if (state === 'closed' && info.code === 4003) setFinal('removed');
      }),
    ];
    const onHide = (e: PageTransitionEvent) => !e.persisted && channel.close();
    window.addEventListener('pagehide', onHide);
    return () => {
      offs.forEach((off) => off());
      window.removeEventListener('pagehide', onHide);
    };
  }, [channel]);

  // The player found the end (410) or a removal (403 REMOVED) on its own.
  useEffect(() => {
    if (view.state === 'ended') setFinal((f) => f ?? 'ended');
    if (view.reason === 'removed') setFinal('removed');
  }, [view.state, view.reason]);

  // Final: the player stops (no spinner, no retries) and the channel closes.
  useEffect(() => {
    if (!final) return;
    playerRef.current?.stop(
      final === 'ended' ? { state: 'ended', reason: 'lessonEnded' } : { state: 'refused', reason: 'removed' },
    );
    channel?.close();
    setDataOpen(false);
  }, [final]);

  useEngagement(final ? null : channel, transport === 'hls' ? hlsRef.current : videoRef.current, view.state);
  const replays = useReplays(lessonId, final === 'ended');

  const sv = stageView(view, cls, final);
  useEffect(() => {
    document.title = `${t(sv.title)} · ${title} · AirClass`;
  }, [sv.title, title, t]);

  const closeData = () => {
    setDataOpen(false);
    dataButton.current?.focus();
  };

  return (
    <>
      <Header>
        <span class="path" id="path">
          {title}
        </span>
        <span class="status" id="status" data-state={sv.state} role="status" aria-live="polite">
          <span class="dot" aria-hidden="true" />
          <span id="status-text">{t(sv.title)}</span>
        </span>
      </Header>
      <main class={`room${channel ? ' with-chat' : ''}`} data-final={final ?? undefined}>
        <div class="stage" id="stage" data-state={sv.state} data-final={sv.final ?? undefined}>
          <video id="video" autoplay playsInline aria-label={t('watch.video')} ref={videoRef} />
          <video
            id="video-hls"
            class="hls"
            autoplay
            playsInline
            aria-label={t('watch.video')}
            hidden={transport !== 'hls'}
            ref={hlsRef}
          />
          {transport === 'hls' && !final && (
            <p class="transport-note" id="transport-note" role="status">
              {t('watch.hlsNote')}
            </p>
          )}
          <div class="overlay" id="overlay" hidden={!sv.overlay}>
            <div class="overlay-card">
              {sv.spinner && <div class="spinner" aria-hidden="true" />}
              {sv.final && (
                <div class={`icon icon-${sv.final}`} aria-hidden="true">
                  {sv.final === 'ended' ? '✓' : '!'}
                </div>
              )}
              <h1 class="title" id="overlay-title">
                {t(sv.title)}
              </h1>
              <p class="detail" id="overlay-detail">
                {sv.detail ? t(sv.detail, sv.vars) : ''}
              </p>
              {sv.final === 'ended' && replays.length > 0 && (
                <div class="replays" id="replays">
                  {replays.map((r, i) => (
                    <a class="btn primary" key={r.id} href={r.href}>
                      {replays.length > 1 ? t('watch.replayN', { n: i + 1 }) : t('watch.replay')}
                    </a>
                  ))}
                </div>
              )}
              {(sv.final === 'ended' || sv.final === 'removed') && (
                <a class="btn primary" id="join-another" href={`/join${langSuffix('?')}`}>
                  {t('watch.joinAnother')}
                </a>
              )}
            </div>
          </div>
          <button
            type="button"
            class="unmute"
            id="unmute"
            hidden={!view.needsGesture || sv.state !== 'live'}
            onClick={() => playerRef.current?.unmute()}
          >
            <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
              <path
                fill="currentColor"
                d="M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z"
              />
            </svg>
            <span>{t('watch.unmute')}</span>
          </button>
        </div>
        {channel && (
          <aside class="side" id="chat" aria-label={t('chat.tab.chat')}>
            {!final && (
              <div
                ref={(el) => {
                  dataButton.current = el?.querySelector<HTMLElement>('#my-data') ?? null;
                }}
              >
                <Actions channel={channel} onMyData={() => setDataOpen(true)} />
              </div>
            )}
            {!final && <QuizCard channel={channel} token={TOKEN} />}
            {!final && <PhotoSend channel={channel} token={TOKEN} />}
            <div class="side-chat">
              <Chat channel={channel} />
            </div>
          </aside>
        )}
      </main>
      {dataOpen && <MyData token={TOKEN} onClose={closeData} />}
    </>
  );
}
