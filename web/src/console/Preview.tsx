/**
 * The teacher's preview: the class stream through the one WhepPlayer (muted), with a media
 * token from `POST /api/classes/:id/media-token` (a new one for each lesson). What it says
 * follows the server's stream state (`stream.live` / `stream.waiting` / `stream.offline`), not
 * the last frame: while the encoder is not live an overlay says so ("No signal from the
 * encoder"), never "receiving" on a frozen picture. Under it: resolution, fps, bitrate and
 * viewers from `stream.stats`; reactions float over the picture.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import { WhepPlayer, type PlayerView } from '../lib/whep-player.ts';
import { REACTION_EMOJI } from './Hands.tsx';
import type { FloatingReaction } from './live.ts';
import type { StreamState, StreamStats } from './types.ts';
import { Card } from './ui.tsx';

/** "1280×720 · 30 fps · 2.1 Mbit/s · 3 viewers" parts, as i18n'd strings. */
function statParts(
  s: StreamStats | null,
  t: (id: string, v?: Record<string, string | number>) => string,
): string[] {
  if (!s) return [];
  const parts: string[] = [];
  if (s.width && s.height) parts.push(`${s.width}×${s.height}`);
  if (s.fps) parts.push(t('preview.fps', { n: Math.round(s.fps) }));
  if (s.bitrate) parts.push(t('preview.mbps', { n: (s.bitrate / 1_000_000).toFixed(1) }));
  return parts;
}

/** The preview card. `lessonKey` changes when a new lesson starts (a new media token). */
export function PreviewCard(props: {
  classId: string;
  path: string;
  lessonKey: string;
  stream: StreamState;
  stats: StreamStats | null;
  reactions: FloatingReaction[];
}): JSX.Element {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [token, setToken] = useState<string | null>(null);
  const [view, setView] = useState<PlayerView | null>(null);
  const [tokenTry, setTokenTry] = useState(0);

  useEffect(() => {
    let gone = false;
    setToken(null);
    api<{ token: string }>('POST', `/api/classes/${props.classId}/media-token`)
      .then((r) => !gone && setToken(r.token))
      .catch(() => !gone && setTimeout(() => setTokenTry((n) => n + 1), 5000));
    return () => {
      gone = true;
    };
  }, [props.classId, props.lessonKey, tokenTry]);

  useEffect(() => {
    if (!token || !video.current) return;
    const player = new WhepPlayer({
      video: video.current,
      endpoint: `/${props.path}/whep`,
      token,
      onChange: setView,
    });
    video.current.muted = true;
    player.start();
    return () => player.stop();
  }, [token]);

  // A refused or ended player needs a new token (a new lesson, an expired token): ask again.
  const stopped = view?.state === 'ended' || view?.state === 'refused';
  useEffect(() => {
    if (!stopped || props.stream !== 'live') return;
    const timer = setTimeout(() => setTokenTry((n) => n + 1), 2000);
    return () => clearTimeout(timer);
  }, [stopped, props.stream]);

  const playing = view?.state === 'live';
  const receiving = props.stream === 'live' && playing;
  const overlay =
    props.stream !== 'live'
      ? {
          title: t('preview.noSignal'),
          hint: t(props.stream === 'waiting' ? 'preview.waitingHint' : 'preview.offlineHint'),
        }
      : !playing
        ? { title: t('preview.connecting'), hint: '' }
        : null;
  const parts = statParts(props.stream === 'live' ? props.stats : null, t);
  const badgeState = receiving ? 'live' : props.stream === 'live' ? 'connecting' : 'ended';

  return (
    <Card
      id="preview"
      title={t('preview.title')}
      class="preview-card"
      actions={
        <span class="badge" id="preview-state" data-status={badgeState} role="status">
          {t(
            receiving
              ? 'preview.receiving'
              : props.stream === 'live'
                ? 'preview.connecting'
                : 'preview.noSignalShort',
          )}
        </span>
      }
    >
      <div class="preview" data-stream={props.stream} data-player={view?.state} data-reason={view?.reason}>
        <video ref={video} muted autoplay playsInline aria-label={t('preview.videoLabel')} />
        {overlay && (
          <div class="veil" id="preview-overlay" data-stream={props.stream}>
            <strong>{overlay.title}</strong>
            {overlay.hint && <span>{overlay.hint}</span>}
          </div>
        )}
        <div class="floats" aria-hidden="true">
          {props.reactions.map((r) => (
            <span class="float" key={r.key} style={{ left: `${r.left}%` }} data-kind={r.kind}>
              {REACTION_EMOJI[r.kind]}
              <small>{r.name}</small>
            </span>
          ))}
        </div>
      </div>
      <dl class="stream-stats" id="stream-stats" data-live={String(props.stream === 'live')}>
        <div>
          <dt>{t('preview.picture')}</dt>
          <dd id="stat-picture">{parts.length ? parts.join(' · ') : '–'}</dd>
        </div>
        <div>
          <dt>{t('preview.viewers')}</dt>
          <dd id="stat-viewers" data-viewers={props.stats?.viewers ?? 0}>
            {props.stats?.viewers ?? 0}
          </dd>
        </div>
      </dl>
    </Card>
  );
}
