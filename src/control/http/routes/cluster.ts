import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError } from '../../../shared/errors.ts';
import { requireRole } from '../../auth/policy.ts';
import type { MediaAction, MediaClaims, TokenService } from '../../auth/tokens.ts';
import type { Cluster, SelfView } from '../../cluster/cluster.ts';
import type { IssuedNodeCert } from '../../tls/node-cert.ts';
import type { Authenticator } from '../session.ts';
import { SECURED, errors } from '../schemas.ts';

/** What the cluster routes need. */
export interface ClusterRouteDeps {
  cluster: Cluster;
  tokens: TokenService;
  authenticator: Authenticator;
  authorizeMedia(token: string | undefined, path: string, action: MediaAction): Promise<MediaClaims>;
  /** The main's own entry in the operator view. */
  self: () => SelfView;
  /** The RTSP URL subs pull from, e.g. rtsp://10.0.0.2:8554. */
  rtspUrl: string;
  /** Assignment requests per minute per address. */
  assignRateLimit: number;
  /** Signs a sub's CSR with the main's local CA (tls/node-cert.ts); absent = no local CA (409). */
  signNodeCsr?: (nodeId: string, csr: string) => Promise<IssuedNodeCert>;
}

const NodeId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });

const RegisterBody = Type.Object(
  {
    id: NodeId,
    name: Type.String({ minLength: 1, maxLength: 64 }),
    httpUrl: Type.String({ pattern: '^https?://[^\\s]{1,200}$', description: 'Public base URL of the sub' }),
    httpsUrl: Type.Optional(
      Type.String({
        pattern: '^https://[^\\s]{1,200}$',
        description: 'Its HTTPS base URL, given to players on https pages',
      }),
    ),
    capacity: Type.Integer({ minimum: 0, maximum: 100_000 }),
    startedAt: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

const LoadBody = Type.Object(
  {
    viewers: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    cpu: Type.Number({ minimum: 0, maximum: 10_000, description: 'Percent of one core' }),
    paths: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 1000 }),
    pathViewers: Type.Optional(
      Type.Record(Type.String({ maxLength: 200 }), Type.Integer({ minimum: 0, maximum: 1_000_000 }), {
        maxProperties: 1000,
        description: 'Its viewers on each path',
      }),
    ),
  },
  { additionalProperties: false },
);

const NodeRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('main'), Type.Literal('sub')]),
  state: Type.Union([Type.Literal('alive'), Type.Literal('dead')]),
  httpUrl: Type.String(),
  httpsUrl: Type.Optional(
    Type.String({ description: 'Its HTTPS URL; students on https pages go only to nodes with one' }),
  ),
  capacity: Type.Integer(),
  viewers: Type.Integer(),
  cpu: Type.Number(),
  paths: Type.Array(Type.String()),
  assigned: Type.Integer({ description: 'Students the main sent to this node (recently)' }),
  startedAt: Type.String(),
  lastSeen: Type.String(),
});

const AssignBody = Type.Object(
  {
    failed: Type.Optional(NodeId),
    path: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._~-]{1,128}/[A-Za-z0-9._~-]{1,128}$',
        description: 'The path the player wants (403 when the token is for another); default the token’s',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * True when the asking page is on https (the request came over TLS, or its Origin/Referer is
 * https behind a TLS proxy): it must get https URLs, as an http:// WHEP URL is mixed content.
 */
export function securePage(req: FastifyRequest): boolean {
  const origin = req.headers.origin ?? req.headers.referer ?? '';
  return req.protocol === 'https' || /^https:/i.test(origin);
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return h && /^Bearer\s+\S/i.test(h) ? h.replace(/^Bearer\s+/i, '').trim() : undefined;
}

/**
 * The cluster API: sub nodes register and heartbeat with a node token; a student's player asks
 * where to connect (`POST /api/cluster/assign`); admins list the nodes.
 */
export function clusterRoutes(api: FastifyInstance, deps: ClusterRouteDeps): void {
  const { cluster, tokens } = deps;

  /** A node token, and it must name the node it speaks for. */
  const nodeAuth = async (req: FastifyRequest, id: string): Promise<void> => {
    const t = bearer(req);
    if (!t) throw new AirError('TOKEN_MISSING');
    const claims = await tokens.verifyNode(t);
    if (claims.sub !== id) throw new AirError('TOKEN_SCOPE', `This node token is for "${claims.sub}".`);
  };

  api.post<{ Body: Static<typeof RegisterBody> }>(
    '/cluster/nodes',
    {
      schema: {
        tags: ['cluster'],
        summary: 'A sub node registers (node token)',
        security: [{ bearer: [] }],
        body: RegisterBody,
        response: {
          201: Type.Object({ heartbeatMs: Type.Integer(), rtspUrl: Type.String() }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      await nodeAuth(req, req.body.id);
      await cluster.register({ ...req.body, viewers: 0, cpu: 0, paths: [] });
      return reply.code(201).send({ heartbeatMs: cluster.heartbeatMs, rtspUrl: deps.rtspUrl });
    },
  );

  api.post<{ Params: { id: string }; Body: { csr: string } }>(
    '/cluster/nodes/:id/certificate',
    {
      schema: {
        tags: ['cluster'],
        summary: "A sub node's HTTPS certificate from the main's local CA (node token)",
        description:
          'The body holds a PKCS#10 CSR (PEM, ECDSA P-256) whose subjectAltName names only IP ' +
          'addresses and host names (no wildcards, at most 32). The answer is the certificate ' +
          'and the chain to serve (certificate, then CA). The private key never leaves the sub. ' +
          '409 LOCAL_CA_UNAVAILABLE when this main has no local CA.',
        security: [{ bearer: [] }],
        params: Type.Object({ id: NodeId }),
        body: Type.Object(
          { csr: Type.String({ minLength: 1, maxLength: 16_384 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            cert: Type.String(),
            chain: Type.String(),
            ca: Type.String(),
            notAfter: Type.String(),
          }),
          ...errors(400, 401, 403, 409),
        },
      },
    },
    async (req, reply) => {
      await nodeAuth(req, req.params.id);
      if (!deps.signNodeCsr) throw new AirError('LOCAL_CA_UNAVAILABLE');
      void reply.header('Cache-Control', 'no-store');
      return deps.signNodeCsr(req.params.id, req.body.csr);
    },
  );

  api.put<{ Params: { id: string }; Body: Static<typeof LoadBody> }>(
    '/cluster/nodes/:id/heartbeat',
    {
      schema: {
        tags: ['cluster'],
        summary: 'A sub node reports its load (node token); 404 NODE_UNKNOWN: register again',
        security: [{ bearer: [] }],
        params: Type.Object({ id: NodeId }),
        body: LoadBody,
        response: { 204: Type.Null(), ...errors(400, 401, 404) },
      },
    },
    async (req, reply) => {
      await nodeAuth(req, req.params.id);
      if (!(await cluster.heartbeat(req.params.id, req.body))) throw new AirError('NODE_UNKNOWN');
      return reply.code(204).send();
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/cluster/nodes/:id',
    {
      schema: {
        tags: ['cluster'],
        summary: 'A sub node leaves (node token)',
        security: [{ bearer: [] }],
        params: Type.Object({ id: NodeId }),
        response: { 204: Type.Null(), ...errors(401) },
      },
    },
    async (req, reply) => {
      await nodeAuth(req, req.params.id);
      await cluster.remove(req.params.id);
      return reply.code(204).send();
    },
  );

  api.get(
    '/cluster/nodes',
    {
      schema: {
        tags: ['cluster'],
        summary: 'Nodes of the cluster: state, load, live paths, students assigned (admin)',
        security: SECURED,
        response: { 200: Type.Object({ nodes: Type.Array(NodeRow) }), ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      requireRole(await deps.authenticator.require(req), 'admin');
      void reply.header('Cache-Control', 'no-store');
      return { nodes: await cluster.rows(deps.self()) };
    },
  );

  api.post<{ Body: Static<typeof AssignBody> }>(
    '/cluster/assign',
    {
      schema: {
        tags: ['cluster', 'join'],
        summary: "Where this viewer's player connects: the WHEP URL on a sub node (or the main)",
        description:
          'Bearer: the student token from /api/join (or any read token of the class path). ' +
          '`path`: the path the player wants (403 when the token is for another). ' +
          '`failed`: the node the player just lost; it is probed and skipped when down.',
        security: [{ bearer: [] }],
        body: AssignBody,
        response: {
          200: Type.Object({
            whepUrl: Type.String(),
            node: Type.Object({ id: Type.String(), name: Type.String() }),
          }),
          ...errors(401, 403, 410, 503),
        },
      },
      config: { rateLimit: { max: deps.assignRateLimit, timeWindow: 60_000 } },
    },
    async (req, reply) => {
      const token = bearer(req);
      if (!token) throw new AirError('TOKEN_MISSING');
      const path = req.body?.path ?? (await tokens.verify(token)).path;
      const claims = await deps.authorizeMedia(token, path, 'read');
      void reply.header('Cache-Control', 'no-store');
      return cluster.assign(claims.sub, path, req.body?.failed, securePage(req));
    },
  );
}
