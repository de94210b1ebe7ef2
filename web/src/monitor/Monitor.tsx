/**
 * The monitor (TA) page, from the teacher's share link `/monitor#token=…` (the token stays in
 * the fragment, out of logs and Referer): the class picture, the chat (read only), the roster
 * and the engagement panel (read only). When the lesson ends the page says so, calmly, and
 * stops: the link belonged to that lesson.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { ClassChannel } from '../lib/channel.ts';
import { Chat } from '../lib/components/chat/Chat.tsx';
import { Header } from '../lib/components/Header.tsx';
import { useI18n } from '../lib/i18n.ts';
import { clusterEndpoint } from '../lib/assign.ts';
import { WhepPlayer, type PlayerView } from '../lib/whep-player.ts';
import { EngagementPanel } from '../console/Engagement.tsx';
import { HandsPanel } from '../console/Hands.tsx';
import { mergeSeries, useClassLive } from '../console/live.ts';
import { RosterPanel } from '../console/Roster.tsx';
import type { EngagementPoint } from '../console/types.ts';

/** The monitor page. */
export function MonitorApp(): JSX.Element {
  const { t } = useI18n();
  const token = useMemo(() => new URLSearchParams(location.hash.slice(1)).get('token') ?? '', []);
  const channel = useMemo(() => (token ? new ClassChannel({ token }) : null), [token]);
  useEffect(() => () => channel?.close(), [channel]);
  const live = useClassLive(channel);
  const [info, setInfo] = useState<{ id: string; title: string } | null>(null);
  const [ended, setEnded] = useState(false);
  const [refused, setRefused] = useState(false);
  const [view, setView] = useState<PlayerView | null>(null);
  const [earlier, setEarlier] = useState<EngagementPoint[]>([]);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (!channel) return;
    const R = { replay: true };
    const offs = [
      channel.on('welcome', (w) => setInfo({ id: w.class.id, title: w.class.title }), R),
      channel.on('class.ended', () => setEnded(true), R),
      channel.onState((state, i) => {
        if (state === 'ended') setEnded(true);
        else if (state === 'closed' && i.code !== null) setRefused(true);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);

  useEffect(() => {
    document.title = info ? `${info.title} · AirClass` : 'AirClass';
  }, [info?.title]);

  const classId = info?.id;
  useEffect(() => {
    if (!classId || !video.current || ended) return;
    const player = new WhepPlayer({
      video: video.current,
      endpoint: `/live/${encodeURIComponent(classId)}/whep`,
      resolveEndpoint: clusterEndpoint(token, `live/${classId}`, `/live/${encodeURIComponent(classId)}/whep`),
      token,
      onChange: setView,
    });
    video.current.muted = true;
    player.start();
    return () => player.stop();
  }, [classId, ended]);

  useEffect(() => {
    if (!live.lessonId) return;
    api<{ series?: EngagementPoint[] }>('GET', `/api/lessons/${live.lessonId}/engagement`, undefined, {
      token,
    }).then(
      (r) => setEarlier(r.series ?? []),
      () => {},
    );
  }, [live.lessonId]);
  const series = useMemo(() => mergeSeries(earlier, live.series), [earlier, live.series]);

  useEffect(() => {
    if (view?.state === 'ended') setEnded(true);
  }, [view?.state]);
  const finished = ended;
  const playing = view?.state === 'live' && live.stream === 'live';
  const veil = !token
    ? t('monitor.noToken')
    : refused || view?.state === 'refused'
      ? t('monitor.refused')
      : live.stream !== 'live'
        ? t('monitor.noSignal')
        : !playing
          ? t('monitor.connecting')
          : null;

  return (
    <div class="page monitor-page">
      <Header>
        <h1 class="who" id="title">
          {info?.title ?? ''}
        </h1>
        <span class="badge">{t('monitor.badge')}</span>
      </Header>
      {finished ? (
        <main class="final" id="final" data-state="ended">
          <h1>{t('monitor.endedTitle')}</h1>
          <p>{t('monitor.endedBody')}</p>
        </main>
      ) : (
        <div class="monitor">
          <main class="m-main">
            <div class="preview" data-stream={live.stream ?? 'offline'}>
              <video ref={video} id="video" muted autoplay playsInline aria-label={t('monitor.videoLabel')} />
              {veil && (
                <div class="veil" id="veil">
                  <strong>{veil}</strong>
                </div>
              )}
            </div>
            <div class="m-panels">
              <EngagementPanel engagement={live.engagement} series={series} live={live.status === 'live'} />
              <div class="col">
                <RosterPanel roster={live.roster} classId={null} />
                <HandsPanel hands={live.hands} channel={null} counts={live.reactionCounts} readOnly />
              </div>
            </div>
          </main>
          <aside class="chat-col" aria-label={t('chat.tab.chat')}>
            {channel && <Chat channel={channel} canModerate={false} />}
          </aside>
        </div>
      )}
    </div>
  );
}
