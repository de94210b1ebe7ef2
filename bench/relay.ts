/**
 * The cluster's relay hop and edge cost: `npm run bench:relay [-- --viewers 60 --runs 2]`.
 * Each run starts `airclass cluster --subs 3` in a fresh data dir, publishes 720p30 H.264
 * 2 Mbit/s + AAC over RTMP with ffmpeg, asks the main where each of V students goes
 * (`POST /api/cluster/assign`, one token subject per student), runs each sub's students as werift
 * WHEP viewers in their own load-generator process (bench/egress-viewers.ts, one per node), and
 * over a steady window samples every node's CPU (/proc/<pid>/stat; the main's ffmpeg transcoder
 * apart). Prints per sub: the main → sub hop (the sub's /health relay.hopMs: p50/p99 of the
 * last 600 video frames, each stamped with the main's send time, one clock), CPU % of a core
 * and per viewer, viewers, RTP packets lost; load average before/after. Never asserts; bounded
 * in time; all on 127.0.0.1; every child (cluster, ffmpeg, viewers) stopped on exit and Ctrl-C.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOrCreateKeys } from '../src/control/auth/keys.ts';
import { TokenService } from '../src/control/auth/tokens.ts';
import { ChildSet, childPids, cpuSeconds } from './lib/procs.ts';
import { FFMPEG_PATH, testPatternArgs } from '../test/helpers/publisher.ts';
import type { ParentMessage, ViewerMessage, ViewerStats } from './egress-viewers.ts';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '60' },
    subs: { type: 'string', default: '3' },
    window: { type: 'string', default: '20' },
    settle: { type: 'string', default: '5' },
    runs: { type: 'string', default: '2' },
    'port-offset': { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '4' },
    bitrate: { type: 'string', default: '2M' },
    /** Seconds for all the runs together; then whatever runs is stopped. */
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const V = Number(args.viewers);
const SUBS = Number(args.subs);
const windowS = Number(args.window);
const settleS = Number(args.settle);
const runs = Number(args.runs);
const K = Number(args['port-offset']);
const PATH = 'live/bench';
const mainUrl = `http://127.0.0.1:${8000 + K}`;
const subUrl = (i: number): string => `http://127.0.0.1:${8000 + K + i}`;
const root = new URL('..', import.meta.url).pathname;
const node = join(root, 'node_modules/.bin/node');
const logDir = mkdtempSync(join(tmpdir(), 'airclass-relay-'));
const log = openSync(join(logDir, 'bench.log'), 'a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f = (x: number | undefined, d = 1): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–';
const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const procs = new ChildSet(root, log);
const { children } = procs;
const run = procs.run.bind(procs);
const stop = procs.stop.bind(procs);
/** The data dirs of runs not yet cleaned up. */
const dataDirs = new Set<string>();
const timeoutS = args.timeout ? Number(args.timeout) : 120 * runs;
const hardStop = setTimeout(() => fail(new Error(`took over ${timeoutS} s (--timeout)`)), timeoutS * 1000);
hardStop.unref();

/** The command line of a process, its arguments joined by spaces ('' once gone). */
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};
/** The supervisor's child running node `name` ('main' or 'sub-N'), 0 when there is none. */
const nodePid = (supervisor: number, name: string): number =>
  childPids(supervisor).find((p) =>
    name === 'main' ? /airclass\.js main /.test(cmdline(p)) : cmdline(p).includes(` --name ${name} `),
  ) ?? 0;

/** Samples each group of pids once a second for `seconds`: % of one core, one entry a second. */
async function sampleCpu(groups: (() => number[])[], seconds: number): Promise<number[][]> {
  const total = (g: () => number[]): number => sum(g().map(cpuSeconds));
  const out: number[][] = groups.map(() => []);
  let prev = groups.map(total);
  let t = performance.now();
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const now = groups.map(total);
    const dt = (performance.now() - t) / 1000;
    now.forEach((c, j) => out[j]?.push((100 * Math.max(0, c - (prev[j] ?? 0))) / dt));
    prev = now;
    t = performance.now();
  }
  return out;
}

type HopMs = { p50: number; p99: number; n: number } | null;
interface Health {
  viewers: number;
  registered?: boolean;
  paths: { path: string; state: string }[];
  relay?: { paths: string[]; reconnects: number; hopMs?: Record<string, HopMs> };
}
async function health(url: string): Promise<Health | null> {
  return fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })
    .then((r) => (r.ok ? (r.json() as Promise<Health>) : null))
    .catch(() => null);
}
const ready = (url: string): Promise<boolean> =>
  fetch(`${url}/ready`, { signal: AbortSignal.timeout(5000) })
    .then((r) => r.ok)
    .catch(() => false);
async function until<T>(
  what: string,
  s: number,
  fn: () => Promise<T | undefined | null | false>,
): Promise<T> {
  const end = Date.now() + s * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${s} s waiting for ${what}`);
    await sleep(250);
  }
}
const portTaken = (port: number): Promise<boolean> =>
  new Promise<boolean>((r) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
  });

let stopping = false;
async function cleanup(): Promise<void> {
  stopping = true;
  clearTimeout(hardStop);
  await procs.stopAll(12_000);
  if (!args.keep) for (const d of [logDir, ...dataDirs]) rmSync(d, { recursive: true, force: true });
}
function fail(e: Error): void {
  if (stopping) return;
  console.error(
    `bench:relay: ${e.message}\n(cluster, ffmpeg and viewer logs: ${join(logDir, 'bench.log')}; kept: ${[...dataDirs].join(' ')})`,
  );
  args.keep = true;
  void cleanup().then(() => process.exit(1));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
/** Last resort (a crash): kill each child's process group, synchronously. */
process.on('exit', () => procs.killAllSync());

type Stats = Extract<ViewerMessage, { type: 'stats' }>;
type Progress = Extract<ViewerMessage, { type: 'progress' }>;
/** One load-generator process: the viewers one node serves. */
interface Group {
  nodeId: string;
  whepUrl: string;
  count: number;
  child: ChildProcess;
  progress?: Progress;
  statsWaiter?: (m: Stats) => void;
}

/** Forks bench/egress-viewers.ts for `count` viewers of `whepUrl`. */
function viewers(nodeId: string, whepUrl: string, token: string, count: number): Group {
  const argv = ['--url', whepUrl, '--token', token, '--count', String(count)];
  argv.push('--deadline-s', String(60 + count), '--concurrency', String(args.concurrency));
  const child = fork(join(root, 'bench/egress-viewers.ts'), argv, {
    execPath: node,
    execArgv: ['--max-semi-space-size=32'],
    stdio: ['ignore', log, log, 'ipc'],
    detached: true,
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const g: Group = { nodeId, whepUrl, count, child };
  child.on('message', (m: ViewerMessage) => {
    if (m.type === 'progress') g.progress = m;
    if (m.type === 'stats') g.statsWaiter?.(m);
  });
  return g;
}
const stats = (g: Group): Promise<Stats> =>
  new Promise<Stats>((r) => {
    g.statsWaiter = r;
    g.child.send({ type: 'stats' } satisfies ParentMessage);
  });

/** RTP lost over the window (expected − distinct received) and expected, over a group's viewers. */
function loss(a: Stats, b: Stats): { lost: number; expected: number; counted: number } {
  let lost = 0;
  let expected = 0;
  let counted = 0;
  b.viewers.forEach((v: ViewerStats, i) => {
    const p = a.viewers[i];
    if (!p || !p.connected || !v.connected) return;
    const d = (k: 'video' | 'audio', key: 'expected' | 'unique'): number => v[k][key] - p[k][key];
    const e = d('video', 'expected') + d('audio', 'expected');
    expected += e;
    lost += e - d('video', 'unique') - d('audio', 'unique');
    counted++;
  });
  return { lost, expected, counted };
}

/** One run: cluster up, publish, assign and join, measure, all down. Prints its figures. */
async function once(r: number): Promise<void> {
  for (let i = 0; i <= SUBS; i++) {
    if (await portTaken(8000 + K + i))
      throw new Error(`port ${8000 + K + i} is taken: pass another --port-offset`);
  }
  const load0 = loadavg()[0] ?? NaN;
  const dir = mkdtempSync(join(tmpdir(), 'airclass-relay-data-'));
  dataDirs.add(dir);
  const env = {
    ...process.env,
    AIRCLASS_LOG_LEVEL: 'warn',
    AIRCLASS_WEBRTC_ANNOUNCE_LOOPBACK: 'true',
    AIRCLASS_MAX_PENDING_PER_ADDRESS: '1000',
    // One load-generator process joins its node's viewers with one token (egress-viewers.ts
    // takes one): lift the per-token join cap, as bench:egress does.
    AIRCLASS_MAX_PENDING_PER_TOKEN: '1000',
  };
  const clusterArgs = ['bin/airclass.js', 'cluster', '--subs', String(SUBS), '--data-dir', dir];
  const cluster = run(node, [...clusterArgs, '--port-offset', String(K)], env);
  const onExit = (c: number | null, s: NodeJS.Signals | null): void =>
    fail(new Error(`the cluster exited (${c ?? s})`));
  cluster.once('exit', onExit);
  let publisher: ChildProcess | undefined;
  const groups: Group[] = [];
  try {
    const t0 = performance.now();
    const urls = [mainUrl, ...Array.from({ length: SUBS }, (_, i) => subUrl(i + 1))];
    await until('every node to be ready', 60, async () =>
      (await Promise.all(urls.map(ready))).every(Boolean),
    );
    await until('the subs to register with the main', 30, async () =>
      (await Promise.all(urls.slice(1).map(health))).every((h) => h?.registered === true),
    );
    const upS = (performance.now() - t0) / 1000;
    // The supervisor made the keys in the data dir before it started the main.
    if (!existsSync(join(dir, 'keys'))) throw new Error('no signing keys in the data dir');
    const tokens = new TokenService(await loadOrCreateKeys(dir));
    const teacher = await tokens.sign(
      { sub: 'bench-teacher', role: 'teacher', path: PATH, actions: ['publish'] },
      '2h',
    );
    publisher = run(FFMPEG_PATH, [
      '-nostdin',
      ...testPatternArgs({
        url: `rtmp://127.0.0.1:${1935 + K}/${PATH}?token=${teacher}`,
        bitrate: args.bitrate,
      }),
    ]);
    publisher.once('exit', (c, s) => fail(new Error(`ffmpeg exited (${c ?? s})`)));
    await until(`${PATH} to go live`, 60, async () =>
      (await health(mainUrl))?.paths.some((p) => p.path === PATH && p.state === 'live'),
    );

    // Where each student goes: one subject each, so that rendezvous hashing spreads them.
    const students = await Promise.all(
      Array.from({ length: V }, (_, i) =>
        tokens.sign({ sub: `bench-student-${r}-${i}`, role: 'student', path: PATH, actions: ['read'] }, '2h'),
      ),
    );
    const assigned = await Promise.all(
      students.map(async (token) => {
        const res = await fetch(`${mainUrl}/api/cluster/assign`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: '{}',
        });
        if (!res.ok) throw new Error(`assign: ${res.status} ${(await res.text()).slice(0, 200)}`);
        const a = (await res.json()) as { whepUrl: string; node: { id: string; name: string } };
        return { token, ...a };
      }),
    );
    const byNode = new Map<string, { whepUrl: string; tokens: string[] }>();
    for (const a of assigned) {
      const e = byNode.get(a.node.id) ?? { whepUrl: a.whepUrl, tokens: [] };
      e.tokens.push(a.token);
      byNode.set(a.node.id, e);
    }
    const t1 = performance.now();
    for (const [id, e] of [...byNode].sort(([a], [b]) => a.localeCompare(b))) {
      groups.push(viewers(id, e.whepUrl, e.tokens[0] ?? '', e.tokens.length));
    }
    const total = (key: 'receiving' | 'failed'): number => sum(groups.map((g) => g.progress?.[key] ?? 0));
    await until(`${V} viewers to connect and receive`, 90 + V, async () =>
      total('receiving') + total('failed') >= V ? true : false,
    ).catch((e: Error) =>
      console.error(`  note: ${e.message}; measuring the ${total('receiving')} that receive`),
    );
    const joinS = (performance.now() - t1) / 1000;
    await sleep(settleS * 1000);

    const sup = cluster.pid ?? 0;
    const names = ['main', ...Array.from({ length: SUBS }, (_, i) => `sub-${i + 1}`)];
    const a = await Promise.all(groups.map(stats));
    const cpu = await sampleCpu(
      [
        () => [sup],
        () => [nodePid(sup, 'main')],
        () => childPids(nodePid(sup, 'main')),
        ...names.slice(1).map((n) => () => {
          const p = nodePid(sup, n);
          return p ? [p, ...childPids(p)] : [];
        }),
        () => groups.map((g) => g.child.pid ?? 0).filter(Boolean),
      ],
      windowS,
    );
    const b = await Promise.all(groups.map(stats));
    const healths = await Promise.all(urls.map(health));
    const load1 = loadavg()[0] ?? NaN;
    const med = cpu.map(median);
    const [supCpu, mainCpu, transcoderCpu] = med;
    const viewerProcCpu = med[med.length - 1];

    // The figures.
    console.log(
      `\nrun ${r}/${runs}: ${V} viewers over ${SUBS} subs, ${windowS} s window after ${settleS} s; ` +
        `load ${f(load0)} before → ${f(load1)} after; cluster up in ${f(upS)} s, viewers joined in ${f(joinS)} s`,
    );
    const head = ['node', 'viewers', 'CPU %', '%/viewer', 'hop p50', 'hop p99', 'hop n', 'lost', 'loss %'];
    const widths = [10, 8, 8, 9, 9, 9, 7, 7, 8];
    const line = (cells: string[]): void =>
      console.log(
        cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 8) : c.padStart(widths[i] ?? 8))).join(''),
      );
    line(head);
    line(['main', f(healths[0]?.viewers, 0), f(mainCpu), '', '', '', '', '', '']);
    line(['  ffmpeg', '', f(transcoderCpu), '', '', '', '', '', '']);
    const p50s: number[] = [];
    const p99s: number[] = [];
    let lostAll = 0;
    let expectedAll = 0;
    let subCpuAll = 0;
    let subViewersAll = 0;
    for (let i = 1; i <= SUBS; i++) {
      const name = names[i] ?? '';
      const h = healths[i];
      const hop = h?.relay?.hopMs?.[PATH] ?? null;
      if (hop) {
        p50s.push(hop.p50);
        p99s.push(hop.p99);
      }
      const gi = groups.findIndex((g) => g.nodeId === name);
      const ga = a[gi];
      const gb = b[gi];
      const l = ga && gb ? loss(ga, gb) : undefined;
      if (l) {
        lostAll += l.lost;
        expectedAll += l.expected;
      }
      const c = med[2 + i] ?? NaN;
      const n = h?.viewers ?? NaN;
      subCpuAll += c;
      subViewersAll += n;
      line([
        name,
        f(n, 0),
        f(c),
        f(c / n, 2),
        f(hop?.p50, 2),
        f(hop?.p99, 2),
        f(hop?.n, 0),
        f(l?.lost, 0),
        l ? f((100 * l.lost) / Math.max(1, l.expected), 3) : '–',
      ]);
    }
    line([
      'subs',
      f(subViewersAll, 0),
      f(subCpuAll),
      f(subCpuAll / subViewersAll, 2),
      f(median(p50s), 2),
      f(p99s.length ? Math.max(...p99s) : NaN, 2),
      '',
      f(lostAll, 0),
      f((100 * lostAll) / Math.max(1, expectedAll), 3),
    ]);
    console.log(
      `  (hop ms: the sub's last ≤600 video frames (~20 s at 30 fps), each stamped with the main's send time; "subs" = median of the p50s, worst p99)`,
    );
    const others = [...byNode.keys()].filter((id) => !names.slice(1).includes(id));
    if (others.length)
      console.log(
        `  assigned elsewhere: ${others.map((id) => `${id} ×${byNode.get(id)?.tokens.length}`).join(', ')}`,
      );
    console.log(
      `  supervisor CPU ${f(supCpu)} %, load generators CPU ${f(viewerProcCpu)} % (${groups.length} procs), ` +
        `viewer event loop p99 ${f(Math.max(...b.map((s) => s.loopDelayP99Ms)), 0)} ms, ` +
        `relay reconnects ${healths
          .slice(1)
          .map((h) => h?.relay?.reconnects ?? '–')
          .join('/')}`,
    );
    const errors = groups.flatMap((g) => g.progress?.errors ?? []);
    if (errors.length) console.log(`  viewer errors: ${errors.join('; ')}`);
  } finally {
    // Everything down before the next run (or the exit).
    await Promise.all(
      groups.map(async (g) => {
        const closed = new Promise((res) => g.child.once('exit', res));
        if (g.child.connected) g.child.send({ type: 'close' } satisfies ParentMessage);
        await Promise.race([closed, sleep(15_000)]);
        await stop(g.child);
      }),
    );
    if (publisher) {
      publisher.removeAllListeners('exit');
      await stop(publisher, 3000);
    }
    cluster.off('exit', onExit);
    await stop(cluster, 15_000);
    if (!args.keep) {
      rmSync(dir, { recursive: true, force: true });
      dataDirs.delete(dir);
    }
  }
}

async function main(): Promise<void> {
  console.log(
    `AirClass relay bench, Node ${process.version}: cluster of 1 main + ${SUBS} subs, port offset ${K}, ` +
      `720p30 ${args.bitrate}bit/s + AAC, ${runs} run(s)`,
  );
  for (let r = 1; r <= runs; r++) await once(r);
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (e: Error) => fail(e),
);
