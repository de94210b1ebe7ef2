import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { startNode, type RunningNode } from '../../src/main.ts';
import { seedPgliteDb } from '../../src/control/store/testing.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { MediaAction, Role } from '../../src/control/auth/tokens.ts';

/** True if a TCP port on 127.0.0.1 can be bound. */
function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** A port offset whose HTTP (8000+k), RTMP (1935+k) and RTSP (8554+k) ports are free. */
export async function freeOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const k = 100 + Math.floor(Math.random() * 5000);
    if ((await tcpFree(8000 + k)) && (await tcpFree(1935 + k)) && (await tcpFree(8554 + k))) return k;
  }
  throw new Error('no free port offset');
}

/** The admin password of every test node (its email is the default, admin@airclass.local). */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/** An in-process AirClass node on free ports and a temporary data dir. */
export interface TestNode {
  node: RunningNode;
  http: string;
  rtmp: string;
  token(role: Role, path: string, actions: MediaAction[], ttl?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `airclass start` in this process (logs at warn unless AIRCLASS_TEST_LOG is set). */
export async function startTestNode(
  overrides: Partial<Record<keyof Config, unknown>> = {},
): Promise<TestNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'airclass-test-'));
  const portOffset = await freeOffset();
  const cfg = loadConfig({
    env: {},
    file: undefined,
    overrides: {
      dataDir,
      portOffset,
      host: '127.0.0.1',
      logLevel: process.env.AIRCLASS_TEST_LOG ?? 'silent',
      webrtcUdpPort: 0,
      https: false,
      webrtcPortMin: 20000,
      webrtcPortMax: 29999,
      ...overrides,
    },
  });
  // On the embedded database, a migrated PGlite copied in spares the node 6–9 s of initdb.
  if (!cfg.databaseUrl) await seedPgliteDb(cfg.dataDir);
  const node = await startNode(cfg, createLogger({ level: cfg.logLevel }), {
    adminPassword: TEST_ADMIN_PASSWORD,
  });
  return {
    node,
    http: `http://127.0.0.1:${cfg.httpPort + portOffset}`,
    rtmp: `rtmp://127.0.0.1:${cfg.rtmpPort + portOffset}/live`,
    token: (role, path, actions, ttl = '1h') =>
      node.tokens.sign({ sub: `${role}-test`, role, path, actions }, ttl),
    stop: async () => {
      await node.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
