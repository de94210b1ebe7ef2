import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { canManageClass, canMonitorClass, canViewClass, check, requireRole } from '../../auth/policy.ts';
import type { Principal } from '../../auth/policy.ts';
import type { ClassRecord } from '../../store/types.ts';
import { QR_DEFAULT_SIZE, QR_MAX_SIZE, QR_MIN_SIZE, qrPng, qrSvg } from '../../classroom/qr.ts';
import type { ApiDeps } from '../api.ts';
import { ClassView, IdParams, ParticipantView, SECURED, errors } from '../schemas.ts';
import { classView, participantView } from '../views.ts';

const CreateClass = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const QrQuery = Type.Object(
  { size: Type.Optional(Type.Integer({ minimum: QR_MIN_SIZE, maximum: QR_MAX_SIZE })) },
  { additionalProperties: false },
);
const MediaToken = Type.Object({
  token: Type.String({ description: 'Media token: read and publish on the class path' }),
  expiresIn: Type.Integer({ description: 'Seconds' }),
  path: Type.String(),
  whepUrl: Type.String({ description: 'Preview the class stream (Bearer or ?jwt=)' }),
  whipUrl: Type.String({ description: 'Share the screen from the browser (Bearer)' }),
});
const MonitorLink = Type.Object({
  url: Type.String({ description: 'Open to watch read-only; the token rides in the #fragment' }),
  token: Type.String(),
  expiresIn: Type.Integer({ description: 'Seconds' }),
});

type WithId = { Params: IdParams };
const tags = ['classes'];

/**
 * Classes under `/api/classes`: create and list (teacher, admin); get (its teacher, admin, and
 * the class's students and monitors without secrets); start, end, rotate the stream key, QR of
 * the join link, monitor share link, media token for preview/WHIP (its teacher, admin); roster
 * (its teacher, admin, monitor).
 */
export function classRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { authenticator, classes, access, links } = deps;

  /** The caller and the class of `:id`, after the given permission check. */
  async function load(
    req: FastifyRequest<WithId>,
    allowed: (p: Principal, c: ClassRecord) => boolean,
  ): Promise<{ p: Principal; c: ClassRecord }> {
    const p = await authenticator.require(req);
    const c = await classes.get(req.params.id);
    check(allowed(p, c));
    return { p, c };
  }

  api.post<{ Body: Static<typeof CreateClass> }>(
    '/classes',
    {
      schema: {
        tags,
        summary: 'Create a class (teacher, admin); it is owned by the caller',
        security: SECURED,
        body: CreateClass,
        response: { 201: ClassView, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const p = await authenticator.require(req);
      requireRole(p, 'teacher', 'admin');
      const c = await classes.create(p.sub, req.body.title.trim());
      return reply.code(201).send(classView(c, links, true));
    },
  );

  api.get(
    '/classes',
    {
      schema: {
        tags,
        summary: "List classes: a teacher's own, or all (admin)",
        security: SECURED,
        response: { 200: Type.Object({ classes: Type.Array(ClassView) }), ...errors(401, 403) },
      },
    },
    async (req) => {
      const p = await authenticator.require(req);
      requireRole(p, 'teacher', 'admin');
      const list = await classes.list(p.role === 'admin' ? undefined : p.sub);
      return { classes: list.map((c) => classView(c, links, true)) };
    },
  );

  api.get<WithId>(
    '/classes/:id',
    {
      schema: {
        tags,
        summary: 'A class (secrets only for its teacher and admins)',
        security: SECURED,
        params: IdParams,
        response: { 200: ClassView, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { p, c } = await load(req, canViewClass);
      return classView(c, links, canManageClass(p, c));
    },
  );

  const transition = (
    url: string,
    summary: string,
    act: (c: ClassRecord) => Promise<ClassRecord>,
    statuses: number[],
  ): void => {
    api.post<WithId>(
      url,
      {
        schema: {
          tags,
          summary,
          security: SECURED,
          params: IdParams,
          response: { 200: ClassView, ...errors(401, 403, 404, ...statuses) },
        },
      },
      async (req) => {
        const { c } = await load(req, canManageClass);
        return classView(await act(c), links, true);
      },
    );
  };
  transition('/classes/:id/start', 'Start the class (scheduled → live)', (c) => classes.start(c), [410]);
  transition(
    '/classes/:id/end',
    'End the class (frees the join code, stops the key)',
    (c) => classes.end(c),
    [],
  );
  transition(
    '/classes/:id/stream-key',
    'Rotate the stream key (the old key stops working at once)',
    (c) => classes.rotateStreamKey(c),
    [410],
  );

  api.get<WithId & { Querystring: Static<typeof QrQuery> }>(
    '/classes/:id/qr.png',
    {
      schema: {
        tags,
        summary: 'QR code of the join link as PNG (size × size px, default 512)',
        security: SECURED,
        params: IdParams,
        querystring: QrQuery,
        produces: ['image/png'],
        response: {
          200: { description: 'PNG image', type: 'string', format: 'binary' },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const { c } = await load(req, canManageClass);
      const png = await qrPng(links.joinUrl(c.joinCode), req.query.size ?? QR_DEFAULT_SIZE);
      return reply.type('image/png').header('Cache-Control', 'private, no-store').send(png);
    },
  );

  api.get<WithId>(
    '/classes/:id/qr.svg',
    {
      schema: {
        tags,
        summary: 'QR code of the join link as SVG',
        security: SECURED,
        params: IdParams,
        produces: ['image/svg+xml'],
        response: { 200: { description: 'SVG image', type: 'string' }, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { c } = await load(req, canManageClass);
      const svg = await qrSvg(links.joinUrl(c.joinCode));
      return reply.type('image/svg+xml').header('Cache-Control', 'private, no-store').send(svg);
    },
  );

  api.post<WithId>(
    '/classes/:id/monitor-link',
    {
      schema: {
        tags,
        summary: 'A read-only monitor share link for the class',
        security: SECURED,
        params: IdParams,
        response: { 201: MonitorLink, ...errors(401, 403, 404, 410) },
      },
    },
    async (req, reply) => {
      const { p, c } = await load(req, canManageClass);
      return reply.code(201).send(await access.monitorLink(c, p.sub));
    },
  );

  api.post<WithId>(
    '/classes/:id/media-token',
    {
      schema: {
        tags,
        summary: "A media token for the class's teacher: WHEP preview and WHIP screen sharing",
        security: SECURED,
        params: IdParams,
        response: { 200: MediaToken, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { p, c } = await load(req, canManageClass);
      const t = await access.mediaToken(c, 'teacher', p.sub, ['read', 'publish'], deps.mediaTokenTtl);
      void reply.header('Cache-Control', 'no-store');
      return { ...t, whepUrl: links.whepUrl(c.id), whipUrl: links.whipUrl(c.id) };
    },
  );

  api.get<WithId>(
    '/classes/:id/participants',
    {
      schema: {
        tags,
        summary: 'Attendance: who joined and left (teacher, admin, monitor)',
        security: SECURED,
        params: IdParams,
        response: {
          200: Type.Object({ participants: Type.Array(ParticipantView) }),
          ...errors(401, 403, 404),
        },
      },
    },
    async (req) => {
      const { c } = await load(req, canMonitorClass);
      return { participants: (await deps.store.participants.listByClass(c.id)).map(participantView) };
    },
  );
}
