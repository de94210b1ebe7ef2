/**
 * The JSON API under `/api`, in its own Fastify context: CORS for the configured origins,
 * strict TypeBox validation, the API body limit, and the route groups (auth, users, classes,
 * join). Everything it uses is built by the composition root and passed in.
 */
import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import type { IceServerConfig } from '../../media/servers/webrtc/whep-server.ts';
import type { ScryptParams } from '../auth/passwords.ts';
import type { MediaAction, MediaClaims, TokenService } from '../auth/tokens.ts';
import type { ClassAccess } from '../classroom/access.ts';
import type { ClassService } from '../classroom/class-service.ts';
import type { ClassLinks } from '../classroom/links.ts';
import type { TokenGate } from '../classroom/token-gate.ts';
import type { ClassRepo, LessonRepo, Store } from '../store/types.ts';
import { authRoutes } from './routes/auth.ts';
import { classRoutes } from './routes/classes.ts';
import { clusterRoutes, type ClusterRouteDeps } from './routes/cluster.ts';
import { joinRoutes } from './routes/join.ts';
import { lessonRoutes, type LessonRouteDeps } from './routes/lessons.ts';
import { moderationRoutes } from './routes/moderation.ts';
import { quizRoutes, type QuizRouteDeps } from './routes/quizzes.ts';
import { recordingApiRoutes, type RecordingRouteDeps } from './routes/recordings.ts';
import { reportRoutes } from './routes/reports.ts';
import { aiRoutes } from './routes/ai.ts';
import { photoRoutes, type PhotoRouteDeps } from './routes/photos.ts';
import { slideRoutes } from './routes/slides.ts';
import { systemRoutes, type SystemFacts } from './routes/system.ts';
import type { SlideService } from '../ai/slide-service.ts';
import type { AnalysisService } from '../ai/analysis-service.ts';
import type { AiSettings } from '../ai/ai-settings.ts';
import type { ReportService } from '../report/report-service.ts';
import { userRoutes } from './routes/users.ts';
import type { Authenticator } from './session.ts';
import type { StreamView } from './schemas.ts';
import { strictApi } from './validation.ts';

/** What the API routes need. */
export interface ApiDeps {
  store: Pick<Store, 'users' | 'participants' | 'revokedTokens' | 'held'>;
  tokens: TokenService;
  authenticator: Authenticator;
  /** Checks of verified tokens against the database. */
  gate: TokenGate;
  /** WHEP media tokens: scope, then the gate. */
  authorizeMedia(token: string | undefined, path: string, action: MediaAction): Promise<MediaClaims>;
  /** The stream of a class path on this node (ClassView `stream`); default: offline. */
  streamInfo?: (path: string) => StreamView;
  classes: ClassService;
  access: ClassAccess;
  links: ClassLinks;
  /** Lifetime of sign-in sessions, e.g. "12h". */
  sessionTtl: string;
  /** Lifetime of legacy media tokens (`POST /api/token`). */
  mediaTokenTtl: string;
  /** Join attempts per minute per address. */
  joinRateLimit: number;
  /** Sign-in attempts per minute per address. */
  loginRateLimit: number;
  /** Origins allowed to call the API cross-origin; "*" = any, without credentials. */
  corsOrigins: readonly string[];
  /** scrypt parameters for new passwords (tests lower them). */
  passwordParams?: ScryptParams;
  /** Quizzes (routes registered only when given). */
  quizzes?: QuizRouteDeps['quizzes'];
  /** Answers per minute per token. */
  answerRateLimit?: number;
  /** "My data" and lesson engagement (routes registered only when given). */
  studentData?: LessonRouteDeps['studentData'];
  /** The cluster API (registration, heartbeats, assignment, node list); absent = none. */
  cluster?: Omit<ClusterRouteDeps, 'tokens' | 'authenticator' | 'authorizeMedia'>;
  /** Recordings, replay and the HLS files (`/vod/…`); absent = none. */
  recordings?: Omit<RecordingRouteDeps, 'tokens' | 'authenticator' | 'participants'>;
  /** The dashboard's reports; absent = none. */
  reports?: { reports: ReportService; classes: ClassRepo; lessons: LessonRepo };
  /** The teacher's analyses (built-in analyzer; Gemini where a class turned it on); absent = none. */
  analysis?: AnalysisService;
  /** AI keys and per-class settings. */
  aiSettings?: AiSettings;
  /**
   * ICE servers for one viewer of a class (the join answer): the static iceServers, then TURN
   * with a time-limited credential (src/control/turn/); absent = none.
   */
  iceServersFor?: (viewer: string, classId: string) => IceServerConfig[];
  /** Students' photos of their work; absent = none. */
  photos?: Omit<PhotoRouteDeps, 'authenticator'>;
  /** Slides of lessons (snapshots, their text, quiz drafts); absent = none. */
  slides?: SlideService;
  /** `GET /api/system` (admin): addresses, versions, uptime, ports; absent = none. */
  system?: SystemFacts;
}

/** The recording routes' dependencies out of the API's. */
export function recordingDeps(deps: ApiDeps): RecordingRouteDeps | undefined {
  if (!deps.recordings) return undefined;
  const { tokens, authenticator, store } = deps;
  return { ...deps.recordings, tokens, authenticator, participants: store.participants };
}

/** Registers the `/api` context on `app`. */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(
    async (api) => {
      strictApi(api);
      // Same-origin only unless origins are configured (then `OPTIONS /api*` answers preflights).
      if (deps.corsOrigins.length > 0) {
        const any = deps.corsOrigins.includes('*');
        await api.register(cors, {
          origin: any ? '*' : [...deps.corsOrigins],
          credentials: !any,
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
          allowedHeaders: ['Authorization', 'Content-Type'],
          maxAge: 600,
        });
      }
      authRoutes(api, deps);
      userRoutes(api, deps);
      classRoutes(api, deps);
      joinRoutes(api, deps);
      quizRoutes(api, deps);
      lessonRoutes(api, deps);
      moderationRoutes(api, {
        held: deps.store.held,
        classes: deps.classes,
        authenticator: deps.authenticator,
      });
      const rec = recordingDeps(deps);
      if (rec) recordingApiRoutes(api, rec);
      if (deps.reports) reportRoutes(api, { ...deps.reports, authenticator: deps.authenticator });
      if (deps.analysis && deps.aiSettings) {
        aiRoutes(api, {
          analysis: deps.analysis,
          settings: deps.aiSettings,
          authenticator: deps.authenticator,
        });
      }
      if (deps.photos) photoRoutes(api, { ...deps.photos, authenticator: deps.authenticator });
      if (deps.slides) slideRoutes(api, { slides: deps.slides, authenticator: deps.authenticator });
      if (deps.system) systemRoutes(api, { ...deps.system, authenticator: deps.authenticator });
      if (deps.cluster) {
        const { tokens, authenticator, authorizeMedia } = deps;
        clusterRoutes(api, { ...deps.cluster, tokens, authenticator, authorizeMedia });
      }
    },
    { prefix: '/api' },
  );
}
