/**
 * The replay page (`/replay/<recordingId>`, the token in `#jwt=…` or the teacher's session
 * cookie): the recorded lesson with its title and date, a note when the recording broke off,
 * the video (hls.js, or the browser's own HLS), the quiz chapters as buttons that seek, the
 * class engagement curve with a playhead (click to seek) and the chat as it was at the
 * playback position. `?autoplay=1` starts playing at once. For tests the body carries
 * `data-replay="ready"` once the video can play, `"error"` when it cannot.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../lib/api.ts';
import { Header } from '../lib/components/Header.tsx';
import { Notice } from '../lib/components/Notice.tsx';
import { clockPos, dateTimeText, lengthText } from '../lib/format.ts';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import type { ReplayData } from '../lib/report-types.ts';
import { attachRecording, autoplay, canPlayHls, type PlayerFailure } from './player.ts';
import { ReplayChart } from './ReplayChart.tsx';
import { ReplayChat } from './ReplayChat.tsx';
import { SummaryCard } from '../lib/ai/SummaryCard.tsx';

/** Why the page shows no recording: gone (404/410), no id, needs sign-in, or another error. */
type Fatal =
  { kind: 'gone' } | { kind: 'noId' } | { kind: 'auth'; error: unknown } | { kind: 'failed'; error: unknown };

/** The recording id of `/replay/<id>` (null when the path has none). */
export function recordingIdFromPath(pathname: string): string | null {
  const m = /^\/replay\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/** What the page knows of `location` once. */
function readLocation() {
  return {
    id: recordingIdFromPath(location.pathname),
    token: new URLSearchParams(location.hash.slice(1)).get('jwt') ?? undefined,
    autoplay: new URLSearchParams(location.search).get('autoplay') === '1',
  };
}

/** The note over a recording that is not whole (or still running), with the reason when known. */
function StatusNote(props: { rec: ReplayData['recording'] }): JSX.Element | null {
  const { t } = useI18n();
  const { status, reason } = props.rec;
  if (status === 'complete') return null;
  const why = reason ? t(`replay.reason.${reason}`) : '';
  return (
    <Notice kind="info" id="replay-status" class={`replay-status status-${status}`}>
      {t(`replay.status.${status}`)}
      {why.startsWith('replay.reason.') ? '' : ` ${why}`}
    </Notice>
  );
}

/** The replay page. */
export function ReplayPage(): JSX.Element {
  const { t, lang } = useI18n();
  const where = useMemo(readLocation, []);
  const [data, setData] = useState<ReplayData | null>(null);
  const [fatal, setFatal] = useState<Fatal | null>(where.id ? null : { kind: 'noId' });
  const [ready, setReady] = useState(false);
  const [failure, setFailure] = useState<PlayerFailure | 'unsupported' | null>(null);
  const [now, setNow] = useState(0);
  const [videoLength, setVideoLength] = useState(0);
  const video = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    if (!where.id) return;
    const ctl = new AbortController();
    api<ReplayData>('GET', `/api/recordings/${encodeURIComponent(where.id)}/replay`, undefined, {
      token: where.token,
      signal: ctl.signal,
    }).then(setData, (e: unknown) => {
      if (ctl.signal.aborted) return;
      const status = e instanceof ApiError ? e.status : 0;
      if (status === 404 || status === 410) setFatal({ kind: 'gone' });
      else if (status === 401 && !where.token) setFatal({ kind: 'auth', error: e });
      else setFatal({ kind: 'failed', error: e });
    });
    return () => ctl.abort();
  }, []);

  // The video: attach the playlist once the page knows it.
  const playlist = data?.recording.playlistUrl;
  useEffect(() => {
    const v = video.current;
    if (!v || !playlist) return;
    if (!canPlayHls(v)) {
      setFailure('unsupported');
      return;
    }
    const detach = attachRecording(v, playlist, {
      onReady: () => {
        setReady(true);
        if (where.autoplay) void autoplay(v);
      },
      onFail: setFailure,
    });
    const tick = () => setNow(v.currentTime);
    const length = () => setVideoLength(Number.isFinite(v.duration) ? v.duration : 0);
    const events = ['timeupdate', 'seeking', 'seeked', 'loadedmetadata'] as const;
    for (const name of events) v.addEventListener(name, tick);
    v.addEventListener('durationchange', length);
    return () => {
      for (const name of events) v.removeEventListener(name, tick);
      v.removeEventListener('durationchange', length);
      detach();
    };
  }, [playlist]);

  // For tests (and anyone scripting the page): loaded or failed.
  const state = fatal || failure ? 'error' : ready ? 'ready' : null;
  useEffect(() => {
    if (state) document.body.dataset.replay = state;
    else delete document.body.dataset.replay;
  }, [state]);

  useEffect(() => {
    const vars = { title: data?.class.title ?? '', n: data?.lesson?.number ?? '' };
    const head = !data
      ? t('replay.badge')
      : t(data.lesson ? 'replay.docTitle' : 'replay.docTitleNoLesson', vars);
    document.title = `${head} · ${t('app.name')}`;
  }, [data, lang]);

  const seek = (sec: number) => {
    const v = video.current;
    if (!v) return;
    v.currentTime = sec;
    setNow(sec);
  };

  if (fatal || !data) {
    return (
      <div class="page replay-page">
        <Header>
          <span class="badge">{t('replay.badge')}</span>
        </Header>
        <FatalView fatal={fatal} id={where.id} />
      </div>
    );
  }

  const rec = data.recording;
  const total = Math.max(rec.durationSec, videoLength);
  const number = data.lesson?.number ?? rec.lessonNumber;
  const at = data.lesson?.startedAt ?? rec.startedAt;
  const current = data.chapters.reduce((found, c, i) => (c.atSec <= now + 0.5 ? i : found), -1);
  const veil =
    failure === 'unsupported'
      ? t('replay.unsupported')
      : failure === 'gone'
        ? t('replay.gone')
        : failure === 'failed'
          ? t('replay.failed')
          : ready
            ? null
            : t('replay.loading');

  return (
    <div class="page replay-page">
      <Header>
        <span class="who">{data.class.title}</span>
        <span class="badge">{t('replay.badge')}</span>
      </Header>
      <div class="replay" data-recording-id={rec.id} data-status={rec.status}>
        <main class="replay-main" id="main">
          <div class="replay-head">
            <h1 id="replay-title">{data.class.title}</h1>
            <p class="lesson-line" id="replay-meta">
              {number !== null && <span>{t('replay.lesson', { n: number })}</span>}
              <time dateTime={at}>{dateTimeText(at, lang)}</time>
              {total > 0 && <span>{t('replay.length', { d: lengthText(total, lang) })}</span>}
            </p>
          </div>
          <StatusNote rec={rec} />
          <div class="replay-video-box">
            <video
              ref={video}
              id="replay-video"
              controls
              playsInline
              preload="auto"
              aria-label={t('replay.videoLabel')}
            />
            {veil && (
              <div
                class="veil"
                id="replay-veil"
                data-failure={failure ?? undefined}
                role={failure ? 'alert' : 'status'}
              >
                <strong>{veil}</strong>
                {failure === 'gone' && <span>{t('replay.goneBody')}</span>}
              </div>
            )}
          </div>
          <section class="card replay-card" aria-labelledby="replay-curve-title">
            <div class="card-head">
              <h2 id="replay-curve-title">{t('replay.curve')}</h2>
              <span class="hint">{t('replay.curveHint')}</span>
            </div>
            {data.engagement.length === 0 && <p class="hint">{t('replay.curveEmpty')}</p>}
            <ReplayChart
              engagement={data.engagement}
              chapters={data.chapters}
              now={now}
              total={total}
              onSeek={seek}
            />
          </section>
          <section class="card replay-card" aria-labelledby="replay-chapters-title">
            <h2 id="replay-chapters-title">{t('replay.chapters')}</h2>
            {data.chapters.length === 0 ? (
              <p class="hint">{t('replay.noChapters')}</p>
            ) : (
              <ol class="chapters" id="replay-chapters">
                {data.chapters.map((c, i) => (
                  <li key={c.runId}>
                    <button
                      type="button"
                      class="chapter"
                      data-at-sec={c.atSec}
                      data-run-id={c.runId}
                      aria-current={i === current ? 'true' : undefined}
                      onClick={() => seek(c.atSec)}
                    >
                      {t('replay.chapter', { n: i + 1, at: clockPos(c.atSec), q: c.question })}
                    </button>
                  </li>
                ))}
              </ol>
            )}
          </section>
          {/* The teacher's session sees the lesson summary; a student's read token does not. */}
          {data.lesson && <SummaryCard lessonId={data.lesson.id} />}
        </main>
        <aside class="replay-side" aria-label={t('replay.chat')}>
          <ReplayChat chat={data.chat} now={now} />
        </aside>
      </div>
    </div>
  );
}

/** The whole-page states without a recording: loading, gone, no id, sign-in needed, failed. */
function FatalView(props: { fatal: Fatal | null; id: string | null }): JSX.Element {
  const { t } = useI18n();
  const f = props.fatal;
  if (!f) {
    return (
      <main class="final" id="replay-loading">
        <p role="status">{t('replay.loading')}</p>
      </main>
    );
  }
  if (f.kind === 'gone') {
    return (
      <main class="final" id="replay-error" data-reason="gone">
        <h1>{t('replay.gone')}</h1>
        <p>{t('replay.goneBody')}</p>
      </main>
    );
  }
  if (f.kind === 'noId') {
    return (
      <main class="final" id="replay-error" data-reason="no-id">
        <h1>{t('replay.failed')}</h1>
        <p>{t('replay.noId')}</p>
      </main>
    );
  }
  const next = `/replay/${encodeURIComponent(props.id ?? '')}`;
  return (
    <main class="final" id="replay-error" data-reason={f.kind}>
      <h1>{t('replay.failed')}</h1>
      <p role="alert">
        {f.error instanceof ApiError && f.error.code === 'RECORDING_NOT_SHARED'
          ? t('replay.notShared')
          : errorText(t, f.error)}
      </p>
      {f.kind === 'auth' ? (
        <p>
          <a class="btn primary" href={`/login?next=${encodeURIComponent(next)}${langSuffix('&')}`}>
            {t('replay.signIn')}
          </a>
        </p>
      ) : (
        <p>{t('replay.failedBody')}</p>
      )}
    </main>
  );
}
