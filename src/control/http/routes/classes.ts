import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { canManageClass, canMonitorClass, canViewClass, check, requireRole } from '../../auth/policy.ts';
import type { Principal } from '../../auth/policy.ts';
import type { ClassRecord } from '../../store/types.ts';
import { QR_DEFAULT_SIZE, QR_MAX_SIZE, QR_MIN_SIZE, qrPng, qrSvg } from '../../classroom/qr.ts';
import type { ApiDeps } from '../api.ts';
import { monitorSubject } from '../../classroom/access.ts';
import {
  ClassView,
  IdParams,
  LessonView,
  MonitorLinkView,
  ParticipantView,
  SECURED,
  errors,
} from '../schemas.ts';
import { classView, lessonView, monitorLinkView, participantView } from '../views.ts';

const CreateClass = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 200, description: 'Must contain a visible character' }) },
  { additionalProperties: false },
);
const SubParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  sub: Type.String({ minLength: 1, maxLength: 64 }),
});
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
  id: Type.String({ description: 'The link (to revoke it)' }),
  url: Type.String({ description: 'Open to watch read-only; the token rides in the #fragment' }),
  token: Type.String(),
  expiresIn: Type.Integer({ description: 'Seconds' }),
});

type WithId = { Params: IdParams };
type WithSub = { Params: Static<typeof SubParams> };
const tags = ['classes'];

/**
 * Classes under `/api/classes`: create and list (teacher, admin); get (its teacher, admin, and
 * the class's students and monitors without secrets); rename, archive, start the next lesson,
 * end the running one, rotate the stream key, QR of the join link, monitor share links (create,
 * list, revoke), remove a student, media token for preview/WHIP (its teacher, admin); roster
 * and lessons (its teacher, admin, monitor).
 */
export function classRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { authenticator, classes, access, links } = deps;

  /** The view of a class with its lessons and stream. */
  async function view(c: ClassRecord, full: boolean): Promise<ClassView> {
    const { lesson, last } = await classes.lessonsOf(c);
    return classView(c, links, full, {
      lesson,
      lastLesson: last,
      stream: deps.streamInfo?.(links.path(c.id)),
    });
  }

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
      const c = await classes.create(p.sub, req.body.title);
      return reply.code(201).send(await view(c, true));
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
      return { classes: await Promise.all(list.map((c) => view(c, true))) };
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
      return view(c, canManageClass(p, c));
    },
  );

  api.patch<WithId & { Body: Static<typeof CreateClass> }>(
    '/classes/:id',
    {
      schema: {
        tags,
        summary: 'Rename the class (title must contain a visible character)',
        security: SECURED,
        params: IdParams,
        body: CreateClass,
        response: { 200: ClassView, ...errors(400, 401, 403, 404, 410) },
      },
    },
    async (req) => {
      const { c } = await load(req, canManageClass);
      return view(await classes.rename(c, req.body.title), true);
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
        return view(await act(c), true);
      },
    );
  };
  transition(
    '/classes/:id/start',
    'Start the next lesson (scheduled → live; idempotent while live)',
    (c) => classes.start(c),
    [410],
  );
  transition(
    '/classes/:id/end',
    "End the running lesson, for good: publisher disconnected, viewers closed, the lesson's tokens refused",
    (c) => classes.end(c),
    [],
  );
  transition(
    '/classes/:id/archive',
    'End a running lesson, then archive the class (join code freed, key refused, read-only)',
    (c) => classes.archive(c),
    [],
  );
  transition(
    '/classes/:id/stream-key',
    'Rotate the stream key (a publisher that used the old key is disconnected at once)',
    (c) => classes.rotateStreamKey(c),
    [410],
  );

  api.get<WithId>(
    '/classes/:id/lessons',
    {
      schema: {
        tags,
        summary: 'Lessons of the class, newest first (teacher, admin, monitor)',
        security: SECURED,
        params: IdParams,
        response: { 200: Type.Object({ lessons: Type.Array(LessonView) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { c } = await load(req, canMonitorClass);
      return { lessons: (await classes.lessons(c)).map(lessonView) };
    },
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

  for (const url of ['/classes/:id/monitor-links', '/classes/:id/monitor-link']) {
    api.post<WithId>(
      url,
      {
        schema: {
          tags,
          summary: 'A read-only monitor share link for the current lesson (revocable)',
          security: SECURED,
          params: IdParams,
          response: { 201: MonitorLink, ...errors(401, 403, 404, 410) },
        },
      },
      async (req, reply) => {
        const { p, c } = await load(req, canManageClass);
        void reply.header('Cache-Control', 'no-store');
        return reply.code(201).send(await access.monitorLink(c, p.sub));
      },
    );
  }

  api.get<WithId>(
    '/classes/:id/monitor-links',
    {
      schema: {
        tags,
        summary: 'Monitor share links of the class, newest first (no tokens)',
        security: SECURED,
        params: IdParams,
        response: { 200: Type.Object({ links: Type.Array(MonitorLinkView) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { c } = await load(req, canManageClass);
      return { links: (await access.monitorLinks(c)).map((l) => monitorLinkView(l)) };
    },
  );

  api.delete<WithSub>(
    '/classes/:id/monitor-links/:sub',
    {
      schema: {
        tags,
        summary: 'Revoke a monitor link: its token stops, its viewers and sockets close',
        security: SECURED,
        params: SubParams,
        response: { 200: MonitorLinkView, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { c } = await load(req as unknown as FastifyRequest<WithId>, canManageClass);
      const l = await access.revokeMonitorLink(c, req.params.sub);
      classes.monitorRevoked(c, monitorSubject(l.id));
      return monitorLinkView(l);
    },
  );

  api.delete<WithSub>(
    '/classes/:id/participants/:sub',
    {
      schema: {
        tags,
        summary: 'Remove a student from the lesson: their token stops (REMOVED), they are told why',
        security: SECURED,
        params: SubParams,
        response: { 200: ParticipantView, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      const { c } = await load(req as unknown as FastifyRequest<WithId>, canManageClass);
      return participantView(await classes.removeParticipant(c, req.params.sub));
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
      // The caller's own role: the token gate checks it against the account (an admin's preview too).
      const role = p.role === 'admin' ? 'admin' : 'teacher';
      const t = await access.mediaToken(c, role, p.sub, ['read', 'publish'], deps.mediaTokenTtl);
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
