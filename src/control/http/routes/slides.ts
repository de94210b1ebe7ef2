/**
 * Slides of a lesson (issue 10): `GET /api/lessons/:id/slides` (the list, and which readers can
 * read slides now), `GET /api/slides/:id/image` (the PNG) and `POST /api/slides/:id/draft` (a
 * quiz drafted from the slide's text for the teacher to edit). The class's teacher and admins.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { SlideService } from '../../ai/slide-service.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';

/** What the slide routes need. */
export interface SlideRouteDeps {
  slides: SlideService;
  authenticator: Authenticator;
}

const tags = ['ai'];

const Reader = Type.Union([Type.Literal('gemini'), Type.Literal('tesseract'), Type.Literal('none')], {
  description: "Who read the slide's text ('none': neither Gemini nor OCR was available)",
});
const Slide = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  text: Type.String({ description: 'Text read from the slide (empty when none)' }),
  reader: Reader,
  width: Type.Integer(),
  height: Type.Integer(),
  imageUrl: Type.String({ description: 'The PNG (GET with the session token)' }),
});
const Readers = Type.Object({
  ocr: Type.Object({
    ok: Type.Boolean({ description: 'tesseract with Korean and/or English data is installed' }),
    langs: Type.Array(Type.String()),
    note: Type.Optional(Type.String({ description: 'Why OCR is off or limited' })),
  }),
  gemini: Type.Boolean({ description: 'Gemini reads the slides of this class' }),
});
const Note = Type.Object({ ko: Type.String(), en: Type.String() });
const Draft = Type.Object({
  provider: Type.Union([Type.Literal('builtin'), Type.Literal('gemini')], {
    description: 'Which analyzer drafted it',
  }),
  draft: Type.Object({
    kind: Type.Union([
      Type.Literal('single'),
      Type.Literal('multiple'),
      Type.Literal('truefalse'),
      Type.Literal('short'),
    ]),
    question: Type.String(),
    options: Type.Array(Type.String()),
    correct: Type.Union([Type.Array(Type.Integer()), Type.Array(Type.String())]),
    timeLimitSec: Type.Integer(),
    note: Note,
  }),
});

/** Registers the routes (call inside the /api context). */
export function slideRoutes(api: FastifyInstance, deps: SlideRouteDeps): void {
  const { slides, authenticator } = deps;
  api.get<{ Params: IdParams }>(
    '/lessons/:id/slides',
    {
      schema: {
        tags,
        summary: "The lesson's slides, oldest first, and who can read slides now (teacher, admins)",
        security: SECURED,
        params: IdParams,
        response: {
          200: Type.Object({ slides: Type.Array(Slide), readers: Readers }),
          ...errors(401, 403, 404),
        },
      },
    },
    async (req) => slides.list(await authenticator.require(req), req.params.id),
  );

  api.get<{ Params: IdParams }>(
    '/slides/:id/image',
    {
      schema: {
        tags,
        summary: "A slide's snapshot as PNG (the class's teacher, admins)",
        security: SECURED,
        params: IdParams,
        produces: ['image/png'],
        response: {
          200: { description: 'The PNG', type: 'string', format: 'binary' },
          ...errors(401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const png = await slides.image(await authenticator.require(req), req.params.id);
      return reply
        .type('image/png')
        .header('X-Content-Type-Options', 'nosniff')
        .header('Cache-Control', 'private, max-age=3600')
        .send(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
    },
  );

  api.post<{ Params: IdParams }>(
    '/slides/:id/draft',
    {
      schema: {
        tags,
        summary: "Drafts a quiz from the slide's text (for the teacher to edit and save)",
        description:
          "Answered by the class's provider (Gemini when on, else the built-in analyzer). " +
          '404 SLIDE_NO_TEXT when no text was read from the slide or it gives nothing to ask.',
        security: SECURED,
        params: IdParams,
        response: { 200: Draft, ...errors(401, 403, 404) },
      },
    },
    async (req) => slides.draft(await authenticator.require(req), req.params.id),
  );
}
