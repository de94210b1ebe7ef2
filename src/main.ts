import { networkInterfaces } from 'node:os';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ports, type Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { TokenService } from './control/auth/tokens.ts';
import { ensureAdmin } from './control/auth/bootstrap.ts';
import { bridgeStreamEvents } from './control/classroom/events.ts';
import { createClassroom } from './control/classroom/wiring.ts';
import { openStore, type DrizzleStore } from './control/store/db.ts';
import { buildApp } from './control/http/app.ts';
import { openClassChannel, type ClassChannel } from './control/ws/channel.ts';
import { RtmpServer } from './media/servers/rtmp/rtmp-server.ts';
import { WhepServer } from './media/servers/whep/whep-server.ts';
import { StreamRegistry } from './media/stream/registry.ts';
import { AudioManager } from './media/transcode/audio-manager.ts';
import { locateFfmpeg } from './media/transcode/ffmpeg-locate.ts';
import { redactUrl, type Logger } from './shared/logger.ts';

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

/** What `startNode` takes besides the config (secrets that are not configuration). */
export interface StartOptions {
  /** Password of the admin made on first start (AIRCLASS_ADMIN_PASSWORD); else generated. */
  adminPassword?: string;
  /** Where a generated admin password is shown once; default stdout. Never the log. */
  print?: (text: string) => void;
}

/** The composition root: constructs every part from the config and starts the listeners. */
export async function startNode(cfg: Config, logger: Logger, opts: StartOptions = {}): Promise<RunningNode> {
  const p = ports(cfg);
  mkdirSync(cfg.dataDir, { recursive: true });
  const keys = await loadOrCreateKeys(cfg.dataDir);
  const tokens = new TokenService(keys);
  const host = publicHost(cfg);
  const httpUrl = cfg.publicUrl ? cfg.publicUrl.replace(/\/+$/, '') : `http://${host}:${p.http}`;
  const rtmpUrl = `rtmp://${host}:${p.rtmp}/live`;
  const store = await openStore({ databaseUrl: cfg.databaseUrl || undefined, dataDir: cfg.dataDir, logger });
  try {
    await ensureAdmin({
      users: store.users,
      email: cfg.adminEmail,
      password: opts.adminPassword ?? process.env.AIRCLASS_ADMIN_PASSWORD,
      print: opts.print ?? ((text) => process.stdout.write(text + '\n')),
      logger,
    });
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  let channel: ClassChannel;
  try {
    channel = await openClassChannel({
      redisUrl: cfg.redisUrl,
      redisPrefix: cfg.redisPrefix,
      historySize: cfg.wsHistorySize,
      maxMessageBytes: cfg.wsMaxMessageBytes,
      limits: { perSecond: cfg.wsMessagesPerSecond, burst: cfg.wsMessageBurst },
      store,
      // Called per socket, after the classroom below exists.
      authenticate: (token) => classroom.authenticator.authenticateToken(token),
      allowedOrigins: cfg.corsOrigins,
      logger,
    });
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
  const events = channel.events;
  const classroom = createClassroom({
    cfg,
    store,
    tokens,
    urls: { http: httpUrl, rtmp: rtmpUrl },
    events,
    logger,
  });
  const registry = new StreamRegistry({ reconnectGraceMs: cfg.reconnectGraceMs });
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
    : ({ ok: false, reason: 'audio transcoding disabled by configuration (audioTranscode: false)' } as const);
  if (!ffmpeg.ok) logger.warn({ reason: ffmpeg.reason }, 'browser audio is off: no usable ffmpeg');
  const audio = new AudioManager({ registry, logger: logger.child({ part: 'audio' }), ffmpeg });

  const announced = [...cfg.webrtcAnnouncedAddresses];
  if (cfg.webrtcAnnounceLoopback && !announced.includes('127.0.0.1')) announced.push('127.0.0.1');
  const whep = new WhepServer({
    registry,
    logger: logger.child({ part: 'whep' }),
    portRange: [p.webrtcMin, p.webrtcMax],
    announcedAddresses: announced,
    maxViewers: cfg.maxViewers,
    maxPending: cfg.maxPendingViewers,
  });

  const rtmp = new RtmpServer({
    registry,
    logger: logger.child({ part: 'rtmp' }),
    limits: { maxConnections: cfg.rtmpMaxConnections, maxMessageSize: cfg.rtmpMaxMessageSize },
    authorize: classroom.publishAuthorizer,
  });
  bridgeStreamEvents(registry, events);

  let ready = false;
  const http = await buildApp({
    logger,
    bodyLimit: cfg.httpBodyLimit,
    registry,
    whep,
    tokens,
    iceServers: cfg.iceServers,
    rateLimit: cfg.whepRateLimit,
    audio: () => audio.status(),
    ready: () => ready,
    startedAt: Date.now(),
    api: classroom.api,
    ws: channel.routes,
  }).catch(async (e: unknown) => {
    whep.close();
    await audio.close().catch(() => undefined);
    registry.close();
    await channel.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  });

  const closeAll = async (): Promise<void> => {
    ready = false;
    await rtmp.close();
    whep.close();
    await audio.close();
    registry.close();
    await channel.close();
    await http.close();
    await store.close();
  };
  try {
    await rtmp.listen(p.rtmp, cfg.host);
    await http.listen({ port: p.http, host: cfg.host });
  } catch (e) {
    await closeAll().catch(() => undefined);
    throw e;
  }
  ready = true;

  const urls = {
    http: httpUrl,
    rtmp: rtmpUrl,
    watch: `${httpUrl}/watch/live/<name>?jwt=<token>`,
  };
  logger.info({ http: urls.http, rtmp: redactUrl(urls.rtmp), audio: audio.status() }, 'AirClass started');

  let closing: Promise<void> | undefined;
  return {
    config: cfg,
    http,
    registry,
    whep,
    tokens,
    store,
    channel,
    urls,
    banner: () =>
      [
        'AirClass is running.',
        `  HTTP        ${urls.http}   (health: ${urls.http}/health)`,
        `  Sign in     ${urls.http}/login   (admin: ${cfg.adminEmail}; API docs: ${urls.http}/docs)`,
        `  Join        ${urls.http}/join   (students: class code and name)`,
        `  RTMP        server ${urls.rtmp}   stream key: the class's key (POST /api/classes)`,
        `              or ${urls.rtmp}/<name>?token=<publish token>`,
        `  Watch page  ${urls.watch}`,
        `  WHEP        ${urls.http}/live/<name>/whep`,
        `  Tokens      npm run airclass -- token --role teacher --path live/<name> --action publish` +
          (cfg.dataDir !== './data' ? ` --data-dir ${cfg.dataDir}` : ''),
        `              npm run airclass -- token --role student --path live/<name> --action read`,
        `  Audio       ${audio.status().available ? 'AAC → Opus via ffmpeg' : `off (${audio.status().reason})`}`,
      ].join('\n'),
    close: () => (closing ??= closeAll()),
  };
}
