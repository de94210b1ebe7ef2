/**
 * Recordings (issue 9): the API — list a class's recordings, share, delete, set retention,
 * the replay page's data, a former student's replay link — and the HLS files under
 * `/vod/<id>/…`, served with a read token of that one recording (`?token=`; the playlist's
 * segment URIs carry it on), byte ranges, ETags and caching headers.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AirError, isAirError } from '../../../shared/errors.ts';
import type { MediaClaims, TokenService } from '../../auth/tokens.ts';
import { vodPath, type RecordingService, type RecordingViewer } from '../../recording/recording-service.ts';
import type { ParticipantRepo } from '../../store/types.ts';
import type { Authenticator } from '../session.ts';
import { IdParams, SECURED, errors } from '../schemas.ts';
import { requestToken } from './whep.ts';

/** What the recording routes need. */
export interface RecordingRouteDeps {
  recordings: RecordingService;
  /** Stops a running recording before it is deleted (the recorder of this node). */
  stopRecording(id: string): Promise<void>;
  participants: Pick<ParticipantRepo, 'byId'>;
  tokens: TokenService;
  authenticator: Authenticator;
  /** Playlist and segment requests per minute per address. */
  rateLimit?: number;
}

const Time = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);

const Recording = Type.Object({
  id: Type.String(),
  classId: Type.String(),
  lessonId: Nullable(Type.String()),
  lessonNumber: Nullable(Type.Integer()),
  startedAt: Time,
  endedAt: Nullable(Time),
  durationSec: Type.Number(),
  sizeBytes: Type.Integer(),
  playlistUrl: Type.String({ description: 'HLS playlist with a read token of this recording' }),
  replayUrl: Type.String({ description: 'The replay page (token in the #fragment)' }),
  status: Type.Union([
    Type.Literal('recording'),
    Type.Literal('complete'),
    Type.Literal('interrupted'),
    Type.Literal('stopped'),
  ]),
  reason: Nullable(Type.String()),
  shared: Type.Boolean(),
  expiresAt: Time,
});

const ReplayBody = Type.Object({
  recording: Recording,
  class: Type.Object({ id: Type.String(), title: Type.String() }),
  lesson: Type.Union([
    Type.Object({ id: Type.String(), number: Type.Integer(), startedAt: Time, endedAt: Nullable(Time) }),
    Type.Null(),
  ]),
  chapters: Type.Array(
    Type.Object({
      atSec: Type.Number(),
      runId: Type.String(),
      quizId: Type.String(),
      question: Type.String(),
    }),
  ),
  engagement: Type.Array(
    Type.Object({ atSec: Type.Number(), score: Type.Number(), watching: Type.Number() }),
  ),
  chat: Type.Array(
    Type.Object({ atSec: Type.Number(), name: Type.String(), role: Type.String(), text: Type.String() }),
  ),
});

const ShareBody = Type.Object({ shared: Type.Boolean() }, { additionalProperties: false });
const RetentionBody = Type.Object(
  { days: Type.Integer({ minimum: 1, maximum: 3650 }) },
  { additionalProperties: false },
);

/** Registers the `/api` routes of recordings (call inside the /api context). */
export function recordingApiRoutes(api: FastifyInstance, deps: RecordingRouteDeps): void {
  const { recordings, authenticator } = deps;

  api.get<{ Params: IdParams }>(
    '/classes/:id/recordings',
    {
      schema: {
        tags: ['recordings'],
        summary: "A class's recordings (teacher, admin; its students see the shared ones)",
        security: SECURED,
        params: IdParams,
        response: {
          200: Type.Object({ recordings: Type.Array(Recording), retentionDays: Type.Integer() }),
          ...errors(401, 403, 404),
        },
      },
    },
    async (req) => recordings.list(await authenticator.require(req), req.params.id),
  );

  api.put<{ Params: IdParams; Body: Static<typeof RetentionBody> }>(
    '/classes/:id/retention',
    {
      schema: {
        tags: ['recordings'],
        summary: "Days the class's recordings are kept (then removed)",
        security: SECURED,
        params: IdParams,
        body: RetentionBody,
        response: { 200: Type.Object({ retentionDays: Type.Integer() }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => recordings.setRetention(await authenticator.require(req), req.params.id, req.body.days),
  );

  api.patch<{ Params: IdParams; Body: Static<typeof ShareBody> }>(
    '/recordings/:id',
    {
      schema: {
        tags: ['recordings'],
        summary: "Shares a recording with the class's students (or stops sharing)",
        security: SECURED,
        params: IdParams,
        body: ShareBody,
        response: { 200: Recording, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => recordings.setShared(await authenticator.require(req), req.params.id, req.body.shared),
  );

  api.delete<{ Params: IdParams }>(
    '/recordings/:id',
    {
      schema: {
        tags: ['recordings'],
        summary: 'Deletes a recording and its files',
        security: SECURED,
        params: IdParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await recordings.delete(await authenticator.require(req), req.params.id, deps.stopRecording);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: IdParams }>(
    '/recordings/:id/replay',
    {
      schema: {
        tags: ['recordings'],
        summary: 'What the replay page shows: the recording, quiz chapters, engagement, chat',
        description:
          "Bearer: the recording's read token (from `replayUrl`), or a teacher's / admin's session.",
        security: SECURED,
        params: IdParams,
        response: { 200: ReplayBody, ...errors(401, 403, 404, 410) },
      },
    },
    async (req) => recordings.replay(req.params.id, await viewerOf(req, deps, req.params.id)),
  );

  api.get<{ Params: IdParams }>(
    '/lessons/:id/replay',
    {
      schema: {
        tags: ['recordings'],
        summary: "A lesson's shared recordings, for a student who attended it (their lesson token)",
        description:
          'The student token of the lesson is accepted after the lesson ended (only here): the final ' +
          'screen of the watch page polls this until the teacher shares the replay.',
        security: SECURED,
        params: IdParams,
        response: {
          200: Type.Object({
            recordings: Type.Array(Type.Object({ id: Type.String(), replayUrl: Type.String() })),
          }),
          ...errors(401, 403, 404),
        },
      },
    },
    async (req) => {
      const token = authenticator.tokenOf(req);
      if (!token) throw new AirError('TOKEN_MISSING');
      const claims = await deps.tokens.verifyAccess(token);
      return recordings.forAttendee(claims, req.params.id, async (id) => {
        const p = await deps.participants.byId(id);
        return p && { lessonId: p.lessonId, removedAt: p.removedAt };
      });
    },
  );
}

/** The caller of a replay request: a recording's read token, else the API session. */
async function viewerOf(req: FastifyRequest, deps: RecordingRouteDeps, id: string): Promise<RecordingViewer> {
  const token = deps.authenticator.tokenOf(req);
  if (token) {
    const vod = await mediaClaims(deps.tokens, token);
    if (vod) {
      if (vod.path !== vodPath(id) || !vod.actions.includes('read')) throw new AirError('TOKEN_SCOPE');
      return { vod };
    }
  }
  return { principal: await deps.authenticator.require(req) };
}

/** The media claims of a token, or undefined when it is not a media token. */
async function mediaClaims(tokens: TokenService, token: string): Promise<MediaClaims | undefined> {
  try {
    const c = await tokens.verify(token);
    return c.path.startsWith('vod/') ? c : undefined;
  } catch (e) {
    if (isAirError(e) && e.code === 'TOKEN_INVALID') return undefined;
    throw e;
  }
}

const FILE = /^(index\.m3u8|init(-\d{1,4})?\.mp4|seg-\d{5,9}\.m4s)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A recording's row is re-read at most this often per recording while it is being played. */
const ACCESS_CACHE_MS = 5000;

/** Registers `/vod/:id/:file` (outside /api: players fetch these, not scripts). */
export function vodRoutes(app: FastifyInstance, deps: RecordingRouteDeps): void {
  const cache = new Map<string, { at: number; ok: Promise<void> }>();
  const rateLimit = { max: deps.rateLimit ?? 1200, timeWindow: 60_000 };

  /** Checks the token and that the recording may still be seen (cached a few seconds). */
  const admit = async (req: FastifyRequest, id: string): Promise<string> => {
    const token = requestToken(req);
    if (!token) throw new AirError('TOKEN_MISSING');
    const claims = await deps.tokens.authorize(token, vodPath(id), 'read');
    const key = `${id}\0${claims.role}`;
    const hit = cache.get(key);
    const now = Date.now();
    if (!hit || now - hit.at > ACCESS_CACHE_MS) {
      const ok = deps.recordings.visible(id, { vod: claims }).then(() => undefined);
      ok.catch(() => undefined);
      cache.set(key, { at: now, ok });
      if (cache.size > 10_000) cache.clear();
      await ok;
    } else {
      await hit.ok;
    }
    return token;
  };

  app.get<{ Params: { id: string; file: string } }>(
    '/vod/:id/:file',
    { config: { rateLimit }, schema: { hide: true } },
    async (req, reply) => {
      const { id, file } = req.params;
      if (!UUID.test(id) || !FILE.test(file)) throw new AirError('NOT_FOUND');
      const token = await admit(req, id);
      const path = join(deps.recordings.dirOf(id.toLowerCase()), file);
      if (file === 'index.m3u8') {
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch {
          throw new AirError('RECORDING_NOT_FOUND', 'The recording has no playlist yet.');
        }
        void reply
          .header('Cache-Control', 'private, no-cache')
          .header('Referrer-Policy', 'no-referrer')
          .type('application/vnd.apple.mpegurl');
        return withToken(text, token);
      }
      return sendFile(req, reply, path, file.endsWith('.m4s') ? 'video/iso.segment' : 'video/mp4');
    },
  );
}

/** The playlist with `?token=` on every URI (segments and EXT-X-MAP), so players stay authorised. */
export function withToken(playlist: string, token: string): string {
  const q = `?token=${encodeURIComponent(token)}`;
  return playlist
    .split('\n')
    .map((line) => {
      if (line.startsWith('#EXT-X-MAP:'))
        return line.replace(/URI="([^"?]+)"/, (_m, uri: string) => `URI="${uri}${q}"`);
      if (line && !line.startsWith('#')) return `${line}${q}`;
      return line;
    })
    .join('\n');
}

/** A file with byte ranges (206 / 416), an ETag, and long caching (segments never change). */
async function sendFile(
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  type: string,
): Promise<FastifyReply> {
  let size: number;
  let mtime: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
    mtime = s.mtimeMs;
  } catch {
    throw new AirError('NOT_FOUND', 'No such file in this recording.');
  }
  const etag = `"${size.toString(16)}-${Math.floor(mtime).toString(16)}"`;
  void reply
    .header('ETag', etag)
    .header('Accept-Ranges', 'bytes')
    .header('Cache-Control', 'private, max-age=86400, immutable')
    .type(type);
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  const range = req.headers.range;
  if (range) {
    const r = parseRange(range, size);
    if (!r) {
      return reply.code(416).header('Content-Range', `bytes */${size}`).send();
    }
    void reply
      .code(206)
      .header('Content-Range', `bytes ${r.start}-${r.end}/${size}`)
      .header('Content-Length', String(r.end - r.start + 1));
    return reply.send(createReadStream(path, { start: r.start, end: r.end }));
  }
  void reply.header('Content-Length', String(size));
  return reply.send(createReadStream(path));
}

/** One `bytes=a-b` / `bytes=a-` / `bytes=-n` range within `size`, or undefined (→ 416). */
export function parseRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '') || size === 0) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return undefined;
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return undefined;
  return { start, end };
}
