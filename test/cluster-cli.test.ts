/**
 * `airclass cluster --subs 2` as an operator runs it: three processes (a main and
 * two subs) with port offsets, every line prefixed with its node, the subs registered with the
 * main; a sub killed with SIGKILL is restarted and registers again; SIGTERM stops them all.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, freePortOffset, NODE_BIN, REPO_ROOT } from './helpers/server.ts';
import { seedPgliteDb } from '../src/control/store/testing.ts';

const PASSWORD = 'cluster-cli-admin-1';

/** Child pids of `pid` (from /proc). */
function children(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid)
        out.push({ pid: Number(d), cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ') });
    } catch {
      // gone
    }
  }
  return out;
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (
      await Promise.resolve()
        .then(cond)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const health = async (port: number): Promise<Record<string, unknown>> =>
  (await (
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })
  ).json()) as Record<string, unknown>;

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('airclass cluster', () => {
  it('runs a main and two subs, restarts a killed sub, and stops them all on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'airclass-cluster-cli-'));
    await seedPgliteDb(dir); // the main's database, migrated (spares it initdb)
    const k = await freePortOffset();
    const proc = spawn(
      NODE_BIN,
      [CLI, 'cluster', '--subs', '2', '--data-dir', dir, '--port-offset', String(k)],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          AIRCLASS_WEBRTC_UDP_PORT: '0',
          AIRCLASS_HOST: '127.0.0.1',
          AIRCLASS_PUBLIC_HOST: '127.0.0.1',
          AIRCLASS_ADMIN_PASSWORD: PASSWORD,
          AIRCLASS_CLUSTER_HEARTBEAT_MS: '1000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      const main = 8000 + k;
      await until(async () => (await health(main)).status === 'ok', 90_000, 'the main');
      for (const p of [main + 1, main + 2]) {
        await until(async () => (await health(p)).registered === true, 60_000, `the sub on ${p} registered`);
      }
      const login = await fetch(`http://127.0.0.1:${main}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@airclass.local', password: PASSWORD }),
      });
      const admin = ((await login.json()) as { token: string }).token;
      const nodes = async (): Promise<{ name: string; state: string; role: string }[]> =>
        (
          (await (
            await fetch(`http://127.0.0.1:${main}/api/cluster/nodes`, {
              headers: { authorization: `Bearer ${admin}` },
            })
          ).json()) as { nodes: { name: string; state: string; role: string }[] }
        ).nodes;
      expect((await nodes()).map((n) => `${n.role}:${n.name}:${n.state}`)).toEqual([
        'main:main:alive',
        'sub:sub-1:alive',
        'sub:sub-2:alive',
      ]);
      // Every line carries its node's name.
      expect(out).toMatch(/^\[main \] AirClass is running\./m);
      expect(out).toMatch(/^\[sub-1\] AirClass sub node "sub-1" is running\./m);
      expect(out).toMatch(/^\[sub-2\] /m);

      // A crashed sub comes back by itself and registers again.
      const sub1 = children(proc.pid!).find((c) => / sub .*--name sub-1 /.test(c.cmd));
      expect(sub1).toBeDefined();
      process.kill(sub1!.pid, 'SIGKILL');
      await until(() => /sub-1 exited \(SIGKILL\); restarting/.test(out), 10_000, 'the restart notice');
      await until(
        () => children(proc.pid!).some((c) => / sub .*--name sub-1 /.test(c.cmd) && c.pid !== sub1!.pid),
        15_000,
        'a new sub-1 process',
      );
      await until(async () => (await health(main + 1)).registered === true, 60_000, 'sub-1 registered again');
      await until(async () => (await nodes()).every((n) => n.state === 'alive'), 10_000, 'all alive again');

      // SIGTERM (what Ctrl-C sends to a service) stops every node.
      const pids = children(proc.pid!).map((c) => c.pid);
      expect(pids.length).toBe(3);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const pid of pids) expect(() => process.kill(pid, 0), `node ${pid} still running`).toThrow();
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      for (const c of proc.pid ? children(proc.pid) : []) process.kill(c.pid, 'SIGKILL');
    }
  }, 240_000);
});
