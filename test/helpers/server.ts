/**
 * Runs the real `airclass start` as a child process on free ports (a random PORT_OFFSET) with
 * a temporary data dir, for end-to-end tests and benchmarks, and mints tokens with its CLI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { seedPgliteDb } from '../../src/control/store/testing.ts';

const execFileP = promisify(execFile);

/** The repository root (this file is test/helpers/server.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** Node 24 from the `node` devDependency. */
export const NODE_BIN = join(REPO_ROOT, 'node_modules', '.bin', 'node');
/** The AirClass CLI. */
export const CLI = join(REPO_ROOT, 'bin', 'airclass.js');

/** Default base ports (DESIGN §2); a port offset K shifts them all. */
const BASE_PORTS = { http: 8000, https: 8443, rtmp: 1935, rtsp: 8554 } as const;
const LOG_TAIL_BYTES = 8000;

/** Options for {@link startServer}. */
export interface ServerOptions {
  /** Port offset K (HTTP 8000+K, RTMP 1935+K, RTSP 8554+K); default: {@link freePortOffset}(). */
  portOffset?: number;
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Use this data dir (kept on stop) instead of a fresh temporary one (removed on stop). */
  dataDir?: string;
  /** How long to wait for GET /ready → 200 (ms, default 30 s). */
  readyTimeoutMs?: number;
  /** `start` (default) or `main` (the same node, named for a cluster). */
  command?: 'start' | 'main';
}

/** A running AirClass server. */
export interface TestServer {
  /** e.g. http://127.0.0.1:8123 */
  httpUrl: string;
  /** e.g. https://127.0.0.1:8566 (listening only with env AIRCLASS_HTTPS=true). */
  httpsUrl: string;
  /** RTMP base, e.g. rtmp://127.0.0.1:2058 (append /live/<name>?token=…). */
  rtmpUrl: string;
  portOffset: number;
  dataDir: string;
  proc: ChildProcess;
  /** Mints a JWT with `airclass token` (e.g. token('student', 'live/math1', 'read')). */
  token(role: string, path: string, action: string, ttl?: string): Promise<string>;
  /** The server's recent stdout/stderr (for error messages). */
  logTail(): string;
  /** SIGTERM (SIGKILL after 5 s), then removes a temporary data dir. Idempotent. */
  stop(): Promise<void>;
}

/** True when `port` can be bound on 127.0.0.1 and on all interfaces right now. */
async function portFree(port: number): Promise<boolean> {
  for (const host of ['127.0.0.1', '0.0.0.0']) {
    const ok = await new Promise<boolean>((done) => {
      const srv = createServer();
      srv.once('error', () => done(false));
      srv.listen(port, host, () => srv.close(() => done(true)));
    });
    if (!ok) return false;
  }
  return true;
}

/** A random port offset in 100–900 whose HTTP, RTMP and RTSP ports are all free. */
export async function freePortOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const k = 100 + Math.floor(Math.random() * 801);
    const ports = Object.values(BASE_PORTS).map((p) => p + k);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return k;
  }
  throw new Error('freePortOffset: no free port offset found in 100–900 after 50 tries');
}

/** Mints a token with the CLI against `dataDir` (the server's signing key lives there). */
export async function mintToken(
  dataDir: string,
  role: string,
  path: string,
  action: string,
  ttl = '2h',
): Promise<string> {
  const args = [CLI, 'token', '--data-dir', dataDir, '--role', role, '--path', path, '--action', action];
  let stdout: string;
  try {
    ({ stdout } = await execFileP(NODE_BIN, [...args, '--ttl', ttl], { cwd: REPO_ROOT, timeout: 60_000 }));
  } catch (e) {
    const err = e as Error & { stderr?: string; signal?: string | null; code?: number | string };
    const why = err.signal ? `killed by ${err.signal} (timeout 60 s?)` : `exit ${err.code}`;
    throw new Error(`airclass token ${role} ${path} ${action}: ${why}\n${err.stderr ?? ''}`.trim(), {
      cause: e,
    });
  }
  const jwt = stdout
    .trim()
    .split('\n')
    .map((l) => l.trim())
    .findLast((l) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(l));
  if (!jwt) throw new Error(`airclass token printed no JWT: ${stdout.slice(0, 300)}`);
  return jwt;
}

/**
 * Starts `airclass start --data-dir <tmp> --port-offset <K>` and resolves once GET /ready
 * answers 200. Rejects (with the server's log tail) if it exits or is not ready in time.
 */
export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const portOffset = opts.portOffset ?? (await freePortOffset());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'airclass-data-')));
  // SERVER_NODE_ARGS (environment): extra Node flags for the server (e.g. "--cpu-prof" in benchmarks).
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIRCLASS_WEBRTC_UDP_PORT: '0',
    AIRCLASS_HTTPS: 'false',
    ...opts.env,
  };
  // On the embedded database, a migrated PGlite copied in spares the node 6–9 s of initdb.
  if (!env.AIRCLASS_DATABASE_URL && !env.DATABASE_URL) await seedPgliteDb(dataDir);
  const args = [
    ...nodeArgs,
    CLI,
    opts.command ?? 'start',
    '--data-dir',
    dataDir,
    '--port-offset',
    String(portOffset),
  ];
  const proc = spawn(NODE_BIN, args, {
    cwd: REPO_ROOT,
    // Any free WebRTC UDP port, so parallel test servers never collide (GET /health tells it).
    // HTTPS off unless a test turns it on (AIRCLASS_HTTPS=true): links stay plain http.
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number>((done) => {
    proc.once('error', (err) => {
      tail += `\nspawn: ${err.message}`;
      done(-1);
    });
    proc.once('exit', (code) => done(code ?? -1));
  });

  const httpUrl = `http://127.0.0.1:${BASE_PORTS.http + portOffset}`;
  let stopping: Promise<void> | undefined;
  const server: TestServer = {
    httpUrl,
    httpsUrl: `https://127.0.0.1:${BASE_PORTS.https + portOffset}`,
    rtmpUrl: `rtmp://127.0.0.1:${BASE_PORTS.rtmp + portOffset}`,
    portOffset,
    dataDir,
    proc,
    token: (role, path, action, ttl) => mintToken(dataDir, role, path, action, ttl),
    logTail: () => tail,
    stop: () =>
      (stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        if (ownDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
      })()),
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  let exitCode: number | undefined;
  void exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      await server.stop();
      throw new Error(`airclass start exited with ${exitCode} before /ready:\n${tail}`);
    }
    const ok = await fetch(`${httpUrl}/ready`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return server;
    await new Promise((r) => setTimeout(r, 150));
  }
  await server.stop();
  throw new Error(`airclass start not ready within ${opts.readyTimeoutMs ?? 90_000} ms:\n${tail}`);
}
