/**
 * Students' photos of their work (issue 10): `POST /api/classes/:id/photos` (a student of the
 * running lesson; the raw image as the body with its own Content-Type), `GET
 * /api/lessons/:id/photos` and `POST /api/photos/:id/seen` (the class's teacher, admins) and
 * `GET /api/photos/:id/file` (those, and the student who sent it). The routes live in their own
 * context, so the `image/*` body parser and its size limit (`photoMaxBytes`, refused with 413
 * PAYLOAD_TOO_LARGE from the Content-Length or while reading) apply to the upload only.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { PhotoService } from '../../ai/photo-service.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the photo routes need. */
export interface PhotoRouteDeps {
  photos: PhotoService;
  authenticator: Authenticator;
  /** Largest upload, bytes. */
  maxBytes: number;
}

const tags = ['ai'];

const Photo = Type.Object({
  id: Type.String(),
  lessonId: Type.String(),
  from: Type.Object({ id: Type.String({ description: 'Participant id' }), name: Type.String() }),
  at: Type.String({ format: 'date-time' }),
  width: Type.Integer(),
  height: Type.Integer(),
  mime: Type.Union([Type.Literal('image/jpeg'), Type.Literal('image/png'), Type.Literal('image/webp')]),
  size: Type.Integer({ description: 'Bytes' }),
  description: Type.Union([Type.String(), Type.Null()], {
    description: "What the class's AI provider says the photo shows (Gemini only), once it answered",
  }),
  provider: Type.Union([Type.Literal('builtin'), Type.Literal('gemini'), Type.Null()]),
  seenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** Registers the routes (call inside the /api context). */
export function photoRoutes(api: FastifyInstance, deps: PhotoRouteDeps): void {
  const { photos, authenticator, maxBytes } = deps;
  void api.register(async (ctx) => {
    ctx.addContentTypeParser(/^image\//i, { parseAs: 'buffer', bodyLimit: maxBytes }, (_req, body, done) =>
      done(null, body),
    );
    ctx.post<{ Params: IdParams; Body: Buffer }>(
      '/classes/:id/photos',
      {
        bodyLimit: maxBytes,
        // Who is calling is known before the body is read: strangers send no megabytes.
        onRequest: async (req) => {
          await authenticator.require(req);
        },
        schema: {
          tags,
          summary: 'A student sends a photo of their work to the teacher (JPEG, PNG or WebP body)',
          description:
            `The raw image is the body, with its Content-Type (image/jpeg, image/png, image/webp); ` +
            `at most ${maxBytes} bytes and 8000 × 8000 pixels, 20 photos per student per lesson, ` +
            `one every 5 s (429 with Retry-After). The type is checked by the bytes (415 PHOTO_TYPE).`,
          security: SECURED,
          params: IdParams,
          consumes: ['image/jpeg', 'image/png', 'image/webp'],
          response: { 201: Photo, ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429) },
        },
      },
      async (req, reply) => {
        const p = await authenticator.require(req);
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const view = await photos.upload(p, req.params.id, body, String(req.headers['content-type'] ?? ''));
        return reply.code(201).send(view);
      },
    );
  });

  api.get<{ Params: IdParams }>(
    '/lessons/:id/photos',
    {
      schema: {
        tags,
        summary: "The lesson's photos from students, oldest first (the class's teacher, admins)",
        security: SECURED,
        params: IdParams,
        response: { 200: Type.Object({ photos: Type.Array(Photo) }), ...errors(401, 403, 404) },
      },
    },
    async (req) => ({ photos: await photos.list(await authenticator.require(req), req.params.id) }),
  );

  api.get<{ Params: IdParams }>(
    '/photos/:id/file',
    {
      schema: {
        tags,
        summary: "A photo's image (the class's teacher, admins, and the student who sent it)",
        security: SECURED,
        params: IdParams,
        produces: ['image/jpeg', 'image/png', 'image/webp'],
        response: {
          200: { description: 'The image as sent', type: 'string', format: 'binary' },
          ...errors(401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const f = await photos.file(await authenticator.require(req), req.params.id);
      return reply
        .type(f.mime)
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Disposition', `inline; filename="${f.name}"`)
        .header('Cache-Control', 'private, max-age=3600')
        .send(f.data);
    },
  );

  api.post<{ Params: IdParams }>(
    '/photos/:id/seen',
    {
      schema: {
        tags,
        summary: "Marks a photo seen (the class's teacher, admins)",
        security: SECURED,
        params: IdParams,
        response: { 200: Photo, ...errors(401, 403, 404) },
      },
    },
    async (req) => photos.seen(await authenticator.require(req), req.params.id),
  );
}
