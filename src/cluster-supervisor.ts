/**
 * `airclass cluster --subs N`: the seed deployment on one machine without Docker (DESIGN §2) —
 * a main and N subs as child processes with port offsets (sub n: HTTP 8000+n, WebRTC UDP
 * 8189+n), each line of their output prefixed with the node's name, a crashed child restarted
 * (with backoff when it keeps crashing), and all of them stopped on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ports, type Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { TokenService } from './control/auth/tokens.ts';

const CLI = fileURLToPath(new URL('../bin/airclass.js', import.meta.url));

interface Child {
  name: string;
  args: string[];
  env: Record<string, string>;
  proc?: ChildProcess;
  startedAt: number;
  restarts: number;
  timer?: NodeJS.Timeout;
}

export interface ClusterRun {
  /** SIGTERM to every child; resolves when all have exited (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL to every child, now. */
  kill(): void;
}

/** Starts the main and `subs` subs; returns a handle that stops them. */
export async function runCluster(
  cfg: Config,
  opts: { subs: number; capacity?: number; configFile?: string; write?: (line: string) => void },
): Promise<ClusterRun> {
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = cfg.portOffset;
  const main = `http://127.0.0.1:${ports(cfg).http}`;
  const tokens = new TokenService(await loadOrCreateKeys(cfg.dataDir));
  const common = ['--data-dir', cfg.dataDir, ...(opts.configFile ? ['--config', opts.configFile] : [])];
  const children: Child[] = [
    {
      name: 'main',
      args: ['main', ...common, '--port-offset', String(base)],
      env: {},
      startedAt: 0,
      restarts: 0,
    },
  ];
  for (let i = 1; i <= opts.subs; i++) {
    const name = `sub-${i}`;
    children.push({
      name,
      args: [
        'sub',
        '--main',
        main,
        '--name',
        name,
        '--port-offset',
        String(base + i),
        ...(opts.capacity ? ['--capacity', String(opts.capacity)] : []),
        // The same data dir: each sub keeps its HTTPS certificate in <dataDir>/tls/node-<name>/.
        '--data-dir',
        cfg.dataDir,
        ...(opts.configFile ? ['--config', opts.configFile] : []),
      ],
      // A node token per sub, made with the main's key (the same data dir); through the
      // environment, never on a command line that `ps` shows.
      env: { AIRCLASS_NODE_TOKEN: await tokens.signNode(name, '365d') },
      startedAt: 0,
      restarts: 0,
    });
  }
  const width = Math.max(...children.map((c) => c.name.length));
  let stopping = false;

  const pipe = (c: Child, stream: NodeJS.ReadableStream | null): void => {
    if (!stream) return;
    const rl = createInterface({ input: stream });
    rl.on('line', (line) => write(`[${c.name.padEnd(width)}] ${line}`));
  };

  const launch = (c: Child): void => {
    c.startedAt = Date.now();
    const proc = spawn(process.execPath, [CLI, ...c.args, '--supervised'], {
      env: { ...process.env, ...c.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.proc = proc;
    pipe(c, proc.stdout);
    pipe(c, proc.stderr);
    proc.once('exit', (code, signal) => {
      c.proc = undefined;
      if (stopping) return;
      // A child that ran for a while restarts at once; one that keeps dying backs off.
      const quick = Date.now() - c.startedAt < 10_000;
      c.restarts = quick ? c.restarts + 1 : 0;
      const delay = Math.min(30_000, 500 * 2 ** c.restarts);
      write(
        `[${'cluster'.padEnd(width)}] ${c.name} exited (${signal ?? `code ${code}`}); restarting in ${Math.round(delay / 100) / 10} s`,
      );
      c.timer = setTimeout(() => launch(c), delay);
    });
  };

  for (const c of children) launch(c);
  write(
    `[${'cluster'.padEnd(width)}] main ${main} and ${opts.subs} sub(s) on HTTP ${children
      .slice(1)
      .map((_, i) => ports(cfg).http + i + 1)
      .join(', ')}${
      // HTTPS shifts with each port offset too (sub n: httpsPort+n, its certificate from the main's CA).
      cfg.https && ports(cfg).https
        ? ` and HTTPS ${children
            .slice(1)
            .map((_, i) => ports(cfg).https + i + 1)
            .join(', ')}`
        : ''
    }; Ctrl-C stops them all`,
  );

  let stopped: Promise<void> | undefined;
  return {
    kill: () => {
      stopping = true;
      for (const c of children) {
        clearTimeout(c.timer);
        c.proc?.kill('SIGKILL');
      }
    },
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        await Promise.all(
          children.map(async (c) => {
            clearTimeout(c.timer);
            const proc = c.proc;
            if (!proc || proc.exitCode !== null) return;
            const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
            proc.kill('SIGTERM');
            const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(killer);
          }),
        );
      })()),
  };
}
