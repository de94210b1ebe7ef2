import { networkInterfaces } from 'node:os';
import { Redis } from 'ioredis';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ports, type Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { TokenService } from './control/auth/tokens.ts';
import { ensureAdmin } from './control/auth/bootstrap.ts';
import {
  applyMediaCommand,
  BusClassMedia,
  MEDIA_CHANNEL,
  type ClassMedia,
} from './control/classroom/media.ts';
import { StreamWatch } from './control/classroom/stream-watch.ts';
import type { ClassEvents } from './control/classroom/events.ts';
import type { ClassEvent } from './control/classroom/events.ts';
import { createClassroom, type Classroom } from './control/classroom/wiring.ts';
import type { ScryptParams } from './control/auth/passwords.ts';
import {
  createClassroomFeatures,
  liveStateFromStore,
  type ClassroomFeatureSet,
  type FeatureOptions,
} from './control/engagement/wiring.ts';
import { openStore, type DrizzleStore } from './control/store/db.ts';
import { buildApp } from './control/http/app.ts';
import { openClassChannel, type ClassChannel } from './control/ws/channel.ts';
import { RtmpServer } from './media/servers/rtmp/rtmp-server.ts';
import { RtspServer } from './media/servers/rtsp/rtsp-server.ts';
import { Cluster, cpuMeter } from './control/cluster/cluster.ts';
import { MemoryNodeRegistry, RedisNodeRegistry } from './control/cluster/node-registry.ts';
import { AirError, isAirError } from './shared/errors.ts';
import { WhepServer } from './media/servers/webrtc/whep-server.ts';
import { WhipServer } from './media/servers/webrtc/whip-server.ts';
import { whipPublishAuthorizer } from './control/http/routes/whip.ts';
import { StreamRegistry } from './media/stream/registry.ts';
import { AudioManager } from './media/transcode/audio-manager.ts';
import { locateFfmpeg } from './media/transcode/ffmpeg-locate.ts';
import { CleanupStack } from './shared/cleanup.ts';
import { RecordingService } from './control/recording/recording-service.ts';
import { ReportService } from './control/report/report-service.ts';
import { AnalysisService } from './control/ai/analysis-service.ts';
import { AiSettings } from './control/ai/ai-settings.ts';
import { ClassAiRunner } from './control/ai/ai-runner.ts';
import { PhotoService } from './control/ai/photo-service.ts';
import { DrizzlePhotoRepo } from './control/store/photo-repo.ts';
import { BuiltinProvider } from './control/ai/builtin-provider.ts';
import { TesseractReader } from './control/ai/builtin/ocr.ts';
import { SlideWatcher } from './control/ai/slide-watcher.ts';
import { SlideService } from './control/ai/slide-service.ts';
import { turnFromConfig } from './control/turn/credentials.ts';
import { loadMasterKey } from './control/ai/secret-box.ts';
import { DrizzleQuizRepo } from './control/store/quiz-repo.ts';
import { Recorder } from './media/recording/recorder.ts';
import { repairRecordings } from './media/recording/repair.ts';
import { LiveHls } from './media/recording/live-hls.ts';
import { redactUrl, type Logger } from './shared/logger.ts';
import { closeHttps, httpsIdentity, listenHttps } from './control/tls/https-listener.ts';
import { createMetrics } from './control/metrics/metrics.ts';
import { watchMedia } from './control/metrics/media.ts';
import { watchStore } from './control/metrics/control.ts';
import { signNodeCsr } from './control/tls/node-cert.ts';

/** A running AirClass node (`airclass start`). */
export interface RunningNode {
  readonly config: Config;
  readonly http: FastifyInstance;
  readonly registry: StreamRegistry;
  readonly whep: WhepServer;
  readonly tokens: TokenService;
  /** The database (PGlite in the data dir, or PostgreSQL from DATABASE_URL). */
  readonly store: DrizzleStore;
  /** The class channel: /ws sockets, the bus (in-process or Redis), lifecycle events. */
  readonly channel: ClassChannel;
  /** The URLs a person needs, as printed on start. */
  readonly urls: { http: string; rtmp: string; watch: string };
  banner(): string;
  /** Closes every listener and child process. Idempotent. */
  close(): Promise<void>;
}

/** The address put in printed URLs: configured, else the first LAN IPv4, else loopback. */
export function publicHost(cfg: Config): string {
  if (cfg.publicHost) return cfg.publicHost;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** What `buildNode` takes besides the config (secrets that are not configuration, test seams). */
export interface StartOptions {
  /** Password of the admin made on first start (AIRCLASS_ADMIN_PASSWORD); else generated. */
  adminPassword?: string;
  /** Where a generated admin password is shown once; default stdout. Never the log. */
  print?: (text: string) => void;
  /** Make the first admin when the database has no account (default true; tests turn it off). */
  bootstrapAdmin?: boolean;
  /** An open store to use instead of the one the config names (tests); closed with the node. */
  store?: DrizzleStore;
  /** scrypt parameters for new passwords (tests lower them). */
  passwordParams?: ScryptParams;
  /** Sees every class event the classroom raises, before it is pushed (tests record them). */
  onClassEvent?: (classId: string, event: ClassEvent) => void;
  /** Timing of the classroom features (tests shorten them). */
  features?: Pick<FeatureOptions, 'snapshotMs' | 'answerRateLimit' | 'resultsEveryMs'>;
}

/** A node built but not yet listening (`start()` opens the listeners). */
export interface AirclassNode extends RunningNode {
  readonly classroom: Classroom;
  readonly features: ClassroomFeatureSet;
  readonly rtmp: RtmpServer;
  readonly rtsp: RtspServer;
  readonly cluster: Cluster;
  /** Lessons recorded to HLS on disk (absent with `record: false`). */
  readonly recorder: Recorder | undefined;
  readonly recordings: RecordingService;
  /**
   * Opens the RTMP and HTTP listeners (`listen: false`: none, for `inject()` tests), reschedules
   * the open quiz runs and marks the node ready. Call once.
   */
  start(opts?: { listen?: boolean }): Promise<void>;
}

/** The WHEP egress of a node (main or sub) from the config; `start()` it before use. */
export function createWhepServer(cfg: Config, registry: StreamRegistry, logger: Logger): WhepServer {
  const p = ports(cfg);
  const announced = [...cfg.webrtcAnnouncedAddresses];
  if (cfg.webrtcAnnounceLoopback && !announced.includes('127.0.0.1')) announced.push('127.0.0.1');
  return new WhepServer({
    registry,
    logger: logger.child({ part: 'whep' }),
    udpPort: p.webrtcUdp,
    ...(cfg.webrtcUdpMux ? {} : { portRange: [p.webrtcMin, p.webrtcMax] as [number, number] }),
    ...(cfg.webrtcBindAddress ? { bindAddress: cfg.webrtcBindAddress } : {}),
    announcedAddresses: announced,
    maxViewers: cfg.maxViewers,
    join: {
      maxInFlight: cfg.maxPendingViewers,
      maxQueued: cfg.joinQueueSize,
      maxWaitMs: cfg.joinQueueWaitMs,
      perToken: cfg.maxPendingPerToken,
      perAddress: cfg.maxPendingPerAddress,
    },
    rtcpTimeoutMs: cfg.webrtcRtcpTimeoutMs,
    ...(cfg.turnUrls.length > 0
      ? { turnShimPort: cfg.webrtcTurnShimPort === 0 ? 0 : cfg.webrtcTurnShimPort + cfg.portOffset }
      : {}),
  });
}

/** Builds and starts a node: what `airclass start` runs. Everything is closed if the start fails. */
export async function startNode(cfg: Config, logger: Logger, opts: StartOptions = {}): Promise<RunningNode> {
  const node = await buildNode(cfg, logger, opts);
  try {
    await node.start();
  } catch (e) {
    await node.close();
    throw e;
  }
  return node;
}

/**
 * The composition root: constructs every part from the config, with one cleanup stack, and
 * listens on nothing (`start()` does). Tests build their nodes here too, so they wire alike.
 */
export async function buildNode(cfg: Config, logger: Logger, opts: StartOptions = {}): Promise<AirclassNode> {
  const p = ports(cfg);
  mkdirSync(cfg.dataDir, { recursive: true });
  const keys = await loadOrCreateKeys(cfg.dataDir);
  const tokens = new TokenService(keys);
  const host = publicHost(cfg);
  // HTTPS (the local CA's certificate unless tlsCert is set); links and QR codes then use it.
  const tls = cfg.https ? await httpsIdentity(cfg, host) : undefined;
  const plainUrl = `http://${host}:${p.http}`;
  const httpUrl = cfg.publicUrl
    ? cfg.publicUrl.replace(/\/+$/, '')
    : tls
      ? `https://${host}${p.https === 443 ? '' : `:${p.https}`}`
      : plainUrl;
  const rtmpUrl = `rtmp://${host}:${p.rtmp}/live`;
  const stack = new CleanupStack(logger);
  let httpsServer: Awaited<ReturnType<typeof listenHttps>> | undefined;
  let ready = false;
  let http: FastifyInstance | undefined;
  try {
    const store =
      opts.store ??
      (await openStore({
        databaseUrl: cfg.databaseUrl || undefined,
        dataDir: cfg.dataDir,
        logger,
      }));
    stack.push('store', store, () => store.close());
    // Prometheus metrics: this node's own registry (never prom-client's global one), at /metrics.
    const metrics = createMetrics();
    stack.push('metrics', metrics, () => metrics.close());
    watchStore(metrics, store);
    // HTTP closes after the class channel (whose sockets record their departures first).
    stack.push('http', null, () => http?.close());
    stack.push('https', null, () => closeHttps(httpsServer));
    if (opts.bootstrapAdmin !== false) {
      await ensureAdmin({
        users: store.users,
        email: cfg.adminEmail,
        password: opts.adminPassword ?? process.env.AIRCLASS_ADMIN_PASSWORD,
        print: opts.print ?? ((text) => process.stdout.write(text + '\n')),
        logger,
      });
    }
    const channel = await openClassChannel({
      redisUrl: cfg.redisUrl,
      redisPrefix: cfg.redisPrefix,
      historySize: cfg.wsHistorySize,
      heartbeatMs: cfg.wsHeartbeatMs,
      maxMessageBytes: cfg.wsMaxMessageBytes,
      limits: { perSecond: cfg.wsMessagesPerSecond, burst: cfg.wsMessageBurst },
      store,
      // Called per socket, after the classroom below exists.
      authenticate: (token) => classroom.authenticator.authenticateToken(token),
      allowedOrigins: cfg.corsOrigins,
      logger,
      live: liveStateFromStore(store),
    });
    stack.push('channel', channel, () => channel.close());
    channel.routes.maxSocketsPerAddress = cfg.wsMaxSocketsPerAddress;
    const onClassEvent = opts.onClassEvent;
    // Ending a lesson also closes its open quiz (the features exist by the time it can end).
    const events: ClassEvents = {
      emit: (classId, event) => {
        onClassEvent?.(classId, event);
        if (event.type === 'class.ended') void features.quizzes.closeOpen(classId);
        void channel.events.emit(classId, event);
      },
    };

    const registry = new StreamRegistry({ reconnectGraceMs: cfg.reconnectGraceMs });
    stack.push('registry', registry, () => registry.close());
    registry.on('publish', (s) => {
      if (s.listenerCount('warning') === 0) {
        s.on('warning', (code, message) => logger.warn({ path: s.path, code }, message));
      }
      logger.info({ path: s.path, protocol: s.publisher?.protocol }, 'publishing started');
    });
    registry.on('unpublish', (s) =>
      logger.info(
        { path: s.path, graceMs: cfg.reconnectGraceMs },
        'publisher left; viewers wait for its return',
      ),
    );
    registry.on('offline', (s) => logger.info({ path: s.path }, 'stream offline'));

    const ffmpeg = cfg.audioTranscode
      ? await locateFfmpeg({ path: cfg.ffmpegPath || undefined })
      : ({
          ok: false,
          reason: 'audio transcoding disabled by configuration (audioTranscode: false)',
        } as const);
    if (!ffmpeg.ok) logger.warn({ reason: ffmpeg.reason }, 'browser audio is off: no usable ffmpeg');
    const audio = new AudioManager({ registry, logger: logger.child({ part: 'audio' }), ffmpeg });
    stack.push('audio', audio, () => audio.close());

    // Recording: the service keeps the rows; the recorder (media plane) writes the files. The
    // service's pending writes are awaited after the recorder has closed its recordings.
    const recRoot = cfg.recordingsDir || join(cfg.dataDir, 'recordings');
    const recordings = new RecordingService({
      store,
      tokens,
      events,
      logger: logger.child({ part: 'recordings' }),
      root: recRoot,
      node: 'main',
    });
    stack.push('recordings', recordings, async () => {
      recordings.close();
      await recordings.flush();
    });
    const recorder = cfg.record
      ? new Recorder({
          registry,
          root: recRoot,
          logger: logger.child({ part: 'recorder' }),
          begin: (path) => recordings.begin(path),
          onProgress: (id, p) => recordings.progress(id, p),
          onEnd: (id, p) => void recordings.end(id, p),
          minFreeBytes: cfg.recordMinFreeMb * 1024 * 1024,
          targetMs: cfg.recordSegmentMs,
        })
      : undefined;
    if (recorder) stack.push('recorder', recorder, () => recorder.close());

    // Live HLS, made on demand for students whose WebRTC cannot connect (UDP blocked).
    const liveHls = new LiveHls({ registry, logger: logger.child({ part: 'live-hls' }) });
    stack.push('live hls', liveHls, () => liveHls.close());

    const whep = createWhepServer(cfg, registry, logger);
    stack.push('whep', whep, () => whep.close());
    // WHIP ingest (the console's "share screen"): werift, one UDP port per publisher.
    if ((cfg.whipPortMin || cfg.whipPortMax) && !(cfg.whipPortMin > 0 && cfg.whipPortMax > cfg.whipPortMin)) {
      throw new AirError('CONFIG_INVALID', 'whipPortMax must be above whipPortMin (or both 0).');
    }
    const whip = new WhipServer({
      registry,
      logger: logger.child({ part: 'whip' }),
      ...(cfg.whipPortMin
        ? {
            portRange: [cfg.whipPortMin + cfg.portOffset, cfg.whipPortMax + cfg.portOffset] as [
              number,
              number,
            ],
          }
        : {}),
      announcedAddresses: [
        ...new Set([...cfg.webrtcAnnouncedAddresses, ...(cfg.webrtcAnnounceLoopback ? ['127.0.0.1'] : [])]),
      ],
      iceServers: cfg.iceServers,
    });
    stack.push('whip', whip, () => whip.close());
    await whep.start();
    watchMedia(metrics, { node: 'main', registry, whep, audio });
    // The class's viewers: this node's and those the subs report (set once the cluster is built).
    let subViewers: (path: string) => number = () => 0;
    const watch = new StreamWatch({
      registry,
      events,
      viewers: (path) => whep.viewers(path) + subViewers(path),
    });
    stack.push('stream watch', watch, () => watch.close());

    const mediaLog = logger.child({ part: 'media' });
    const classroom = createClassroom({
      cfg,
      store,
      tokens,
      urls: { http: httpUrl, rtmp: rtmpUrl },
      events,
      // Over the bus, so the node that holds the publisher or the viewers acts on it.
      media: new BusClassMedia(channel.bus, (e) => mediaLog.warn({ err: e }, 'media command not sent')),
      streamInfo: (path) => watch.info(path),
      logger,
      passwordParams: opts.passwordParams,
    });
    const features = createClassroomFeatures({ store, channel, logger, ...opts.features });
    stack.push('classroom features', features, () => features.close());
    channel.routes.session.classroom = features.actions;
    Object.assign(classroom.api, features.api);
    classroom.api.reports = {
      reports: new ReportService({ db: store.db }),
      classes: store.classes,
      lessons: store.lessons,
    };
    // AI: the built-in analyzer always; Gemini for a class whose teacher turned it on, with the
    // school's key (sealed under the master key in the data dir or AIRCLASS_SECRET_KEY).
    const aiSettings = new AiSettings({
      secrets: store.secrets,
      classes: store.classes,
      masterKey: loadMasterKey(cfg.dataDir),
      logger: logger.child({ part: 'ai' }),
      geminiBaseUrl: cfg.geminiBaseUrl,
      geminiModel: cfg.geminiModel,
      geminiTimeoutMs: cfg.geminiTimeoutMs,
      lessonTokenBudget: cfg.aiLessonTokenBudget,
    });
    classroom.api.aiSettings = aiSettings;
    // One runner decides, per lesson, whether Gemini or the built-in analyzer answers.
    const ocr = new TesseractReader({ path: cfg.tesseractPath || undefined });
    const ai = new ClassAiRunner({
      builtin: new BuiltinProvider({ ocr }),
      gemini: (classId, lessonId) => aiSettings.geminiFor(classId, lessonId),
      logger: logger.child({ part: 'ai' }),
    });
    classroom.api.analysis = new AnalysisService({
      db: store.db,
      quizzes: new DrizzleQuizRepo(store.db),
      classes: store.classes,
      lessons: store.lessons,
      results: store.aiResults,
      ai,
      lessonReport: (id) => classroom.api.reports!.reports.lessonReport(id),
    });
    // Students' photos of their work: files in the data dir, described by the class's provider.
    const photos = new PhotoService({
      photos: new DrizzlePhotoRepo(store.db),
      classes: store.classes,
      lessons: store.lessons,
      hub: channel.hub,
      ai,
      root: join(cfg.dataDir, 'photos'),
      logger: logger.child({ part: 'photos' }),
    });
    stack.push('photos', photos, () => photos.flush());
    classroom.api.photos = { photos, maxBytes: cfg.photoMaxBytes };
    // TURN (turnUrls + turnSecret): every viewer gets its own time-limited credential.
    const turn = turnFromConfig(cfg);
    classroom.api.iceServersFor = (viewer, classId) => [
      ...cfg.iceServers,
      ...(turn?.forViewer(viewer, classId) ?? []),
    ];
    // Slides: the live picture of a running lesson, kept when it changed, its text read.
    const slideFfmpeg = ffmpeg.ok ? ffmpeg : await locateFfmpeg({ path: cfg.ffmpegPath || undefined });
    const slideWatcher = new SlideWatcher({
      registry,
      db: store.db,
      lessons: store.lessons,
      ai,
      hub: channel.hub,
      logger: logger.child({ part: 'slides' }),
      dataDir: cfg.dataDir,
      ffmpeg: slideFfmpeg.ok ? slideFfmpeg.path : undefined,
      everyMs: cfg.slideEveryMs,
    });
    stack.push('slides', slideWatcher, () => slideWatcher.close());
    classroom.api.slides = new SlideService({
      db: store.db,
      classes: store.classes,
      lessons: store.lessons,
      ai,
      ocr: () => ocr.status(),
      gemini: async (classId, lessonId) => (await ai.active(classId, lessonId)) === 'gemini',
      dataDir: cfg.dataDir,
    });
    classroom.api.recordings = {
      recordings,
      rateLimit: cfg.hlsRateLimit,
      stopRecording: async (id) => {
        const active = recorder?.active().find((a) => a.id === id);
        if (active) await recorder!.stop(active.path);
      },
    };

    const rtmp = new RtmpServer({
      registry,
      logger: logger.child({ part: 'rtmp' }),
      limits: {
        maxConnections: cfg.rtmpMaxConnections,
        maxMessageSize: cfg.rtmpMaxMessageSize,
        maxPendingPerAddress: cfg.rtmpMaxPendingPerAddress,
        maxPending: Math.min(cfg.rtmpMaxPending, cfg.rtmpMaxConnections),
      },
      authorize: classroom.publishAuthorizer,
    });
    stack.push('rtmp', rtmp, () => rtmp.close());
    const rtsp = new RtspServer({
      registry,
      logger: logger.child({ part: 'rtsp' }),
      publicHost: host,
      // A sub's node token reads every path; anyone else needs a read token of the path.
      authorize: async (token, path) => {
        if (!token) throw new AirError('TOKEN_MISSING');
        try {
          await tokens.verifyNode(token);
          return;
        } catch (e) {
          if (!isAirError(e) || e.code !== 'TOKEN_INVALID') throw e;
        }
        await classroom.authorizeMedia(token, path, 'read');
      },
    });
    stack.push('rtsp', rtsp, () => rtsp.close());

    const redis = cfg.redisUrl
      ? new Redis(cfg.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 })
      : undefined;
    if (redis) {
      redis.on('error', (e) => logger.warn({ err: e.message }, 'cluster registry: Redis error'));
      stack.push('cluster redis', redis, () => redis.quit().catch(() => redis.disconnect()));
    }
    const nodeOpts = { heartbeatMs: cfg.clusterHeartbeatMs, missed: 3 };
    const cluster = new Cluster({
      registry: redis
        ? new RedisNodeRegistry({ redis, prefix: cfg.redisPrefix, ...nodeOpts })
        : new MemoryNodeRegistry(nodeOpts),
      logger,
      heartbeatMs: cfg.clusterHeartbeatMs,
      mainHasRoom: () => whep.viewers() < cfg.maxViewers,
      // A page on plain http keeps http URLs; one on https gets https ones.
      mainWhepUrl: (path, secure) => `${secure || !tls ? httpUrl : plainUrl}/${path}/whep`,
    });
    stack.push('cluster', cluster, () => cluster.close());
    subViewers = (path) => cluster.viewersOf(path);
    classroom.api.system = {
      name: cfg.nodeName || 'main',
      publicHost: host,
      publicUrl: httpUrl,
      ports: {
        http: p.http,
        https: tls ? p.https : null,
        rtmp: p.rtmp,
        rtsp: p.rtsp,
        webrtcUdp: p.webrtcUdp,
        webrtcUdpMux: cfg.webrtcUdpMux,
        webrtcPortMin: p.webrtcMin,
        webrtcPortMax: p.webrtcMax,
      },
      redis: Boolean(cfg.redisUrl),
      ffmpegVersion: () => (ffmpeg.ok ? ffmpeg.version : slideFfmpeg.ok ? slideFfmpeg.version : undefined),
      store,
    };
    const startedAt = Date.now();
    const cpu = cpuMeter();
    classroom.api.cluster = {
      cluster,
      rtspUrl: `rtsp://${host}:${p.rtsp}`,
      assignRateLimit: cfg.assignRateLimit,
      // Subs' HTTPS certificates from the local CA (one CA for the school); none with tlsCert.
      ...(tls?.ca
        ? {
            signNodeCsr: (nodeId: string, csr: string) =>
              signNodeCsr({
                dataDir: cfg.dataDir,
                nodeId,
                csr,
                // Subs' host names must be LAN-only ones or in this main's domain.
                domains: [host, ...(cfg.publicUrl ? [new URL(cfg.publicUrl).hostname] : [])],
              }),
          }
        : {}),
      self: () => ({
        id: 'main',
        name: 'main',
        httpUrl,
        capacity: cfg.maxViewers,
        viewers: whep.viewers(),
        cpu: cpu(),
        paths: registry
          .list()
          .filter((st) => st.state !== 'idle')
          .map((st) => st.path),
        startedAt,
      }),
    };

    const local: ClassMedia = {
      stopPath: (path, reason) => {
        const kicked = rtmp.kick(path, undefined, reason) + whip.closePath(path, undefined, reason);
        const stopped = registry.stop(path);
        const closed = whep.closePath(path, undefined, reason);
        if (kicked || stopped || closed) mediaLog.info({ path, reason, kicked, closed }, 'path stopped');
      },
      kickPublisher: (path, auth, reason) => {
        if (rtmp.kick(path, auth, reason) + whip.closePath(path, auth, reason))
          mediaLog.info({ path, reason }, 'publisher disconnected');
      },
      closeViewers: (path, filter) => {
        whep.closePath(path, filter?.owner, 'closed by the teacher');
        // The same student's players on sub nodes, through their RTSP pulls of this path.
        if (filter?.owner) rtsp.closeViewers(path, filter.owner);
      },
    };
    const unsubscribeMedia = channel.bus.subscribe(MEDIA_CHANNEL, (msg) => applyMediaCommand(local, msg));
    stack.push('media commands', null, () => unsubscribeMedia());
    await unsubscribeMedia.ready;

    http = await buildApp({
      logger,
      bodyLimit: cfg.httpBodyLimit,
      requestTimeoutMs: cfg.httpRequestTimeoutMs,
      registry,
      whep,
      tokens,
      jwks: () => tokens.jwksDocument(),
      iceServers: cfg.iceServers,
      ...(turn ? { turnFor: (viewer: string, classId: string) => turn.forViewer(viewer, classId) } : {}),
      rateLimit: cfg.whepRateLimit,
      audio: () => audio.status(),
      ready: () => ready,
      extraHealth: () => ({
        recording: recorder
          ? {
              on: true,
              active: recorder.active().map((r) => ({
                path: r.path,
                id: r.id,
                durationSec: Math.round(r.durationMs / 1000),
                sizeBytes: r.sizeBytes,
                overflows: r.overflows,
              })),
            }
          : { on: false, active: [] },
      }),
      startedAt: Date.now(),
      api: classroom.api,
      ws: channel.routes,
      metrics: { metrics, access: { allow: cfg.metricsAllow, token: cfg.metricsToken } },
      ...(tls ? { tls: { ca: tls.ca, httpsPort: p.https, redirect: cfg.httpRedirect } } : {}),
      whip: { whip, authorizePublish: whipPublishAuthorizer(classroom.publishAuthorizer) },
      liveHls: {
        hls: liveHls,
        rateLimit: cfg.hlsRateLimit,
        authorize: cachedAuthorize((token, path) => classroom.authorizeMedia(token, path, 'read')),
      },
    });
    const app = http;
    stack.push('ready', null, () => (ready = false));
    const node = running(
      cfg,
      logger,
      { http: app, registry, whep, tokens, store, channel, audio },
      httpUrl,
      rtmpUrl,
      stack,
    );
    return {
      ...node,
      banner: () =>
        node.banner() +
        (tls
          ? `\n  Plain HTTP  ${plainUrl}   (the same pages; devices fetch the CA here)` +
            (tls.ca ? `\n  Trust       ${plainUrl}/tls   (local CA, SHA-256 ${tls.ca.fingerprint})` : '')
          : ''),
      classroom,
      features,
      rtmp,
      rtsp,
      cluster,
      recorder,
      recordings,
      start: async ({ listen = true } = {}) => {
        // What a crash left open is closed first, then new lessons are recorded.
        mkdirSync(recRoot, { recursive: true });
        await recordings.reconcile(await repairRecordings(recRoot, logger.child({ part: 'recorder' })));
        recorder?.start();
        recordings.startRetention();
        // Students' photos follow the class's retention too, on the same hourly rhythm.
        const photoRetention = () =>
          void photos.runRetention().catch((e: unknown) => logger.warn({ err: e }, 'photo retention failed'));
        photoRetention();
        const photoTimer = setInterval(photoRetention, 3_600_000);
        photoTimer.unref();
        stack.push('photo retention', photoTimer, () => clearInterval(photoTimer));
        if (listen) {
          await rtmp.listen(p.rtmp, cfg.host);
          await rtsp.listen(p.rtsp, cfg.host);
          await app.listen({ port: p.http, host: cfg.host });
          if (tls) httpsServer = await listenHttps(app, { port: p.https, host: cfg.host, ...tls });
        } else {
          await app.ready();
        }
        await features.start();
        slideWatcher.start();
        ready = true;
        if (listen)
          logger.info(
            {
              http: httpUrl,
              rtmp: redactUrl(rtmpUrl),
              audio: audio.status(),
              caFingerprint: tls?.ca?.fingerprint,
            },
            'AirClass started',
          );
      },
    };
  } catch (e) {
    await stack.run();
    throw e;
  }
}

/**
 * A media read check remembered for a few seconds per token and path: an HLS player asks about
 * twice a second, and each check reads the database (a removed student is cut within 3 s).
 */
function cachedAuthorize(
  check: (token: string | undefined, path: string) => Promise<unknown>,
  ttlMs = 3000,
): (token: string | undefined, path: string) => Promise<void> {
  const cache = new Map<string, { at: number; ok: Promise<void> }>();
  return (token, path) => {
    if (!token) return check(token, path).then(() => undefined);
    const key = `${path}\0${token}`;
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.ok;
    const ok = check(token, path).then(() => undefined);
    if (cache.size > 5000) cache.clear();
    cache.set(key, { at: now, ok });
    ok.catch(() => cache.delete(key));
    return ok;
  };
}

/** The running node's handle: URLs, banner and the one way to close it all. */
function running(
  cfg: Config,
  logger: Logger,
  parts: Pick<RunningNode, 'http' | 'registry' | 'whep' | 'tokens' | 'store' | 'channel'> & {
    audio: AudioManager;
  },
  httpUrl: string,
  rtmpUrl: string,
  stack: CleanupStack,
): RunningNode {
  const { audio } = parts;
  const dataDirArg = cfg.dataDir !== './data' ? ` --data-dir ${cfg.dataDir}` : '';
  const urls = {
    http: httpUrl,
    rtmp: rtmpUrl,
    watch: `${httpUrl}/watch/live/<name>?jwt=<token>`,
  };
  let closing: Promise<void> | undefined;
  return {
    config: cfg,
    ...parts,
    urls,
    banner: () =>
      [
        'AirClass is running.',
        `  ${urls.http.startsWith('https:') ? 'HTTPS' : 'HTTP '}       ${urls.http}   (health: ${urls.http}/health)`,
        `  Sign in     ${urls.http}/login   (admin: ${cfg.adminEmail}; API docs: ${urls.http}/docs)`,
        `  Join        ${urls.http}/join   (students: class code and name)`,
        `  RTMP        server ${urls.rtmp}   stream key: the class's key (POST /api/classes)`,
        `              or ${urls.rtmp}/<name>?token=<publish token>`,
        `  Watch page  ${urls.watch}`,
        `  WHEP        ${urls.http}/live/<name>/whep`,
        `  WHIP        ${urls.http}/live/<name>/whip   (Bearer: the class's stream key or a publish token)`,
        `  Tokens      npm run airclass -- token --role teacher --path live/<name> --action publish${dataDirArg}`,
        `              npm run airclass -- token --role student --path live/<name> --action read${dataDirArg}`,
        `  Audio       ${audio.status().available ? 'AAC → Opus via ffmpeg' : `off (${audio.status().reason})`}`,
      ].join('\n'),
    close: () => (closing ??= stack.run()),
  };
}
