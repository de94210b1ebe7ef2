/**
 * Students' photos of their work during a lesson (issue 10): thumbnails, newest first, with the
 * sender's name and time, what the class's AI provider said the photo shows (Gemini only, and
 * marked so), a bigger view on click and "mark seen". Loads `GET /api/lessons/:id/photos` on open
 * and after every (re)connect, then follows `photo.new` / `photo.described` on the page's class
 * channel. The images come from `GET /api/photos/:id/file` with the console's session cookie.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import type { PhotoEntry } from '../lib/protocol.ts';
import { Card, ErrorLine, clock } from './ui.tsx';
import './photos.css';

const fileUrl = (id: string) => `/api/photos/${encodeURIComponent(id)}/file`;

/** The photo queue of the running lesson. */
export function PhotosPanel(props: { lessonId: string; channel: ClassChannel | null }): JSX.Element {
  const { t, lang } = useI18n();
  const { lessonId, channel } = props;
  const [photos, setPhotos] = useState<PhotoEntry[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    setPhotos([]);
    const merge = (list: PhotoEntry[]) =>
      setPhotos((cur) => {
        const byId = new Map(cur.map((p) => [p.id, p]));
        for (const p of list) byId.set(p.id, { ...byId.get(p.id), ...p });
        return [...byId.values()].sort((a, b) => b.at.localeCompare(a.at));
      });
    const load = () =>
      api<{ photos: PhotoEntry[] }>('GET', `/api/lessons/${lessonId}/photos`).then(
        (r) => {
          setError(null);
          merge(r.photos);
        },
        (e: unknown) => setError(e),
      );
    void load();
    if (!channel) return;
    const R = { replay: true };
    const offs = [
      channel.on('welcome', () => void load(), R),
      channel.on('photo.new', (e) => merge([e.photo]), R),
      channel.on(
        'photo.described',
        (e) =>
          setPhotos((cur) =>
            cur.map((p) => (p.id === e.id ? { ...p, description: e.description, provider: e.provider } : p)),
          ),
        R,
      ),
    ];
    return () => offs.forEach((off) => off());
  }, [channel, lessonId]);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal?.();
    if (!open && d.open) d.close();
  }, [open]);

  const markSeen = async (id: string) => {
    try {
      const p = await api<PhotoEntry>('POST', `/api/photos/${encodeURIComponent(id)}/seen`);
      setPhotos((cur) =>
        cur.map((x) => (x.id === id ? { ...x, seenAt: p.seenAt ?? new Date().toISOString() } : x)),
      );
    } catch (e) {
      setError(e);
    }
  };

  const by = (p: PhotoEntry) => t(p.provider === 'builtin' ? 'photos.byBuiltin' : 'photos.byGemini');
  const shown = photos.find((p) => p.id === open);
  const unseen = photos.filter((p) => !p.seenAt).length;

  return (
    <Card id="photos-card" title={t('photos.title', { n: unseen })} class="photos-card">
      <ErrorLine error={error} />
      {photos.length === 0 ? (
        <p class="hint">{t('photos.none')}</p>
      ) : (
        <ul class="photo-grid" id="photos">
          {photos.map((p) => (
            <li key={p.id} data-id={p.id} data-name={p.from.name} class={p.seenAt ? 'seen' : 'unseen'}>
              <button
                type="button"
                class="photo-thumb"
                aria-label={t('photos.open', { name: p.from.name })}
                onClick={() => setOpen(p.id)}
              >
                <img src={fileUrl(p.id)} alt="" loading="lazy" width={p.width} height={p.height} />
                {!p.seenAt && <span class="photo-new">{t('photos.new')}</span>}
              </button>
              <div class="photo-meta">
                <span class="photo-name">{p.from.name}</span>
                <span class="photo-at">{clock(p.at, lang)}</span>
              </div>
              {p.description && (
                <p class="photo-desc">
                  <span class="photo-by">{by(p)}</span> {p.description}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      <dialog
        ref={dialog}
        class="photo-dialog"
        id="photo-dialog"
        aria-label={shown ? t('photos.from', { name: shown.from.name }) : t('photos.titlePlain')}
        onClose={() => setOpen(null)}
        onClick={(e) => e.target === dialog.current && setOpen(null)}
      >
        {shown && (
          <figure>
            <img src={fileUrl(shown.id)} alt={t('photos.from', { name: shown.from.name })} />
            <figcaption>
              <strong>{shown.from.name}</strong> · {clock(shown.at, lang)} · {shown.width} × {shown.height}
              {shown.description && (
                <p class="photo-desc">
                  <span class="photo-by">{by(shown)}</span> {shown.description}
                </p>
              )}
            </figcaption>
            <div class="photo-actions">
              {!shown.seenAt ? (
                <button
                  type="button"
                  class="btn small primary"
                  id="photo-seen"
                  onClick={() => void markSeen(shown.id)}
                >
                  {t('photos.markSeen')}
                </button>
              ) : (
                <span class="hint">{t('photos.seen')}</span>
              )}
              <button type="button" class="btn small" onClick={() => setOpen(null)}>
                {t('photos.close')}
              </button>
            </div>
          </figure>
        )}
      </dialog>
    </Card>
  );
}
