import type { FastifyInstance } from 'fastify';
import { AirError } from '../../../shared/errors.ts';
import type { RtmpAuthorize } from '../../../media/servers/rtmp/rtmp-options.ts';
import type { WhipServer } from '../../../media/servers/webrtc/whip-server.ts';
import type { IceServerConfig } from '../../../media/servers/webrtc/whep-server.ts';
import { cors, iceLinks, requestToken, streamPath, type Params } from './whep.ts';

/** How a WHIP publisher got in: the tag RTMP's authorize hook gives ("key", "token"). */
export interface WhipGrant {
  auth?: string;
  /** Token subject, for logs. */
  owner?: string;
}

/** What the WHIP routes need. */
export interface WhipRouteDeps {
  whip: WhipServer;
  /**
   * Decides a publish on `path` with the Bearer credential, by the RTMP rules: the class's
   * stream key (starts its lesson), or a media token with `publish` on the path through the
   * token gate. Throws AirError (TOKEN_MISSING, TOKEN_INVALID, TOKEN_SCOPE, LESSON_ENDED …).
   */
  authorizePublish(credential: string | undefined, path: string, remote: string): Promise<WhipGrant>;
  iceServers: readonly IceServerConfig[];
  /** Requests per minute per address. */
  rateLimit: number;
}

/**
 * WHIP ingest routes (draft-ietf-wish-whip): `POST /<app>/<name>/whip` (application/sdp offer →
 * 201 + answer, Location, ETag), `PATCH …/whip/<session>` (trickle-ice-sdpfrag → 204),
 * `DELETE …/whip/<session>` (ends the publish → 200), `OPTIONS` (Accept-Post). PATCH and DELETE
 * take the credential the POST was made with.
 */
export function whipRoutes(app: FastifyInstance, deps: WhipRouteDeps): void {
  const { whip } = deps;
  const links = iceLinks(deps.iceServers);
  const rateLimit = { max: deps.rateLimit, timeWindow: 60_000 };

  app.options<{ Params: Params }>('/:app/:name/whip', async (req, reply) => {
    streamPath(req.params);
    cors(reply);
    void reply
      .code(204)
      .header('Accept-Post', 'application/sdp')
      .header('Allow', 'OPTIONS, POST')
      .header('Access-Control-Allow-Methods', 'OPTIONS, POST, PATCH, DELETE')
      .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
    if (links.length) void reply.header('Link', links);
    return reply.send();
  });

  app.options<{ Params: Params }>('/:app/:name/whip/:id', async (req, reply) => {
    streamPath(req.params);
    cors(reply);
    void reply
      .code(204)
      .header('Accept-Patch', 'application/trickle-ice-sdpfrag')
      .header('Allow', 'OPTIONS, PATCH, DELETE')
      .header('Access-Control-Allow-Methods', 'OPTIONS, PATCH, DELETE')
      .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
    return reply.send();
  });

  app.post<{ Params: Params; Body: string }>(
    '/:app/:name/whip',
    { config: { rateLimit } },
    async (req, reply) => {
      const path = streamPath(req.params);
      cors(reply);
      if (!/^application\/sdp\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AirError('UNSUPPORTED_MEDIA_TYPE', 'The offer must be sent as application/sdp.');
      }
      const grant = await deps.authorizePublish(requestToken(req), path, req.ip);
      const { session, answer } = await whip.create(path, req.body, {
        ...grant,
        address: req.ip,
        credential: requestToken(req),
      });
      void reply
        .code(201)
        .type('application/sdp')
        .header('Location', `/${path}/whip/${session.id}`)
        .header('ETag', session.etag)
        .header('Accept-Patch', 'application/trickle-ice-sdpfrag');
      if (links.length) void reply.header('Link', links);
      return reply.send(answer);
    },
  );

  app.patch<{ Params: Params; Body: string }>(
    '/:app/:name/whip/:id',
    { config: { rateLimit } },
    async (req, reply) => {
      const path = streamPath(req.params);
      cors(reply);
      // The session's own credential (checked in `get`): no second lookup, no lesson side effect.
      const session = whip.get(path, req.params.id ?? '', requestToken(req));
      if (!/^application\/trickle-ice-sdpfrag\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AirError('UNSUPPORTED_MEDIA_TYPE', 'Send candidates as application/trickle-ice-sdpfrag.');
      }
      const ifMatch = req.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch !== session.etag) throw new AirError('ETAG_MISMATCH');
      await session.addCandidates(req.body);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Params }>('/:app/:name/whip/:id', { config: { rateLimit } }, async (req, reply) => {
    const path = streamPath(req.params);
    cors(reply);
    whip.delete(path, req.params.id ?? '', requestToken(req));
    return reply.code(200).send();
  });
}

/**
 * The WHIP `authorizePublish` from RTMP's publish hook, so both ingests follow one set of
 * rules: a Bearer credential without dots is taken as a class stream key (it must be the key of
 * this path's class; a scheduled class starts its lesson, as with OBS); a JWT is a media token
 * that must allow `publish` on the path (and pass the token gate: LESSON_ENDED, revoked …).
 */
export function whipPublishAuthorizer(authorize: RtmpAuthorize): WhipRouteDeps['authorizePublish'] {
  return async (credential, path, remote) => {
    if (!credential) throw new AirError('TOKEN_MISSING');
    if (!credential.includes('.')) {
      const r = await authorize({ app: 'live', name: credential, query: new URLSearchParams(), remote });
      if (r.path !== path) throw new AirError('TOKEN_SCOPE', 'This stream key is for another class.');
      return r.auth !== undefined ? { auth: r.auth } : {};
    }
    const slash = path.indexOf('/');
    const r = await authorize({
      app: path.slice(0, slash),
      name: path.slice(slash + 1),
      query: new URLSearchParams({ token: credential }),
      remote,
    });
    return { auth: r.auth ?? 'token' };
  };
}
