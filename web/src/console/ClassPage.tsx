/**
 * One class in the console: the page's one class channel (`/ws?classId=`, the session
 * cookie), the header with the lesson buttons, and the cards — preview, join code, quizzes,
 * held chat messages waiting for review, hands and reactions, engagement, roster, recordings, RTMP settings, monitor links — with the
 * chat on the right (an archived class keeps only its recordings). The class is fetched again after events that change it (start, end, removal).
 */
import { ClassAiCard } from './ai/AiSettings.tsx';
import { QuestionsPanel } from './ai/QuestionsPanel.tsx';
import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../lib/api.ts';
import { ClassChannel } from '../lib/channel.ts';
import { Chat } from '../lib/components/chat/Chat.tsx';
import { useI18n } from '../lib/i18n.ts';
import { ClassHead } from './ClassHead.tsx';
import { EngagementPanel } from './Engagement.tsx';
import { HandsPanel } from './Hands.tsx';
import { JoinCard } from './JoinCard.tsx';
import { mergeSeries, useClassLive } from './live.ts';
import { ModerationPanel } from './Moderation.tsx';
import { PhotosPanel } from './Photos.tsx';
import { SlidesPanel } from './Slides.tsx';
import type { QuizInitial } from './quiz/QuizEditor.tsx';
import { MonitorLinks } from './MonitorLinks.tsx';
import { PreviewCard } from './Preview.tsx';
import { QuizPanel } from './quiz/QuizPanel.tsx';
import { Notice } from '../lib/components/Notice.tsx';
import { RecordingsPanel } from './Recordings.tsx';
import { RosterPanel } from './Roster.tsx';
import { StreamSetup } from './StreamSetup.tsx';
import { ScreenShare } from './ScreenShare.tsx';
import type { ClassInfo, EngagementPoint, StreamState } from './types.ts';

/** The class view; `onChange` tells the list about a changed class. */
export function ClassPage(props: { cls: ClassInfo; onChange: (c: ClassInfo) => void }): JSX.Element {
  const { t } = useI18n();
  const [cls, setCls] = useState(props.cls);
  /** A quiz drafted from a slide, for the quiz editor. */
  const [draft, setDraft] = useState<QuizInitial | null>(null);
  /** Bumped when the class's AI setting is saved: the panels that use AI ask again. */
  const [aiTick, setAiTick] = useState(0);
  const archived = cls.status === 'archived' || cls.archived === true;
  const channel = useMemo(
    () => (archived ? null : new ClassChannel({ classId: props.cls.id })),
    [props.cls.id, archived],
  );
  useEffect(() => () => channel?.close(), [channel]);
  const live = useClassLive(channel);
  const [earlier, setEarlier] = useState<EngagementPoint[]>([]);

  const update = (c: ClassInfo) => {
    setCls(c);
    props.onChange(c);
  };
  useEffect(() => setCls(props.cls), [props.cls.id]);

  // Events that change the class: read it again.
  useEffect(() => {
    if (live.classTick === 0) return;
    api<ClassInfo>('GET', `/api/classes/${cls.id}`).then(update, () => {});
  }, [live.classTick]);

  // Engagement so far in this lesson (the line starts at the lesson's start, not at page load).
  const lessonId = cls.status === 'live' ? (cls.lesson?.id ?? live.lessonId) : null;
  useEffect(() => {
    setEarlier([]);
    if (!lessonId) return;
    api<{ series?: EngagementPoint[] }>('GET', `/api/lessons/${lessonId}/engagement`).then(
      (r) => setEarlier(r.series ?? []),
      () => {},
    );
  }, [lessonId]);

  const isLive = cls.status === 'live';
  const stream: StreamState = live.stream ?? cls.stream?.state ?? (cls.stream?.live ? 'live' : 'offline');
  const stats = live.stats ?? (cls.stream?.live ? { ...cls.stream } : null);
  const series = useMemo(() => mergeSeries(earlier, live.series), [earlier, live.series]);

  return (
    <div class="class-page" data-class-id={cls.id}>
      <main class="main" id="main" aria-label={cls.title}>
        <ClassHead cls={cls} stream={stream} onChange={update} />
        {archived ? (
          <>
            <p class="empty">{t('head.archivedBody')}</p>
            <RecordingsPanel classId={cls.id} />
          </>
        ) : (
          <div class="grid">
            <div class="col wide">
              <PreviewCard
                classId={cls.id}
                path={cls.path}
                lessonKey={cls.lesson?.id ?? cls.lastLesson?.id ?? 'none'}
                stream={stream}
                stats={stats}
                reactions={live.reactions}
              />
              <ScreenShare cls={cls} onChange={update} />
              {isLive && live.recording?.state === 'stopped' ? (
                <Notice kind="error" id="recording-stopped">
                  {t(live.recording.reason === 'DISK_FULL' ? 'rec.stoppedDiskFull' : 'rec.stoppedFailed')}
                </Notice>
              ) : null}
              <QuizPanel classId={cls.id} channel={channel} live={isLive} draft={draft} />
              {lessonId && (
                <SlidesPanel lessonId={lessonId} channel={channel} onDraft={setDraft} aiTick={aiTick} />
              )}
              <StreamSetup cls={cls} onChange={update} />
              <RosterPanel roster={live.roster} classId={cls.id} />
              {/* A recording starts with the stream and ends with it or the lesson: read the list then. */}
              <RecordingsPanel classId={cls.id} refresh={`${live.classTick}:${stream}`} />
            </div>
            <div class="col">
              <JoinCard cls={cls} />
              <ModerationPanel classId={cls.id} channel={channel} />
              <HandsPanel hands={live.hands} channel={channel} counts={live.reactionCounts} />
              {lessonId && <PhotosPanel lessonId={lessonId} channel={channel} />}
              {lessonId && <QuestionsPanel lessonId={lessonId} channel={channel} aiTick={aiTick} />}
              <EngagementPanel engagement={live.engagement} series={series} live={isLive} />
              <MonitorLinks classId={cls.id} />
              <ClassAiCard classId={cls.id} onChange={() => setAiTick((n) => n + 1)} />
            </div>
          </div>
        )}
      </main>
      <aside class="chat-col" aria-label={t('chat.tab.chat')}>
        {channel ? <Chat channel={channel} /> : <p class="hint">{t('head.archivedChat')}</p>}
      </aside>
    </div>
  );
}
