/**
 * TypeBox schemas of the API: the same objects validate requests, shape responses (unknown
 * fields are dropped on the way out, so a password hash can never leak) and generate the
 * OpenAPI document at /docs.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Largest JSON body of an API route, bytes (the global limit is larger, for SDP). */
export const API_BODY_LIMIT = 16 * 1024;

/** The body of every error response. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable error code from the catalogue', examples: ['FORBIDDEN'] }),
      message: Type.String(),
    }),
  },
  { description: 'An error with a stable code' },
);

/** Error responses for the statuses a route can answer with. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorResponse]));
}

/** Path parameter `:id` (a class id). */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type IdParams = Static<typeof IdParams>;

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Status = Type.Union([Type.Literal('scheduled'), Type.Literal('live'), Type.Literal('archived')]);

/** A lesson: one start → end of a class. */
export const LessonView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  number: Type.Integer({ minimum: 1 }),
  startedAt: Type.String({ format: 'date-time' }),
  endedAt: Time,
});
export type LessonView = Static<typeof LessonView>;

/** The stream of a class as this node sees it. */
export const StreamView = Type.Object({
  live: Type.Boolean(),
  state: Type.Union([Type.Literal('live'), Type.Literal('waiting'), Type.Literal('offline')]),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  fps: Type.Optional(Type.Number()),
  bitrate: Type.Optional(Type.Integer({ description: 'bits per second' })),
  viewers: Type.Integer(),
});
export type StreamView = Static<typeof StreamView>;

/** A class as its teacher (or an admin) sees it; students and monitors get no secrets. */
export const ClassView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  title: Type.String(),
  status: Status,
  chatLocked: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Time,
  endedAt: Time,
  lesson: Type.Union([LessonView, Type.Null()], { description: 'The running lesson' }),
  lastLesson: Type.Union([LessonView, Type.Null()], { description: 'The last lesson, ended or not' }),
  archived: Type.Boolean(),
  stream: StreamView,
  path: Type.String({ description: 'Media path, live/<classId>' }),
  whepUrl: Type.String(),
  watchUrl: Type.String(),
  teacherId: Type.Optional(Type.String({ description: 'Teacher and admin only' })),
  joinCode: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', description: 'Teacher and admin only' })),
  joinUrl: Type.Optional(Type.String({ description: 'Teacher and admin only' })),
  rtmp: Type.Optional(
    Type.Object(
      {
        server: Type.String({ description: 'RTMP "Server" field: rtmp://HOST:1935/live' }),
        streamKey: Type.String({ description: 'RTMP "Stream key" field (secret)' }),
        url: Type.String({ description: 'Server and key in one URL (ffmpeg)' }),
      },
      { description: 'Teacher and admin only' },
    ),
  ),
});
export type ClassView = Static<typeof ClassView>;

/** An account as the API shows it (never the password hash). */
export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('teacher')]),
  createdAt: Type.String({ format: 'date-time' }),
  disabled: Type.Boolean(),
});
export type UserView = Static<typeof UserView>;

/** An attendance record. */
export const ParticipantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal('teacher'), Type.Literal('student'), Type.Literal('monitor')]),
  joinedAt: Type.String({ format: 'date-time' }),
  leftAt: Time,
  lessonId: Type.Union([Type.String(), Type.Null()]),
  removed: Type.Boolean(),
});

/** A monitor share link as listed (its token was shown once, at creation). */
export const MonitorLinkView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  revokedAt: Time,
  status: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]),
});

/** Email, as accounts use it. */
export const Email = Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', minLength: 3, maxLength: 320 });
/** A new password. */
export const NewPassword = Type.String({ minLength: 8, maxLength: 200 });

/** OpenAPI security of routes that need a caller: Bearer token or the session cookie. */
export const SECURED: { [scheme: string]: string[] }[] = [{ bearer: [] }, { cookie: [] }];
