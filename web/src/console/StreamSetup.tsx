/**
 * What the streaming app needs: the RTMP server and the stream key (hidden until "Show"), with
 * copy buttons, and "new key" behind a confirm that says the current publisher is disconnected
 * at once (`POST /api/classes/:id/stream-key`).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ClassInfo } from './types.ts';
import { Card, Confirm, CopyButton, ErrorLine } from './ui.tsx';

/** The RTMP card; `onChange` gets the class after a key rotation. */
export function StreamSetup(props: { cls: ClassInfo; onChange: (c: ClassInfo) => void }): JSX.Element {
  const { t } = useI18n();
  const [show, setShow] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [rotated, setRotated] = useState(false);
  const rtmp = props.cls.rtmp;
  if (!rtmp) return <></>;
  const rotate = async () => {
    setError(null);
    try {
      props.onChange(await api<ClassInfo>('POST', `/api/classes/${props.cls.id}/stream-key`));
      setRotated(true);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card id="stream-setup" title={t('rtmp.title')} class="stream-card">
      <p class="hint">{t('rtmp.hint')}</p>
      <div class="kv">
        <span class="label" id="rtmp-server-label">
          {t('rtmp.server')}
        </span>
        <span class="mono" id="rtmp-server" aria-labelledby="rtmp-server-label">
          {rtmp.server}
        </span>
        <CopyButton value={() => rtmp.server} label={t('rtmp.server')} />
      </div>
      <div class="kv">
        <span class="label" id="stream-key-label">
          {t('rtmp.key')}
        </span>
        {show ? (
          <span class="mono" id="stream-key" aria-labelledby="stream-key-label">
            {rtmp.streamKey}
          </span>
        ) : (
          <span class="mono secret" id="stream-key" aria-label={t('rtmp.keyHidden')}>
            ••••••••••••
          </span>
        )}
        <button
          type="button"
          class="btn small"
          id="toggle-key"
          aria-pressed={show}
          onClick={() => setShow(!show)}
        >
          {t(show ? 'rtmp.hide' : 'rtmp.show')}
        </button>
        <CopyButton value={() => rtmp.streamKey} label={t('rtmp.key')} id="copy-key" />
      </div>
      {show && (
        <div class="kv">
          <span class="label">{t('rtmp.fullUrl')}</span>
          <span class="mono clip" id="rtmp-url">
            {rtmp.url}
          </span>
          <CopyButton value={() => rtmp.url} label={t('rtmp.fullUrl')} />
        </div>
      )}
      <ErrorLine error={error} />
      {rotated && (
        <p class="notice-ok" role="status" id="key-rotated">
          {t('rtmp.rotated')}
        </p>
      )}
      <div class="buttons">
        <Confirm
          label={t('rtmp.rotate')}
          question={t('rtmp.rotateQ')}
          id="rotate-key"
          confirmId="confirm-rotate"
          danger
          onConfirm={rotate}
        />
      </div>
    </Card>
  );
}
