import type { FastifyInstance } from 'fastify';
import type { StreamRegistry } from '../../../media/stream/registry.ts';
import type { WhepServer } from '../../../media/servers/webrtc/whep-server.ts';
import type { JSONWebKeySet } from 'jose';

/** The transcoder's availability as /health reports it. */
export interface AudioStatus {
  available: boolean;
  reason?: string;
  path?: string;
  version?: string;
}

/** What the status routes need. */
export interface StatusRouteDeps {
  registry: StreamRegistry;
  whep: WhepServer;
  /** The JWKS this node serves (the main); absent on a sub. */
  jwks?: () => JSONWebKeySet;
  audio: () => AudioStatus;
  /** True once every listener is up and until shutdown starts. */
  ready: () => boolean;
  startedAt: number;
  /** More fields of /health (a sub's relay and cluster state). */
  extraHealth?: () => Record<string, unknown>;
}

/** `/health` (live paths, codecs, bitrate, viewers, ffmpeg), `/ready` and the JWKS. */
export function statusRoutes(app: FastifyInstance, deps: StatusRouteDeps): void {
  app.get('/health', async () => {
    const audio = deps.audio();
    const paths = deps.registry
      .list()
      .filter((s) => s.state !== 'idle' || s.readers.size > 0)
      .map((s) => ({
        path: s.path,
        state: s.state,
        publisher: s.publisher ? { protocol: s.publisher.protocol } : null,
        video: s.video
          ? { codec: s.video.codec, width: s.video.width, height: s.video.height, profile: s.video.profile }
          : null,
        audio: s.audio
          ? { codec: s.audio.codec, sampleRate: s.audio.sampleRate, channels: s.audio.channels }
          : null,
        // Opus from the transcoder, or published (relayed) as Opus.
        browserAudio:
          (s.opus ?? (s.audio?.codec === 'opus' ? s.audio : undefined))
            ? { codec: 'opus', sampleRate: (s.opus ?? s.audio)!.sampleRate }
            : { off: s.audioNote ?? 'no audio' },
        bitrateKbps: Math.round(s.bitrate / 1000),
        viewers: deps.whep.viewers(s.path),
      }));
    return {
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      viewers: deps.whep.viewers(),
      webrtc: {
        udpPort: deps.whep.udpPort,
        joins: deps.whep.joins,
        // The egress worker's last second: packets sent, its busy time, each path's audio hold.
        packetsPerSecond: deps.whep.figures?.packetsPerSecond ?? 0,
        workerBusyMs: Math.round(deps.whep.figures?.busyMs ?? 0),
        audioHoldMs: deps.whep.figures?.audioHoldMs ?? {},
        audioLagMs: deps.whep.figures?.audioLagMs ?? {},
      },
      paths,
      ffmpeg: audio,
      audio: audio.available ? 'on' : `off: ${audio.reason ?? 'unknown'}`,
      ...deps.extraHealth?.(),
    };
  });

  app.get('/ready', async (_req, reply) => {
    if (!deps.ready()) return reply.code(503).send({ ready: false });
    return { ready: true };
  });

  const jwks = deps.jwks;
  if (jwks) {
    app.get('/.well-known/jwks.json', async (_req, reply) => {
      void reply.header('Cache-Control', 'public, max-age=300');
      return jwks();
    });
  }
}
