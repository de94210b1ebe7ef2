/**
 * The top of a class: title (rename in place), status, the stream badge, the lesson line, and
 * the lesson buttons: Start class / End class (two steps; ending is final for the lesson) and
 * archive (two steps). After an end it says the lesson ended and offers the next one, same code.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ClassInfo, StreamState } from './types.ts';
import { clock, Confirm, ErrorLine } from './ui.tsx';

/** The header of the class view; `onChange` gets the class after each action. */
export function ClassHead(props: {
  cls: ClassInfo;
  stream: StreamState;
  onChange: (c: ClassInfo) => void;
}): JSX.Element {
  const { t, lang } = useI18n();
  const { cls } = props;
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState(cls.title);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const live = cls.status === 'live';
  const archived = cls.status === 'archived' || cls.archived === true;
  const last = cls.lastLesson ?? null;
  const endedLesson = !live && last?.endedAt ? last : null;

  const act = async (method: string, path: string, body?: unknown) => {
    setError(null);
    setBusy(true);
    try {
      props.onChange(await api<ClassInfo>(method, `/api/classes/${cls.id}${path}`, body));
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const rename = async (e: Event) => {
    e.preventDefault();
    if (!title.trim()) return setError('head.titleEmpty');
    if (await act('PATCH', '', { title: title.trim() })) setRenaming(false);
  };

  return (
    <div class="class-head">
      <div class="title-line">
        {renaming ? (
          <form class="rename" onSubmit={rename}>
            <label class="sr-only" for="rename-title">
              {t('head.newTitle')}
            </label>
            <input
              id="rename-title"
              type="text"
              maxLength={200}
              value={title}
              onInput={(e) => setTitle(e.currentTarget.value)}
              onKeyDown={(e) => e.key === 'Escape' && setRenaming(false)}
              autoFocus
            />
            <button type="submit" class="btn primary small" id="rename-save" disabled={busy}>
              {t('head.save')}
            </button>
            <button type="button" class="btn small" onClick={() => setRenaming(false)}>
              {t('console.cancel')}
            </button>
          </form>
        ) : (
          <>
            <h1 id="class-title">{cls.title}</h1>
            {!archived && (
              <button
                type="button"
                class="btn small ghost"
                id="rename-class"
                onClick={() => {
                  setTitle(cls.title);
                  setRenaming(true);
                }}
              >
                {t('head.rename')}
              </button>
            )}
          </>
        )}
      </div>
      <div class="status-line">
        <span class="badge" id="class-status" data-status={cls.status}>
          {t(`head.status.${cls.status}`)}
        </span>
        {live && (
          <span class="badge" id="stream-badge" data-state={props.stream} role="status">
            {t(`head.stream.${props.stream}`)}
          </span>
        )}
        {live && cls.lesson && (
          <span class="lesson-line" id="lesson-line">
            {t('head.lessonRunning', { n: cls.lesson.number, at: clock(cls.lesson.startedAt, lang) })}
          </span>
        )}
        <span class="spacer" />
        {!archived && !live && (
          <button
            type="button"
            class="btn go"
            id="start-class"
            disabled={busy}
            onClick={() => act('POST', '/start')}
          >
            {t(endedLesson ? 'head.startNext' : 'head.start')}
          </button>
        )}
        {live && (
          <Confirm
            label={t('head.end')}
            question={t('head.endQ')}
            confirmLabel={t('head.endConfirm')}
            id="end-class"
            confirmId="confirm-end"
            danger
            onConfirm={() => act('POST', '/end')}
          />
        )}
        {!archived && (
          <Confirm
            label={t('head.archive')}
            question={t(live ? 'head.archiveLiveQ' : 'head.archiveQ')}
            id="archive-class"
            confirmId="confirm-archive"
            class="btn ghost"
            danger
            onConfirm={() => act('POST', '/archive')}
          />
        )}
      </div>
      {endedLesson && !archived && (
        <p class="notice-ok" id="lesson-ended" role="status">
          {t('head.lessonEnded', {
            n: endedLesson.number,
            at: clock(endedLesson.endedAt, lang),
            code: cls.joinCode ?? '',
          })}
        </p>
      )}
      {archived && (
        <p class="hint" id="class-archived">
          {t('head.archivedHint')}
        </p>
      )}
      <ErrorLine error={error} />
    </div>
  );
}
