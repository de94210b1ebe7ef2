import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { canManageClass, check, requireRole } from '../../auth/policy.ts';
import { classIdOfPath } from '../../classroom/events.ts';
import type { ApiDeps } from '../api.ts';
import { SECURED, errors } from '../schemas.ts';
import { securePage } from './cluster.ts';

const JoinBody = Type.Object(
  {
    code: Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit join code' }),
    name: Type.String({ minLength: 1, maxLength: 40, description: 'Display name, e.g. 민지' }),
  },
  { additionalProperties: false },
);

const JoinResponse = Type.Object({
  token: Type.String({
    description:
      'Student token: Bearer for /api and /ws, and ?jwt= / Bearer for WHEP (read on live/<classId>)',
  }),
  expiresIn: Type.Integer({ description: 'Seconds' }),
  participantId: Type.String(),
  name: Type.String(),
  class: Type.Object({
    id: Type.String(),
    title: Type.String(),
    status: Type.Union([Type.Literal('scheduled'), Type.Literal('live'), Type.Literal('archived')]),
  }),
  path: Type.String(),
  whepUrl: Type.String({ description: 'WHEP URL on the node assigned to this student (a sub, or the main)' }),
  watchUrl: Type.String(),
  wsUrl: Type.String(),
  iceServers: Type.Array(
    Type.Object({
      urls: Type.Union([Type.String(), Type.Array(Type.String())]),
      username: Type.Optional(Type.String()),
      credential: Type.Optional(Type.String()),
    }),
    {
      description:
        'ICE servers for this student (RTCIceServer): the configured STUN/TURN servers, and TURN with a ' +
        'time-limited credential of this student when turnUrls is set (the WHEP answer’s Link headers carry the same)',
    },
  ),
});

const LegacyQuery = Type.Object({
  user_type: Type.Union([Type.Literal('teacher'), Type.Literal('student'), Type.Literal('monitor')]),
  user_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$' }),
  action: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('publish')])),
  stream: Type.Optional(Type.String({ maxLength: 200, description: 'Class id (or live/<classId>)' })),
  path: Type.Optional(Type.String({ maxLength: 200, description: 'live/<classId>' })),
});

const LegacyResponse = Type.Object({
  token: Type.String(),
  webrtc_url: Type.String({ description: 'WHEP (read) or WHIP (publish) URL with ?jwt=' }),
  expires_in: Type.Integer(),
  user_type: Type.String(),
  user_id: Type.String(),
  action: Type.String(),
  path: Type.String(),
  mode: Type.String(),
});

/**
 * `POST /api/join` — anyone with a valid join code (rate limited per address) — and the legacy
 * `POST /api/token?user_type=…&user_id=…&action=…&stream=<classId>`, which now serves only a
 * signed-in teacher (own classes) or admin and hands out a media-only token.
 */
export function joinRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { authenticator, classes, access, links } = deps;

  api.post<{ Body: Static<typeof JoinBody> }>(
    '/join',
    {
      schema: {
        tags: ['join'],
        summary: 'Join a class with its code: a student token, the WHEP and WebSocket URLs',
        body: JoinBody,
        response: { 200: JoinResponse, ...errors(400, 404, 410, 429) },
      },
      config: { rateLimit: { max: deps.joinRateLimit, timeWindow: 60_000 } },
    },
    async (req, reply) => {
      const result = await access.join(req.body.code, req.body.name);
      // The WHEP URL on the sub node this student is assigned to (the player asks again on a
      // failure, POST /api/cluster/assign); the main's own when no sub can take the student.
      if (deps.cluster) {
        try {
          result.whepUrl = (
            await deps.cluster.cluster.assign(result.participantId, result.path, undefined, securePage(req))
          ).whepUrl;
        } catch (e) {
          req.log.info({ err: (e as Error).message }, 'no node for the student yet; the player asks again');
        }
      }
      req.log.info({ classId: result.class.id, participantId: result.participantId }, 'student joined');
      void reply.header('Cache-Control', 'no-store');
      return { ...result, iceServers: deps.iceServersFor?.(result.participantId, result.class.id) ?? [] };
    },
  );

  api.post<{ Querystring: Static<typeof LegacyQuery> }>(
    '/token',
    {
      schema: {
        tags: ['join'],
        summary: 'Legacy media token for a class (signed-in teacher for own classes, admin)',
        security: SECURED,
        querystring: LegacyQuery,
        response: { 200: LegacyResponse, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      requireRole(p, 'teacher', 'admin');
      const q = req.query;
      const raw = q.path ?? q.stream;
      if (!raw)
        throw new AirError('VALIDATION', 'querystring: stream=<classId> or path=live/<classId> is required');
      const id = classIdOfPath(raw) ?? (raw.startsWith('live/') ? raw.slice(5) : raw);
      const c = await classes.get(id);
      check(canManageClass(p, c));
      const action = q.action ?? 'read';
      const t = await access.mediaToken(c, q.user_type, q.user_id, [action], deps.mediaTokenTtl);
      const base = action === 'publish' ? links.whipUrl(c.id) : links.whepUrl(c.id);
      void reply.header('Cache-Control', 'no-store');
      return {
        token: t.token,
        webrtc_url: `${base}?jwt=${t.token}`,
        expires_in: t.expiresIn,
        user_type: q.user_type,
        user_id: q.user_id,
        action,
        path: t.path,
        mode: 'main',
      };
    },
  );
}
