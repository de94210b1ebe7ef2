import websocket from '@fastify/websocket';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AirError } from '../../shared/errors.ts';
import { canViewClass, type Principal } from '../auth/policy.ts';
import { SESSION_COOKIE } from '../http/session.ts';
import type { Actor } from './chat.ts';
import { CLOSE } from './messages.ts';
import { ClientSession, type SessionDeps } from './session.ts';

/** Sockets one token subject may hold open in a class on one process; a newer one replaces the oldest. */
export const MAX_SOCKETS_PER_SUBJECT = 3;

/** What `/ws` is built from. */
export interface WsRouteDeps {
  /** Shared by every socket. */
  session: SessionDeps;
  /** Verifies an API token (query, Bearer or session cookie) and names its holder. */
  authenticate(token: string): Promise<Principal>;
  /** Origins besides the request's own that may open a socket with the session cookie. */
  allowedOrigins?: readonly string[];
  /** Largest frame accepted (bytes); a bigger one closes that socket with 1009. */
  maxMessageBytes: number;
  /** Most open sockets per client address (429 TOO_MANY_SOCKETS past it); default 500. */
  maxSocketsPerAddress?: number;
  /** Called with every session as it opens (tests wait on `ready()`). */
  onSession?: (s: ClientSession) => void;
}

const Query = Type.Object(
  {
    token: Type.Optional(
      Type.String({ minLength: 1, maxLength: 4096, description: 'API token (students, monitors)' }),
    ),
    classId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'The class (teachers, admins; others: from the token)',
      }),
    ),
    since: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Highest seq already seen: replay what came after it (clamped to the current seq)',
      }),
    ),
  },
  { additionalProperties: false },
);

const DESCRIPTION = [
  'Open with a WebSocket client (a plain GET answers 426). One JSON object per frame, with a `type`;',
  'frames over the size limit close the socket (1009). Every class event carries the per-class `seq`;',
  'reconnect with `since=<highest seq seen>` to get what was missed.',
  '',
  'Client → server: `chat.send {text, clientId?}`, `chat.delete {id}` (teacher), `chat.lock {locked}`',
  '(teacher), `ping {id?}`; students: `engagement.state {playing, visible}`, `hand.raise`, `hand.lower {id?}`',
  '(the teacher lowers `id`), `reaction {kind}` (at most 2 per second).',
  '',
  'Server → client: `welcome {seq, you, class, roster}`, `replayed {since, count, truncated}`,',
  '`presence.join {participant}`, `presence.leave {id}`, `chat.message {id, from, text, at, clientId?,',
  'deleted?}`, `chat.deleted {id}`, `chat.locked {locked}`, `class.started`, `class.ended`,',
  '`stream.live`, `stream.offline` (`{at, class?, path?}`), `error {code, message, ref?}`, `pong {id?, at}`,',
  '`hand.raised {id, name, at}`, `hand.lowered {id, by}`, `reaction {kind, from}`, `quiz.opened {quiz}`,',
  '`quiz.closed {quizId, runId}`, `quiz.revealed {quizId, runId, correct, counts, answered}`; staff only:',
  '`quiz.results {quizId, runId, answered, correct, counts}` and `engagement {at, class, students}` (every 2 s).',
  '',
  "Chat hold: a student's message with personal information or an insult is held; its sender gets",
  '`chat.pending {id, clientId?, reasons}`, staff `chat.held {held: {id, from, text, reasons, at}}`. The teacher',
  'sends `chat.approve {id}` (posted as a `chat.message` with `heldId`) or `chat.reject {id}` (the class gets',
  '`chat.rejected {id}`); staff get `chat.decided {id, status, messageId?}`.',
].join('\n');

function cookie(req: FastifyRequest, name: string): string | undefined {
  const parsed = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies;
  if (parsed) return parsed[name];
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** A socket opened with the cookie must come from our own page (no cross-site hijacking). */
function checkOrigin(req: FastifyRequest, allowed: readonly string[]): void {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin) return;
  if (host && (origin === `http://${host}` || origin === `https://${host}`)) return;
  if (allowed.includes(origin)) return;
  throw new AirError('ORIGIN_FORBIDDEN');
}

/**
 * Registers `GET /ws`, the class channel (messages in messages.ts). Authentication before the
 * upgrade, so a refused socket gets a plain HTTP error with a catalogue code (401 TOKEN_*,
 * 403 FORBIDDEN, 404 CLASS_NOT_FOUND): the token comes from `?token=`, `Authorization:
 * Bearer`, or the session cookie (same origin only). Students and monitors are in the class of
 * their token; teachers and admins name it with `?classId=`.
 */
export async function wsRoutes(app: FastifyInstance, deps: WsRouteDeps): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: deps.maxMessageBytes, perMessageDeflate: false },
    errorHandler: (err, socket, req) => {
      req.log.warn({ err: err.message }, 'websocket handler error');
      socket.terminate();
    },
  });
  const actors = new WeakMap<
    FastifyRequest,
    { actor: Actor; since: number | undefined; recheck: () => Promise<void> }
  >();
  const perAddress = new Map<string, number>();
  const perSubject = new Map<string, ClientSession[]>();
  const maxPerAddress = deps.maxSocketsPerAddress ?? 500;

  /** Counts a socket against its address and token subject; the oldest past 3 is replaced. */
  function track(
    s: ClientSession,
    a: Actor,
    address: string,
    socket: { once(e: 'close', f: () => void): void },
  ): void {
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    const key = `${a.classId} ${a.sub}`;
    const list = perSubject.get(key) ?? [];
    list.push(s);
    perSubject.set(key, list);
    while (list.length > MAX_SOCKETS_PER_SUBJECT) void list.shift()!.closeWith(CLOSE.REPLACED, 'replaced');
    socket.once('close', () => {
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && perSubject.get(key) === list) perSubject.delete(key);
    });
  }

  app.route<{ Querystring: Static<typeof Query> }>({
    method: 'GET',
    url: '/ws',
    schema: {
      tags: ['class channel'],
      summary: 'The class WebSocket: presence, chat and class events (JSON messages with a "type")',
      description: DESCRIPTION,
      querystring: Query,
    },
    preHandler: async (req) => {
      if ((perAddress.get(req.ip) ?? 0) >= maxPerAddress) throw new AirError('TOO_MANY_SOCKETS');
      const q = req.query;
      const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
      let token = q.token ?? bearer;
      if (!token) {
        token = cookie(req, SESSION_COOKIE);
        if (token) checkOrigin(req, deps.allowedOrigins ?? []);
      }
      if (!token) throw new AirError('TOKEN_MISSING');
      const p = await deps.authenticate(token);
      const classId = p.classId ?? q.classId;
      if (!classId) throw new AirError('VALIDATION', 'querystring/classId: a teacher names the class');
      if (p.classId && q.classId && q.classId !== p.classId) {
        throw new AirError('FORBIDDEN', 'The token is for another class.');
      }
      // A student's or monitor's token names its class; a teacher's class is looked up for ownership.
      if (!p.classId) {
        const cls = await deps.session.classes.byId(classId);
        if (!cls) throw new AirError('CLASS_NOT_FOUND');
        if (!canViewClass(p, cls)) throw new AirError('FORBIDDEN');
      }
      const name = p.name ?? (p.role === 'monitor' ? 'monitor' : p.role);
      // A `since` past anything handed out replays nothing (and never reaches SQL as an overflow).
      const since = q.since === undefined ? undefined : Math.min(q.since, Number.MAX_SAFE_INTEGER);
      // The token is checked again on every heartbeat (see ClientSession.heartbeat).
      const recheck = () => deps.authenticate(token).then(() => undefined);
      actors.set(req, { actor: { classId, sub: p.sub, name, role: p.role }, since, recheck });
    },
    // A plain GET (no Upgrade header) after authentication.
    handler: async () => {
      throw new AirError('UPGRADE_REQUIRED', undefined, { Upgrade: 'websocket' });
    },
    wsHandler: (socket, req) => {
      const a = actors.get(req);
      if (!a) {
        socket.close(1011, 'INTERNAL');
        return;
      }
      const s = new ClientSession(socket, a.actor, a.since, deps.session, req.socket, a.recheck);
      track(s, a.actor, req.ip, socket);
      deps.onSession?.(s);
    },
  });
}
