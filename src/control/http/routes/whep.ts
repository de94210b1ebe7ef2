import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirError } from '../../../shared/errors.ts';
import type { IceServerConfig, WhepServer } from '../../../media/servers/webrtc/whep-server.ts';
import type { MediaAction, MediaClaims, TokenVerifier } from '../../auth/tokens.ts';

/** What the WHEP routes need. */
export interface WhepRouteDeps {
  whep: WhepServer;
  tokens: TokenVerifier;
  /**
   * Checks a media token for a path and action, then against the database (token gate: an
   * ended lesson → 410 LESSON_ENDED, a removed student → 403 REMOVED); default: scope only.
   */
  authorizeMedia?: (token: string | undefined, path: string, action: MediaAction) => Promise<MediaClaims>;
  /**
   * Runs before a viewer session is made, after the token check: a sub node starts pulling the
   * path from the main here (STREAM_NOT_LIVE when the main has nothing on it).
   */
  prepareMedia?: (path: string) => Promise<void>;
  iceServers: readonly IceServerConfig[];
  /**
   * Time-limited TURN credentials for one viewer of one class (turnUrls + turnSecret), sent
   * after the static iceServers in the POST answer's Link headers, and in OPTIONS to a request
   * with a valid token; absent = none.
   */
  turnFor?: (viewer: string, classId: string) => readonly IceServerConfig[];
  /** Requests per minute per address. */
  rateLimit: number;
}

/** The route params of WHEP and WHIP (`/:app/:name/whep|whip/:id`). */
export type Params = { app: string; name: string; id?: string };

const PATH_PART = /^[A-Za-z0-9._~-]{1,128}$/;

/** The stream path of a request (`live/<name>`), validated (WHEP and WHIP). */
export function streamPath(p: Params): string {
  if (!PATH_PART.test(p.app) || !PATH_PART.test(p.name)) throw new AirError('NOT_FOUND');
  return `${p.app}/${p.name}`;
}

/** The token of a request: `Authorization: Bearer`, else `?jwt=` (or `?token=`). */
export function requestToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
  const q = req.query as Record<string, string | undefined>;
  return q.jwt ?? q.token ?? undefined;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

/** `Link` header values announcing the configured ICE servers (WHEP §4.4). */
export function iceLinks(servers: readonly IceServerConfig[]): string[] {
  const links: string[] = [];
  for (const s of servers) {
    for (const url of typeof s.urls === 'string' ? [s.urls] : s.urls) {
      let v = `<${url}>; rel="ice-server"`;
      if (s.username !== undefined) v += `; username=${quote(s.username)}`;
      if (s.credential !== undefined) v += `; credential=${quote(s.credential)}; credential-type="password"`;
      links.push(v);
    }
  }
  return links;
}

const EXPOSE = 'Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After';

/** The CORS headers of the WHEP and WHIP answers (any origin, no credentials). */
export function cors(reply: FastifyReply): void {
  void reply.header('Access-Control-Allow-Origin', '*').header('Access-Control-Expose-Headers', EXPOSE);
}

/** WHEP egress routes: `/<app>/<name>/whep` and `/<app>/<name>/whep/<session>`. */
export function whepRoutes(app: FastifyInstance, deps: WhepRouteDeps): void {
  const { whep, tokens } = deps;
  const authorize = deps.authorizeMedia ?? ((t, p, a) => tokens.authorize(t, p, a));
  const links = iceLinks(deps.iceServers);
  const rateLimit = { max: deps.rateLimit, timeWindow: 60_000 };

  /** TURN links for the viewer of a token; [] without TURN, without a token or for a refused one. */
  const turnLinks = async (
    claims: () => MediaClaims | Promise<MediaClaims>,
    name: string,
  ): Promise<string[]> => {
    if (!deps.turnFor) return [];
    try {
      return iceLinks(deps.turnFor((await claims()).sub, name));
    } catch {
      return [];
    }
  };

  app.options<{ Params: Params }>('/:app/:name/whep', async (req, reply) => {
    const path = streamPath(req.params);
    cors(reply);
    // The player asks here before its first offer: a viewer with a valid token gets its TURN
    // credentials already (a preflight carries no token and gets the static servers only).
    const token = requestToken(req);
    const own =
      token && deps.turnFor ? await turnLinks(() => authorize(token, path, 'read'), req.params.name) : [];
    const all = [...links, ...own];
    void reply
      .code(204)
      .header('Accept-Post', 'application/sdp')
      .header('Allow', 'OPTIONS, POST')
      .header('Access-Control-Allow-Methods', 'OPTIONS, POST, PATCH, DELETE')
      .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match');
    if (all.length) void reply.header('Link', all);
    return reply.send();
  });

  app.post<{ Params: Params; Body: string }>(
    '/:app/:name/whep',
    { config: { rateLimit } },
    async (req, reply) => {
      const path = streamPath(req.params);
      cors(reply);
      if (!/^application\/sdp\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AirError('UNSUPPORTED_MEDIA_TYPE', 'The offer must be sent as application/sdp.');
      }
      const claims = await authorize(requestToken(req), path, 'read');
      await deps.prepareMedia?.(path);
      const { session, answer } = await whep.create(path, req.body, {
        owner: claims.sub,
        token: claims.jti ?? requestToken(req) ?? '-',
        address: req.ip,
      });
      void reply
        .code(201)
        .type('application/sdp')
        .header('Location', `/${path}/whep/${session.id}`)
        .header('ETag', session.etag)
        .header('Accept-Patch', 'application/trickle-ice-sdpfrag');
      const all = [...links, ...(await turnLinks(() => claims, req.params.name))];
      if (all.length) void reply.header('Link', all);
      return reply.send(answer);
    },
  );

  app.patch<{ Params: Params; Body: string }>(
    '/:app/:name/whep/:id',
    { config: { rateLimit } },
    async (req, reply) => {
      const path = streamPath(req.params);
      cors(reply);
      await authorize(requestToken(req), path, 'read');
      const session = whep.get(path, req.params.id ?? '');
      if (!/^application\/trickle-ice-sdpfrag\b/i.test(req.headers['content-type'] ?? '')) {
        throw new AirError('UNSUPPORTED_MEDIA_TYPE', 'Send candidates as application/trickle-ice-sdpfrag.');
      }
      const ifMatch = req.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch !== session.etag) throw new AirError('ETAG_MISMATCH');
      await session.addCandidates(req.body);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Params }>('/:app/:name/whep/:id', { config: { rateLimit } }, async (req, reply) => {
    const path = streamPath(req.params);
    cors(reply);
    await authorize(requestToken(req), path, 'read');
    whep.delete(path, req.params.id ?? '');
    return reply.code(200).send();
  });
}
