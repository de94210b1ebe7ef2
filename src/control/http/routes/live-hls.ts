/**
 * Live HLS for students whose WebRTC cannot connect (media/recording/live-hls.ts):
 * `GET /live/<name>/hls/index.m3u8` (the sliding-window playlist) and
 * `GET /live/<name>/hls/<file>` (`init-<k>.mp4`, `seg-<n>.m4s`). The token comes as for WHEP
 * (`Authorization: Bearer`, else `?jwt=`); a playlist asked for with `?jwt=` names its init and
 * segment URIs with the same query, so players fetch them authorised.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirError } from '../../../shared/errors.ts';
import type { LiveHls } from '../../../media/recording/live-hls.ts';
import { requestToken } from './whep.ts';

/** What the live HLS routes need. */
export interface LiveHlsRouteDeps {
  hls: LiveHls;
  /** Checks a viewer's token for the path (throws AirError: TOKEN_*, LESSON_ENDED, REMOVED…). */
  authorize(token: string | undefined, path: string): Promise<void>;
  /**
   * Requests per minute per address (default 6000: a player asks about twice a second, and a
   * whole class behind one school NAT may be on HLS).
   */
  rateLimit?: number;
}

type Params = { name: string; file?: string };

const NAME = /^[A-Za-z0-9._~-]{1,128}$/;
const INIT = /^init(?:-(\d{1,9}))?\.mp4$/;
const SEGMENT = /^seg-(\d{1,12})\.m4s$/;

function streamPath(p: Params): string {
  if (!NAME.test(p.name)) throw new AirError('NOT_FOUND');
  return `live/${p.name}`;
}

/** The `?jwt=` the request carried (not a Bearer header), to repeat on the URIs. */
function queryToken(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, string | undefined>;
  return q.jwt ?? q.token ?? undefined;
}

function common(reply: FastifyReply): void {
  void reply.header('Access-Control-Allow-Origin', '*');
}

/** Registers the live HLS routes (also usable as `app.register(liveHlsRoutes, deps)`). */
export async function liveHlsRoutes(app: FastifyInstance, deps: LiveHlsRouteDeps): Promise<void> {
  const { hls } = deps;
  const config = { rateLimit: { max: deps.rateLimit ?? 6000, timeWindow: 60_000 } };

  app.get<{ Params: Params }>('/live/:name/hls/index.m3u8', { config }, async (req, reply) => {
    const path = streamPath(req.params);
    common(reply);
    await deps.authorize(requestToken(req), path);
    const jwt = queryToken(req);
    const r = await hls.playlist(path, jwt ? `jwt=${encodeURIComponent(jwt)}` : undefined);
    if (r.status !== 200) {
      throw new AirError('STREAM_NOT_LIVE', 'Nothing is live on this path yet.', { 'Retry-After': '2' });
    }
    return reply.type('application/vnd.apple.mpegurl').header('Cache-Control', 'no-cache').send(r.body);
  });

  app.get<{ Params: Params }>('/live/:name/hls/:file', { config }, async (req, reply) => {
    const path = streamPath(req.params);
    common(reply);
    const file = req.params.file ?? '';
    const init = INIT.exec(file);
    const seg = init ? null : SEGMENT.exec(file);
    if (!init && !seg) throw new AirError('NOT_FOUND');
    await deps.authorize(requestToken(req), path);
    const data = init
      ? hls.init(path, init[1] === undefined ? undefined : Number(init[1]))
      : hls.segment(path, Number(seg![1]));
    if (!data) throw new AirError('NOT_FOUND', 'No such segment (it may have left the live window).');
    return reply
      .type(init ? 'video/mp4' : 'video/iso.segment')
      .header('Cache-Control', 'max-age=60')
      .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
}
