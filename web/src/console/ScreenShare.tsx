/**
 * "Share screen": the teacher streams this computer's screen (and microphone, when allowed)
 * from the browser over WHIP instead of an RTMP app. A click picks the screen first (browsers
 * allow the picker only right after a click), starts the lesson when none runs, takes a media
 * token (`POST /api/classes/:id/media-token`) and publishes to `/<path>/whip`. The card says
 * what is happening — sharing, stopped, or why it failed — and "Stop sharing" ends it (DELETE).
 * Browsers share screens only on a secure page (https or localhost): elsewhere the card says so.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import { captureScreen, shareSupport, WhipPublisher, type ShareView } from '../lib/whip-publisher.ts';
import type { ClassInfo } from './types.ts';
import { Card, ErrorLine } from './ui.tsx';

/** The screen sharing card; `onChange` gets the class when sharing started its lesson. */
export function ScreenShare(props: { cls: ClassInfo; onChange: (c: ClassInfo) => void }): JSX.Element {
  const { t } = useI18n();
  const support = shareSupport();
  const [view, setView] = useState<ShareView>({ state: 'idle', audio: false });
  const [error, setError] = useState<unknown>(null);
  const publisher = useRef<WhipPublisher | null>(null);
  const live = props.cls.status === 'live';

  // The lesson ended (here or elsewhere): the server has cut the publish; tidy up.
  useEffect(() => {
    if (!live && publisher.current && (view.state === 'sharing' || view.state === 'starting')) {
      void publisher.current.stop();
    }
  }, [live]);
  // Leaving the class or closing the tab ends the share at once (the server would wait 10 s).
  useEffect(() => {
    const leave = () => void publisher.current?.stop();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, [props.cls.id]);

  const share = async () => {
    setError(null);
    let captured;
    try {
      captured = await captureScreen();
    } catch {
      setView({ state: 'error', error: 'denied', audio: false });
      return;
    }
    setView({ state: 'starting', audio: captured.audio });
    try {
      if (!live) props.onChange(await api<ClassInfo>('POST', `/api/classes/${props.cls.id}/start`));
      const { token } = await api<{ token: string }>('POST', `/api/classes/${props.cls.id}/media-token`);
      const p = new WhipPublisher({
        endpoint: `/${props.cls.path}/whip`,
        token,
        stream: captured.stream,
        onChange: setView,
      });
      publisher.current = p;
      await p.start();
    } catch (e) {
      for (const track of captured.stream.getTracks()) track.stop();
      setError(e);
      setView({ state: 'error', error: 'failed', audio: false });
    }
  };
  const stop = () => void publisher.current?.stop();

  const active = view.state === 'sharing' || view.state === 'starting';
  const status =
    view.state === 'error'
      ? t(`share.error.${view.error ?? 'failed'}`)
      : view.state === 'idle'
        ? ''
        : t(`share.state.${view.state}`) +
          (view.state === 'sharing' && !view.audio ? ` · ${t('share.noMic')}` : '');

  return (
    <Card
      id="screen-share"
      title={t('share.title')}
      class="share-card"
      actions={
        view.state !== 'idle' ? (
          <span class="badge" id="share-state" data-state={view.state} data-error={view.error} role="status">
            {t(`share.badge.${view.state}`)}
          </span>
        ) : undefined
      }
    >
      {support !== 'ok' ? (
        <p class="hint" id="share-unavailable" data-reason={support}>
          {t(support === 'insecure' ? 'share.insecure' : 'share.unsupported')}
        </p>
      ) : (
        <p class="hint">{t('share.hint')}</p>
      )}
      {status && (
        <p class={view.state === 'error' ? 'form-error' : 'hint'} id="share-status" aria-live="polite">
          {status}
        </p>
      )}
      <ErrorLine error={error} />
      <div class="buttons">
        {active ? (
          <button type="button" class="btn danger" id="share-stop" onClick={stop}>
            {t('share.stop')}
          </button>
        ) : (
          <button
            type="button"
            class="btn primary"
            id="share-start"
            disabled={support !== 'ok' || props.cls.status === 'archived'}
            onClick={() => void share()}
          >
            {t('share.start')}
          </button>
        )}
      </div>
    </Card>
  );
}
