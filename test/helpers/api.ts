/**
 * The HTTP app as `buildApp` makes it, on a real in-memory PGlite store (shared per test
 * file), for `inject()` tests of the API: accounts, classes, join, authorization.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { DEFAULTS } from '../../src/config/defaults.ts';
import type { Config } from '../../src/config/schema.ts';
import { hashPassword } from '../../src/control/auth/passwords.ts';
import type { ClassEvent } from '../../src/control/classroom/events.ts';
import type { DrizzleStore } from '../../src/control/store/db.ts';
import { openMemoryStore, openPostgresTestStore } from '../../src/control/store/testing.ts';
import type { ClassRecord, User } from '../../src/control/store/types.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { buildNode, type AirclassNode } from '../../src/main.ts';
import type { TokenService } from '../../src/control/auth/tokens.ts';
import type { Classroom } from '../../src/control/classroom/wiring.ts';
import type { ClassChannel } from '../../src/control/ws/channel.ts';

/**
 * The configuration tests build nodes with: the defaults, keys in `dataDir`, generous rate
 * limits (one address makes every request), no audio transcoder, a short publisher grace,
 * URLs on `class.test`.
 */
export function testConfig(dataDir: string): Config {
  return {
    ...DEFAULTS,
    dataDir,
    joinRateLimit: 1000,
    loginRateLimit: 1000,
    audioTranscode: false,
    reconnectGraceMs: 1000,
    recordMinFreeMb: 16,
    publicHost: 'class.test',
    // Plain HTTP links (test/https.e2e.test.ts covers HTTPS).
    https: false,
    webrtcUdpPort: 0,
    webrtcPortMin: 20000,
    webrtcPortMax: 29999,
    maxViewers: 10,
    maxPendingViewers: 10,
    logLevel: 'silent',
  };
}

/** Cheap scrypt for tests (production uses N=2^15). */
export const TEST_SCRYPT = { N: 1 << 10, r: 8, p: 1 };
/** The password of every account made by the helper. */
export const PASSWORD = 'correct horse battery';

/** An API app on a fresh store, with helpers to make accounts and sign in. */
export interface TestApi {
  app: FastifyInstance;
  store: DrizzleStore;
  tokens: TokenService;
  classroom: Classroom;
  /** The class channel (/ws) on the in-process bus, as `airclass start` wires it. */
  channel: ClassChannel;
  /** The node the app belongs to (recordings, recorder, …). */
  node: AirclassNode;
  /** Every class event emitted, in order. */
  events: { classId: string; event: ClassEvent }[];
  /** Makes an account directly in the store. */
  user(role: 'admin' | 'teacher', email?: string): Promise<User>;
  /** Signs in over the API and returns the Bearer token. */
  login(email: string, password?: string): Promise<string>;
  /** A Bearer session token for an account, without the sign-in route. */
  session(u: User): Promise<string>;
  /** Creates a class for `teacher` over the API and returns it (full view). */
  createClass(token: string, title?: string): Promise<ClassRecord & { joinCode: string }>;
  /** `inject()` with an optional Bearer token. */
  call(opts: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * Builds the app with config `overrides` (e.g. low rate limits), on in-memory PGlite or, with
 * `backend: 'postgres'`, a fresh schema in the test PostgreSQL (TEST_DATABASE_URL).
 */
export async function startTestApi(
  overrides: Partial<Config> = {},
  backend: 'pglite' | 'postgres' = 'pglite',
): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'airclass-api-'));
  const cfg: Config = { ...testConfig(dir), ...overrides };
  const logger = createLogger({ level: process.env.AIRCLASS_TEST_LOG ?? 'silent' });
  const store =
    backend === 'postgres' ? await openPostgresTestStore({ logger }) : await openMemoryStore({ logger });
  const events: TestApi['events'] = [];
  // The node exactly as `airclass start` builds it, on this store, without listeners.
  const node = await buildNode(cfg, logger, {
    store,
    bootstrapAdmin: false,
    passwordParams: TEST_SCRYPT,
    onClassEvent: (classId, event) => events.push({ classId, event }),
  });
  await node.start({ listen: false });
  const { http: app, tokens, classroom, channel } = node;

  const call: TestApi['call'] = ({ token, headers, ...rest }) =>
    app.inject({ ...rest, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  return {
    node,
    app,
    store,
    tokens,
    classroom,
    channel,
    events,
    user: async (role, email) =>
      store.users.create({
        email: email ?? `${role}${++counter}-${Date.now()}@school.test`,
        name: `${role} ${counter}`,
        role,
        passwordHash: await hashPassword(PASSWORD, TEST_SCRYPT),
      }),
    login: async (email, password = PASSWORD) => {
      const res = await call({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
      if (res.statusCode !== 200) throw new Error(`login ${email}: ${res.statusCode} ${res.body}`);
      return (res.json() as { token: string }).token;
    },
    session: (u) => tokens.signAccess({ sub: u.id, role: u.role }, '1h'),
    createClass: async (token, title = 'Math') => {
      const res = await call({ method: 'POST', url: '/api/classes', token, payload: { title } });
      if (res.statusCode !== 201) throw new Error(`create class: ${res.statusCode} ${res.body}`);
      return res.json() as ClassRecord & { joinCode: string };
    },
    call,
    close: async () => {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
