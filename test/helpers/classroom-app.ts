/**
 * The whole control plane as `airclass start` wires it — store, class channel, classroom and
 * the issue-6 features (quizzes, engagement, hands, reactions, my data) — on PGlite in a data
 * dir (so a test can close it and open it again on the same data: a restart), listening on a
 * free port for WebSockets and answering `inject()` for the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { DEFAULTS } from '../../src/config/defaults.ts';
import type { Config } from '../../src/config/schema.ts';
import { hashPassword } from '../../src/control/auth/passwords.ts';
import type { Classroom } from '../../src/control/classroom/wiring.ts';
import type { ClassroomFeatureSet } from '../../src/control/engagement/wiring.ts';
import type { DrizzleStore } from '../../src/control/store/db.ts';
import type { User } from '../../src/control/store/types.ts';
import type { ClassChannel } from '../../src/control/ws/channel.ts';
import { buildNode } from '../../src/main.ts';
import { PASSWORD, TEST_SCRYPT, testConfig } from './api.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { TestSocket } from './ws-client.ts';
import { seedPgliteDb } from '../../src/control/store/testing.ts';

/** Options of {@link startClassroomApp}. */
export interface ClassroomAppOptions {
  /** Data dir (PGlite and keys); default a fresh temp dir, removed by `remove()`. */
  dataDir?: string;
  config?: Partial<Config>;
  /** Engagement snapshot interval (ms). */
  snapshotMs?: number;
  /** Quiz answers per minute per token. */
  answerRateLimit?: number;
  /** A PostgreSQL URL instead of PGlite in the data dir. */
  databaseUrl?: string;
  /** Redis for the bus, presence and history (with `redisPrefix`), instead of in-process. */
  redisUrl?: string;
  redisPrefix?: string;
}

/** A running control plane. */
export interface ClassroomApp {
  dataDir: string;
  app: FastifyInstance;
  store: DrizzleStore;
  channel: ClassChannel;
  classroom: Classroom;
  features: ClassroomFeatureSet;
  wsUrl: string;
  teacher(): Promise<{ user: User; token: string }>;
  call(opts: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  /** Opens /ws with a token (and the class for teachers) and waits for `welcome`. */
  connect(token: string, classId?: string): Promise<TestSocket>;
  /** Closes everything; the data dir stays (for a restart). Idempotent. */
  close(): Promise<void>;
  /** Closes and removes the data dir. */
  remove(): Promise<void>;
}

let counter = 0;

/** Starts the control plane on `opts.dataDir` (or a fresh one). */
export async function startClassroomApp(opts: ClassroomAppOptions = {}): Promise<ClassroomApp> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'airclass-quiz-'));
  const cfg: Config = {
    ...testConfig(dataDir),
    host: '127.0.0.1',
    httpPort: 0,
    rtmpPort: 0,
    rtspPort: 0,
    databaseUrl: opts.databaseUrl ?? '',
    redisUrl: opts.redisUrl ?? '',
    redisPrefix: opts.redisPrefix ?? DEFAULTS.redisPrefix,
    ...opts.config,
  };
  const logger = createLogger({ level: process.env.AIRCLASS_TEST_LOG ?? 'silent' });
  // On the embedded database, a migrated PGlite copied in spares the node 6–9 s of initdb.
  if (!cfg.databaseUrl) await seedPgliteDb(cfg.dataDir);
  // The node exactly as `airclass start` builds and starts it (HTTP and RTMP on free ports).
  const node = await buildNode(cfg, logger, {
    bootstrapAdmin: false,
    passwordParams: TEST_SCRYPT,
    features: { snapshotMs: opts.snapshotMs, answerRateLimit: opts.answerRateLimit },
  });
  try {
    await node.start();
  } catch (e) {
    await node.close();
    throw e;
  }
  const { http: app, store, channel, classroom, features } = node;
  const port = (app.server.address() as { port: number }).port;
  const wsUrl = `ws://127.0.0.1:${port}/ws`;

  const call: ClassroomApp['call'] = ({ token, headers, ...rest }) =>
    app.inject({ ...rest, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const close = () => node.close();
  return {
    dataDir,
    app,
    store,
    channel,
    classroom,
    features,
    wsUrl,
    teacher: async () => {
      const user = await store.users.create({
        email: `quiz-teacher${++counter}-${Date.now()}@school.test`,
        name: `선생님 ${counter}`,
        role: 'teacher',
        passwordHash: await hashPassword(PASSWORD, TEST_SCRYPT),
      });
      const res = await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: user.email, password: PASSWORD },
      });
      if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`);
      return { user, token: (res.json() as { token: string }).token };
    },
    call,
    connect: async (token, classId) => {
      const q = new URLSearchParams({ token, ...(classId ? { classId } : {}) });
      const s = await TestSocket.open(`${wsUrl}?${q}`);
      await s.nextOf('welcome');
      return s;
    },
    close,
    remove: async () => {
      await close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
