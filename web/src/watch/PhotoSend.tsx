/**
 * "Send a photo of my work" on the watch page (issue 10): the student picks or takes a photo
 * (JPEG, PNG or WebP; the phone's back camera is offered first), the page checks its size
 * before sending, uploads it as the raw body of `POST /api/classes/:id/photos` with the class
 * token and shows the progress, then "sent" or why it failed. Only the teacher sees the photo.
 */
import { useRef, useState } from 'preact/hooks';
import type { ClassChannel } from '../lib/channel.ts';
import { parseRetryAfter } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import { jwtPayload } from './token.ts';
import './photo.css';

/** The server's default `photoMaxBytes`. */
export const PHOTO_MAX_BYTES = 8 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
/** Error codes with their own sentence here. */
const KNOWN = new Set([
  'PHOTO_TYPE',
  'PHOTO_DIMENSIONS',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'LESSON_NOT_LIVE',
]);

type State =
  | { kind: 'idle' }
  | { kind: 'sending'; pct: number }
  | { kind: 'sent'; name: string }
  | { kind: 'failed'; code: string; retry?: number };

/** Uploads with progress (fetch has none for request bodies). */
function send(
  url: string,
  token: string,
  file: File,
  progress: (pct: number) => void,
): Promise<{ status: number; code: string; retry?: number }> {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open('POST', url);
    x.setRequestHeader('Authorization', `Bearer ${token}`);
    x.setRequestHeader('Content-Type', file.type);
    x.upload.onprogress = (e) => e.lengthComputable && progress(Math.round((e.loaded / e.total) * 100));
    x.onload = () => {
      let code: string;
      try {
        code = String((JSON.parse(x.responseText) as { error?: { code?: string } }).error?.code ?? '');
      } catch {
        code = '';
      }
      resolve({ status: x.status, code, retry: parseRetryAfter(x.getResponseHeader('Retry-After')) });
    };
    x.onerror = () => resolve({ status: 0, code: 'NETWORK' });
    x.send(file);
  });
}

/** The button, its hidden file input and the state line. */
export function PhotoSend({ channel, token }: { channel: ClassChannel; token: string }) {
  const { t } = useI18n();
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<State>({ kind: 'idle' });

  const picked = async (file: File | undefined) => {
    if (!file) return;
    if (!TYPES.includes(file.type)) return setState({ kind: 'failed', code: 'PHOTO_TYPE' });
    if (file.size > PHOTO_MAX_BYTES) return setState({ kind: 'failed', code: 'PAYLOAD_TOO_LARGE' });
    const classId = channel.welcome?.class.id ?? String(jwtPayload(token)?.cls ?? '');
    setState({ kind: 'sending', pct: 0 });
    const r = await send(`/api/classes/${encodeURIComponent(classId)}/photos`, token, file, (pct) =>
      setState({ kind: 'sending', pct }),
    );
    if (r.status === 201) setState({ kind: 'sent', name: file.name });
    else setState({ kind: 'failed', code: r.code || `HTTP_${r.status}`, retry: r.retry });
  };

  const line =
    state.kind === 'sending'
      ? t('watch.photo.sending', { pct: state.pct })
      : state.kind === 'sent'
        ? t('watch.photo.sent')
        : state.kind === 'failed'
          ? t(KNOWN.has(state.code) ? `watch.photo.error.${state.code}` : 'watch.photo.error.other', {
              s: state.retry ?? 5,
              mb: PHOTO_MAX_BYTES / 1024 / 1024,
            })
          : '';

  return (
    <div class="photo-send" id="photo-send" data-state={state.kind}>
      <input
        ref={input}
        type="file"
        id="photo-input"
        class="sr-only"
        accept="image/jpeg,image/png,image/webp"
        capture="environment"
        tabIndex={-1}
        aria-hidden="true"
        onChange={(e) => {
          const el = e.currentTarget;
          void picked(el.files?.[0]).finally(() => (el.value = ''));
        }}
      />
      <button
        type="button"
        class="btn small photo-button"
        id="photo-button"
        disabled={state.kind === 'sending'}
        onClick={() => input.current?.click()}
      >
        <span aria-hidden="true">📷</span> {t('watch.photo.button')}
      </button>
      {state.kind === 'sending' && (
        <progress class="photo-progress" max={100} value={state.pct} aria-label={t('watch.photo.progress')} />
      )}
      <p
        class={`photo-status${state.kind === 'failed' ? ' error' : ''}`}
        id="photo-status"
        role={state.kind === 'failed' ? 'alert' : 'status'}
      >
        {line}
      </p>
    </div>
  );
}
