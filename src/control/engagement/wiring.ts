/**
 * Builds the classroom features of issue 6 — quizzes, engagement, hands, reactions, "my data" —
 * from the store and the class channel. Called by the composition root (src/main.ts) and by
 * tests, so both wire alike:
 *
 *   const channel = await openClassChannel({ …, live: liveStateFromStore(store) });
 *   const features = createClassroomFeatures({ store, channel, logger });
 *   channel.routes.session.classroom = features.actions;
 *   Object.assign(classroom.api, features.api);
 *   await features.start();            // close timers of open quiz runs (after a restart)
 *   …  features.close() before channel.close()
 */
import type { Logger } from '../../shared/logger.ts';
import type { Bus } from '../bus/bus.ts';
import { QuizService } from '../quiz/quiz-service.ts';
import { pushedQuiz } from '../quiz/views.ts';
import { DrizzleEngagementRepo } from '../store/engagement-repo.ts';
import { DrizzleQuizRepo } from '../store/quiz-repo.ts';
import type { Db } from '../store/sql.ts';
import type { ClassRepo, LessonRepo, ParticipantRepo } from '../store/types.ts';
import type { LiveStateSource } from '../ws/class-state.ts';
import type { ClassHub } from '../ws/hub.ts';
import type { RosterEntry } from '../ws/messages.ts';
import { ClassroomFeatures } from './actions.ts';
import { StudentData } from './student-data.ts';
import { EngagementTracker } from './tracker.ts';

/** The store parts the features use. */
export interface FeatureStore {
  db: Db;
  classes: Pick<ClassRepo, 'byId'>;
  participants: Pick<ParticipantRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'current' | 'byId'>;
}

/** What {@link createClassroomFeatures} is built from. */
export interface FeatureOptions {
  store: FeatureStore;
  /** The class channel (its hub, bus and presence). */
  channel: {
    hub: Pick<ClassHub, 'publish' | 'state'>;
    bus: Bus;
    routes: { session: { presence: { list(classId: string): Promise<RosterEntry[]> } } };
  };
  logger: Logger;
  /** Least time between two `quiz.results` of a run (ms, default 100). */
  resultsEveryMs?: number;
  /** Engagement snapshot interval (ms, default 2000). */
  snapshotMs?: number;
  /** Quiz answers per minute per token (default 60). */
  answerRateLimit?: number;
}

/** The features, and what the API and the class channel take from them. */
export interface ClassroomFeatureSet {
  quizzes: QuizService;
  tracker: EngagementTracker;
  actions: ClassroomFeatures;
  studentData: StudentData;
  /** Fields for `ApiDeps` (`Object.assign(classroom.api, features.api)`). */
  api: { quizzes: QuizService; studentData: StudentData; answerRateLimit?: number };
  /** Schedules the close of every open quiz run (overdue ones close at once). */
  start(): Promise<void>;
  /** Stops timers and trackers. Idempotent. */
  close(): void;
}

/** The raised hands (interactions) and the open quiz of a class's running lesson. */
export function liveStateFromStore(store: Pick<FeatureStore, 'db' | 'lessons'>): LiveStateSource {
  const interactions = new DrizzleEngagementRepo(store.db);
  const quizzes = new DrizzleQuizRepo(store.db);
  return async (classId) => {
    const lesson = await store.lessons.current(classId);
    if (!lesson) return { hands: [], quiz: null };
    const [hands, run] = await Promise.all([
      interactions.raisedHands(classId, lesson.startedAt),
      quizzes.openRunOfLesson(lesson.id),
    ]);
    const q = run && run.closesAt.getTime() > Date.now() ? await quizzes.byId(run.quizId) : undefined;
    return { hands, quiz: q && run ? pushedQuiz(q, run) : null };
  };
}

/** Constructs the features (no I/O until `start`). */
export function createClassroomFeatures(o: FeatureOptions): ClassroomFeatureSet {
  const { store, channel } = o;
  const quizRepo = new DrizzleQuizRepo(store.db);
  const engagementRepo = new DrizzleEngagementRepo(store.db);
  const quizzes = new QuizService({
    quizzes: quizRepo,
    classes: store.classes,
    lessons: store.lessons,
    participants: store.participants,
    hub: channel.hub,
    logger: o.logger.child({ part: 'quiz' }),
    resultsEveryMs: o.resultsEveryMs,
  });
  const tracker = new EngagementTracker({
    bus: channel.bus,
    presence: channel.routes.session.presence,
    lessons: store.lessons,
    quizzes: quizRepo,
    samples: engagementRepo,
    logger: o.logger.child({ part: 'engagement' }),
    snapshotMs: o.snapshotMs,
  });
  const actions = new ClassroomFeatures({
    hub: channel.hub,
    tracker,
    interactions: engagementRepo,
    logger: o.logger.child({ part: 'classroom' }),
  });
  const studentData = new StudentData({
    participants: store.participants,
    classes: store.classes,
    lessons: store.lessons,
    quizzes: quizRepo,
    engagement: engagementRepo,
  });
  return {
    quizzes,
    tracker,
    actions,
    studentData,
    api: { quizzes, studentData, answerRateLimit: o.answerRateLimit },
    start: async () => {
      const n = await quizzes.start();
      if (n > 0) o.logger.info({ runs: n }, 'open quiz runs rescheduled');
    },
    close: () => {
      quizzes.stop();
      tracker.close();
    },
  };
}
