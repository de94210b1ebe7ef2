import { networkInterfaces } from 'node:os';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ports, type Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { TokenService } from './control/auth/tokens.ts';
import { buildApp } from './control/http/app.ts';
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

/** The composition root: constructs every part from the config and starts the listeners. */
export async function startNode(cfg: Config, logger: Logger): Promise<RunningNode> {
  const p = ports(cfg);
  mkdirSync(cfg.dataDir, { recursive: true });
  const keys = await loadOrCreateKeys(cfg.dataDir);
  const tokens = new TokenService(keys);
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
    authorize: async ({ app, name, query }) => {
      const path = `${app}/${name}`;
      await tokens.authorize(query.get('token') ?? query.get('jwt') ?? undefined, path, 'publish');
      return { path };
    },
  });

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
  });

  const closeAll = async (): Promise<void> => {
    ready = false;
    await rtmp.close();
    whep.close();
    await audio.close();
    registry.close();
    await http.close();
  };
  try {
    await rtmp.listen(p.rtmp, cfg.host);
    await http.listen({ port: p.http, host: cfg.host });
  } catch (e) {
    await closeAll().catch(() => undefined);
    throw e;
  }
  ready = true;

  const host = publicHost(cfg);
  const urls = {
    http: `http://${host}:${p.http}`,
    rtmp: `rtmp://${host}:${p.rtmp}/live`,
    watch: `http://${host}:${p.http}/watch/live/<name>?jwt=<token>`,
  };
  logger.info({ http: urls.http, rtmp: redactUrl(urls.rtmp), audio: audio.status() }, 'AirClass started');

  let closing: Promise<void> | undefined;
  return {
    config: cfg,
    http,
    registry,
    whep,
    tokens,
    urls,
    banner: () =>
      [
        'AirClass is running.',
        `  HTTP        ${urls.http}   (health: ${urls.http}/health)`,
        `  RTMP        ${urls.rtmp}/<name>?token=<publish token>`,
        `              (OBS / Android apps: server ${urls.rtmp}, stream key <name>?token=<publish token>)`,
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
