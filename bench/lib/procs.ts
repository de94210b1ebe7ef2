/**
 * What the benchmarks share about processes: CPU time and parentage from /proc, and children
 * spawned in their own process group so that each, and whatever it starts, is stopped on exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times. */
export const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/<pid>/stat after the command name (f[1] ppid, f[11] utime), [] once gone. */
export function procStat(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  } catch {
    return [];
  }
}

/** utime+stime of a process in seconds (0 once gone). */
export function cpuSeconds(pid: number): number {
  const f = procStat(pid);
  return f.length ? (Number(f[11]) + Number(f[12])) / TICK : 0;
}

/** The processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && procStat(Number(d))[1] === String(pid))
    .map(Number);
}

/** Children in their own process groups, stopped together. */
export class ChildSet {
  readonly children = new Set<ChildProcess>();
  private readonly cwd: string;
  private readonly out: number | 'ignore';

  /** `out`: the file descriptor children write to (a log file), or 'ignore'. */
  constructor(cwd: string, out: number | 'ignore') {
    this.cwd = cwd;
    this.out = out;
  }

  /** Spawns a child in its own process group (so it and whatever it starts can be killed). */
  run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env, out = this.out): ChildProcess {
    const c = spawn(cmd, argv, { cwd: this.cwd, env, stdio: ['ignore', out, out], detached: true });
    this.children.add(c);
    c.on('exit', () => this.children.delete(c));
    return c;
  }

  /** SIGTERM, then after `ms` SIGKILL to the child's whole process group; waits for it. */
  async stop(c: ChildProcess, ms = 8000): Promise<void> {
    if (!c.pid) return;
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      if (await Promise.race([gone.then(() => true), sleep(ms).then(() => false)])) return;
    }
    try {
      process.kill(-c.pid, 'SIGKILL'); // its own process group: it and whatever it started
    } catch {
      /* gone */
    }
  }

  /** Last resort (a crash): kills each child's process group, synchronously. */
  killAllSync(): void {
    for (const c of this.children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** Stops every child, newest first. */
  stopAll(ms = 12_000): Promise<void> {
    return Promise.all([...this.children].reverse().map((c) => this.stop(c, ms))).then(() => undefined);
  }
}
