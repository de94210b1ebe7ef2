/**
 * Slides of the running lesson (issue 10): the latest snapshot of the live picture with the
 * text read from it and who read it (OCR, Gemini, or nobody), how many slides the lesson has,
 * and "Draft a quiz from this slide", which hands the draft to the quiz editor for the teacher
 * to edit and save. When neither OCR nor Gemini can read, the panel says so. Loads `GET
 * /api/lessons/:id/slides` on open and after every (re)connect, then follows `slide.new` on the
 * page's class channel; the image is `GET /api/slides/:id/image` with the session cookie.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Provider } from '../lib/ai/types.ts';
import { api } from '../lib/api.ts';
import type { ClassChannel } from '../lib/channel.ts';
import { useI18n } from '../lib/i18n.ts';
import type { SlideEntry } from '../lib/protocol.ts';
import type { QuizInitial } from './quiz/QuizEditor.tsx';
import { Card, ErrorLine, clock } from './ui.tsx';
import './slides.css';

interface Readers {
  ocr: { ok: boolean; langs: string[]; note?: string };
  gemini: boolean;
}

const imageUrl = (id: string) => `/api/slides/${encodeURIComponent(id)}/image`;

/** The slides card; `onDraft` opens the quiz editor with a draft. */
export function SlidesPanel(props: {
  lessonId: string;
  channel: ClassChannel | null;
  onDraft: (draft: QuizInitial) => void;
  /** Changes when the class's AI setting changed (who can read slides may have too). */
  aiTick?: number;
}): JSX.Element {
  const { t, lang } = useI18n();
  const { lessonId, channel } = props;
  const [slides, setSlides] = useState<SlideEntry[]>([]);
  const [readers, setReaders] = useState<Readers | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [drafted, setDrafted] = useState(false);

  // A new lesson starts empty; a changed AI setting only loads again (no flicker).
  useEffect(() => setSlides([]), [lessonId]);
  useEffect(() => {
    const merge = (list: SlideEntry[]) =>
      setSlides((cur) => {
        const byId = new Map(cur.map((s) => [s.id, s]));
        for (const s of list) byId.set(s.id, s);
        return [...byId.values()].sort((a, b) => a.at.localeCompare(b.at));
      });
    const load = () =>
      api<{ slides: SlideEntry[]; readers: Readers }>('GET', `/api/lessons/${lessonId}/slides`).then(
        (r) => {
          setError(null);
          setReaders(r.readers);
          merge(r.slides);
        },
        (e: unknown) => setError(e),
      );
    void load();
    if (!channel) return;
    const R = { replay: true };
    const offs = [
      channel.on('welcome', () => void load(), R),
      channel.on('slide.new', (e) => e.lessonId === lessonId && merge([e.slide]), R),
    ];
    return () => offs.forEach((off) => off());
  }, [channel, lessonId, props.aiTick]);

  const latest = slides[slides.length - 1];
  useEffect(() => setDrafted(false), [latest?.id]);

  const draft = async (id: string) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ provider: Provider; draft: QuizInitial }>(
        'POST',
        `/api/slides/${encodeURIComponent(id)}/draft`,
      );
      props.onDraft({ ...r.draft, provider: r.provider });
      setDrafted(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const noReader = readers !== null && !readers.ocr.ok && !readers.gemini;
  return (
    <Card id="slides-card" title={t('slides.title')} class="slides-card">
      <ErrorLine error={error} id="slides-error" />
      {noReader && (
        <p class="slides-warn" id="slides-no-reader" role="status">
          {t('slides.noReader')}
        </p>
      )}
      {readers?.ocr.ok && readers.ocr.note && !readers.gemini && (
        <p class="hint">{t('slides.ocrNote', { note: readers.ocr.note })}</p>
      )}
      {!latest ? (
        <p class="hint">{t('slides.none')}</p>
      ) : (
        <figure class="slide-latest" id="slide-latest" data-id={latest.id}>
          <img src={imageUrl(latest.id)} alt={t('slides.image', { time: clock(latest.at, lang) })} />
          <figcaption>
            <span class="slide-meta">
              {clock(latest.at, lang)} · <span class="slide-by">{t(`slides.by.${latest.reader}`)}</span> ·{' '}
              {t('slides.count', { n: slides.length })}
            </span>
            {latest.text ? (
              <pre class="slide-text" id="slide-text">
                {latest.text}
              </pre>
            ) : (
              <p class="hint">{t('slides.noText')}</p>
            )}
          </figcaption>
          <div class="slide-actions">
            <button
              type="button"
              class="btn small primary"
              id="slide-draft"
              disabled={busy || !latest.text}
              onClick={() => void draft(latest.id)}
            >
              {busy ? t('slides.drafting') : t('slides.draft')}
            </button>
            {drafted && (
              <span class="hint" role="status">
                {t('slides.drafted')}
              </span>
            )}
          </div>
        </figure>
      )}
    </Card>
  );
}
