/**
 * A class channel on a real store and real WebSockets, without the rest of AirClass: a Fastify
 * app with only `/ws`, the accounts engineer's token service, authenticator and join flow.
 * `bus: 'redis'` uses the Redis at 127.0.0.1:6379 (a per-run key prefix, removed on stop) and
 * the PostgreSQL test database; `bus: 'memory'` the in-process bus and PGlite.
 */
import { TokenGate } from '../../src/control/classroom/token-gate.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadOrCreateKeys } from '../../src/control/auth/keys.ts';
import { TokenService } from '../../src/control/auth/tokens.ts';
import { ClassAccess } from '../../src/control/classroom/access.ts';
import { ClassLinks } from '../../src/control/classroom/links.ts';
import { installErrorHandler } from '../../src/control/http/errors.ts';
import { Authenticator } from '../../src/control/http/session.ts';
import type { DrizzleStore } from '../../src/control/store/db.ts';
import { openMemoryStore, openPostgresTestStore } from '../../src/control/store/testing.ts';
import type { ClassRecord, User } from '../../src/control/store/types.ts';
import { openClassChannel, type ClassChannel } from '../../src/control/ws/channel.ts';
import type { ClientSession } from '../../src/control/ws/session.ts';
import { wsRoutes } from '../../src/control/ws/routes.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { TEST_REDIS_URL, dropRedisPrefix } from './redis.ts';
import { TestSocket } from './ws-client.ts';

/** Options of {@link startChannel}. */
export interface ChannelOptions {
  bus: 'memory' | 'redis';
  limits?: { perSecond: number; burst: number; maxStrikes?: number };
  maxMessageBytes?: number;
}

/** A running class channel with helpers to make people and sockets. */
export interface ChannelHarness {
  store: DrizzleStore;
  channel: ClassChannel;
  app: FastifyInstance;
  tokens: TokenService;
  access: ClassAccess;
  /** ws://127.0.0.1:<port>/ws */
  wsUrl: string;
  prefix: string;
  teacher(name?: string): Promise<{ user: User; token: string }>;
  classOf(teacher: User, title?: string): Promise<ClassRecord>;
  /** A student token from the join flow (records attendance like POST /api/join). */
  student(c: ClassRecord, name: string): Promise<{ token: string; participantId: string }>;
  monitor(c: ClassRecord): Promise<string>;
  /** Opens /ws with a token (and query) and waits for `welcome`. */
  connect(token: string, query?: Record<string, string | number>): Promise<TestSocket>;
  /** Waits until every session opened so far has finished setting up. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a class channel on a free port. */
export async function startChannel(opts: ChannelOptions): Promise<ChannelHarness> {
  const logger = createLogger({ level: process.env.AIRCLASS_TEST_LOG ? 'debug' : 'silent' });
  const redis = opts.bus === 'redis';
  const store = redis ? await openPostgresTestStore() : await openMemoryStore();
  const dir = mkdtempSync(join(tmpdir(), 'airclass-ws-'));
  const tokens = new TokenService(await loadOrCreateKeys(dir));
  const gate = new TokenGate({ facts: (q) => store.gate.facts(q) });
  const auth = new Authenticator({ tokens, gate, allowedOrigins: [] });
  const prefix = `airclass-test-${randomBytes(4).toString('hex')}:`;
  const channel = await openClassChannel({
    redisUrl: redis ? TEST_REDIS_URL : '',
    redisPrefix: prefix,
    historySize: 200,
    maxMessageBytes: opts.maxMessageBytes ?? 8192,
    limits: opts.limits ?? { perSecond: 50, burst: 50 },
    store,
    authenticate: (t) => auth.authenticateToken(t),
    logger,
  });
  const sessions: ClientSession[] = [];
  channel.routes.onSession = (s) => sessions.push(s);
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  await wsRoutes(app, channel.routes);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const links = new ClassLinks({ http: `http://127.0.0.1:${port}`, rtmp: 'rtmp://127.0.0.1:1935/live' });
  const access = new ClassAccess({
    classes: store.classes,
    participants: store.participants,
    monitorLinks: store.monitorLinks,
    tokens,
    links,
    studentTokenTtl: '1h',
    monitorLinkTtl: '1h',
  });
  const wsUrl = `ws://127.0.0.1:${port}/ws`;
  let n = 0;
  return {
    store,
    channel,
    app,
    tokens,
    access,
    wsUrl,
    prefix,
    async teacher(name = 'Teacher Kim') {
      const user = await store.users.create({
        email: `t${++n}-${randomBytes(3).toString('hex')}@school.kr`,
        name,
        role: 'teacher',
        passwordHash: 'unused',
      });
      return { user, token: await tokens.signAccess({ sub: user.id, role: 'teacher' }, '1h') };
    },
    classOf: (teacher, title = 'Math') => store.classes.create({ teacherId: teacher.id, title }),
    async student(c, name) {
      const r = await access.join(c.joinCode, name);
      return { token: r.token, participantId: r.participantId };
    },
    monitor: async (c) => (await access.monitorLink(c, c.teacherId)).token,
    async connect(token, query = {}) {
      const q = new URLSearchParams({
        token,
        ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])),
      });
      const s = await TestSocket.open(`${wsUrl}?${q}`);
      await s.nextOf('welcome');
      return s;
    },
    async settled() {
      await Promise.all(sessions.map((s) => s.ready()));
    },
    async stop() {
      await channel.close();
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      if (redis) await dropRedisPrefix(prefix);
    },
  };
}
