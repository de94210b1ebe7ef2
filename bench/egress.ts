/**
 * WebRTC egress cost per viewer: `npm run bench:egress [-- --viewers N]`. Starts AirClass,
 * publishes 720p30 H.264 2 Mbit/s + AAC over RTMP with ffmpeg, measures the server with the
 * publisher and no viewer (baseline), then for each N (25, 50, 100, or --viewers N) runs N werift
 * WHEP viewers in another process (bench/egress-viewers.ts: their CPU is not the server's) and
 * samples the server process's CPU (/proc/<pid>/stat; its ffmpeg transcoder apart) each second
 * of a steady window. Prints medians: % of a core, minus baseline, per viewer; RTP packets lost
 * per viewer; MB per viewer (RSS growth / N). Never asserts; bounded in time; all on 127.0.0.1;
 * children stopped on exit and Ctrl-C.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParentMessage, ViewerMessage, ViewerStats } from './egress-viewers.ts';
import { childPids, cpuSeconds } from './lib/procs.ts';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string' },
    window: { type: 'string', default: '20' },
    settle: { type: 'string', default: '5' },
    'port-offset': { type: 'string', default: '70' },
    concurrency: { type: 'string', default: '8' },
    receiver: { type: 'string', default: 'light' },
    'per-process': { type: 'string', default: '75' },
    bitrate: { type: 'string', default: '2M' },
    keep: { type: 'boolean', default: false },
  },
});
const counts = args.viewers ? [Number(args.viewers)] : [50, 150, 300];
/** Viewers per load-generator process: one Node process cannot receive for many more. */
const perProcess = Number(args['per-process']);
const windowS = Number(args.window);
const settleS = Number(args.settle);
const K = Number(args['port-offset']);
const base = `http://127.0.0.1:${8000 + K}`;
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'airclass-bench-'));
const log = openSync(join(dir, 'bench.log'), 'a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '–');
const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const children = new Set<ChildProcess>();
const hardStop = setTimeout(() => fail(new Error('took over 20 minutes')), 20 * 60_000).unref();

const rssMB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
/** UDP sockets a process holds (from /proc/<pid>/fd and /proc/net/udp). */
function udpSocketCount(pid: number): number {
  const inodes = new Set<string>();
  for (const t of ['udp', 'udp6']) {
    for (const l of readFileSync(`/proc/${pid}/net/${t}`, 'utf8').split('\n').slice(1)) {
      const f = l.trim().split(/\s+/);
      if (f.length > 9) inodes.add(f[9] ?? '');
    }
  }
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (inodes.has(/socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '')) n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}
/** Kernel receive drops on the UDP sockets `pid` holds (/proc/net/udp "drops", by inode). */
function udpDrops(pid: number): number {
  const drops = new Map<string, number>();
  for (const l of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f.length > 12) drops.set(f[9] ?? '', Number(f[12]));
  }
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      n += drops.get(/socket:\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '') ?? 0;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}
async function health(): Promise<{ viewers: number; paths: { path: string; state: string }[] } | null> {
  return fetch(`${base}/health`)
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);
}
async function until<T>(what: string, s: number, f: () => Promise<T | undefined | null | false>): Promise<T> {
  const end = Date.now() + s * 1000;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${s} s waiting for ${what}`);
    await sleep(250);
  }
}

/** Samples `pids`' CPU each second for `seconds`: median % of one core per pid group. */
async function sampleCpu(groups: (() => number[])[], seconds: number): Promise<number[][]> {
  const out: number[][] = groups.map(() => []);
  let prev = groups.map((g) => g().reduce((s, p) => s + cpuSeconds(p), 0));
  let t = performance.now();
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const now = groups.map((g) => g().reduce((s, p) => s + cpuSeconds(p), 0));
    const dt = (performance.now() - t) / 1000;
    now.forEach((c, j) => out[j]?.push((100 * Math.max(0, c - (prev[j] ?? 0))) / dt));
    prev = now;
    t = performance.now();
  }
  return out;
}

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const c = spawn(cmd, argv, { cwd: root, env, stdio: ['ignore', log, log], detached: true });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}
async function stop(c: ChildProcess, ms = 8000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || !c.pid) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  if (!(await Promise.race([gone.then(() => true), sleep(ms).then(() => false)]))) {
    try {
      process.kill(-c.pid, 'SIGKILL'); // its own process group: it and whatever it started
    } catch {
      /* gone */
    }
  }
}
let stopping = false;
async function cleanup(): Promise<void> {
  stopping = true;
  clearTimeout(hardStop);
  await Promise.all([...children].reverse().map((c) => stop(c)));
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}
function fail(e: Error): void {
  if (stopping) return;
  console.error(`bench:egress: ${e.message}\n(server, ffmpeg and viewer logs: ${join(dir, 'bench.log')})`);
  args.keep = true;
  void cleanup().then(() => process.exit(1));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
/** Last resort (a crash): kill each child's process group, synchronously. */
process.on('exit', () => {
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/** One viewer count: connect, settle, measure, disconnect. */
async function measure(n: number, serverPid: number, viewerToken: string, baseCpu: number) {
  const rss0 = rssMB(serverPid);
  const k = Math.max(1, Math.ceil(n / perProcess));
  const kids = Array.from({ length: k }, (_, i) => {
    const count = Math.floor(n / k) + (i < n % k ? 1 : 0);
    const argv = `--url ${base}/live/bench/whep --token ${viewerToken} --count ${count} --deadline-s ${60 + n}`;
    const more = ` --concurrency ${Math.max(2, Math.ceil(Number(args.concurrency) / k))} --receiver ${args.receiver}`;
    const child = fork(join(root, 'bench/egress-viewers.ts'), (argv + more).split(' '), {
      execPath: process.execPath,
      execArgv: ['--max-semi-space-size=32'], // fewer GC pauses while receiving ~100 Mbit/s
      stdio: ['ignore', log, log, 'ipc'],
      detached: true,
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const kid = {
      child,
      count,
      progress: undefined as Extract<ViewerMessage, { type: 'progress' }> | undefined,
      statsWaiter: undefined as ((m: Extract<ViewerMessage, { type: 'stats' }>) => void) | undefined,
    };
    child.on('message', (m: ViewerMessage) => {
      if (m.type === 'progress') kid.progress = m;
      if (m.type === 'stats') kid.statsWaiter?.(m);
    });
    return kid;
  });
  const stats = async (): Promise<Extract<ViewerMessage, { type: 'stats' }>> => {
    const all = await Promise.all(
      kids.map(
        (kid) =>
          new Promise<Extract<ViewerMessage, { type: 'stats' }>>((r) => {
            kid.statsWaiter = r;
            kid.child.send({ type: 'stats' } satisfies ParentMessage);
          }),
      ),
    );
    return {
      type: 'stats',
      viewers: all.flatMap((m) => m.viewers),
      loopDelayP99Ms: Math.max(...all.map((m) => m.loopDelayP99Ms)),
    };
  };
  const total = (key: 'receiving' | 'failed' | 'connected'): number =>
    kids.reduce((s2, kid) => s2 + (kid.progress?.[key] ?? 0), 0);
  const t0 = performance.now();
  const all = async (): Promise<boolean> =>
    total('receiving') === n || total('receiving') + total('failed') === n;
  await until(`${n} viewers to connect and receive`, 90 + 2 * n, all).catch((e: Error) =>
    console.error(`  note: ${e.message}; measuring the ${total('receiving')} that receive`),
  );
  const joinS = (performance.now() - t0) / 1000;
  await sleep(settleS * 1000);
  const kidPids = (): number[] => kids.map((kid) => kid.child.pid ?? 0).filter(Boolean);
  const drops = (): number[] => [udpDrops(serverPid), sum(kidPids().map(udpDrops))];
  const udpSockets = udpSocketCount(serverPid);
  const [a, drops0] = [await stats(), drops()];
  const [server, transcoder, viewerProc] = await sampleCpu(
    [() => [serverPid], () => childPids(serverPid), kidPids],
    windowS,
  );
  const [b, drops1, rss1] = [await stats(), drops(), rssMB(serverPid)];
  const sessions = (await health())?.viewers ?? NaN;
  await Promise.all(
    kids.map(async (kid) => {
      const closed = new Promise((r) => kid.child.once('exit', r));
      kid.child.send({ type: 'close' } satisfies ParentMessage);
      await Promise.race([closed, sleep(20_000)]);
      await stop(kid.child);
    }),
  );
  await until('the server to count 0 viewers', 30, async () => (await health())?.viewers === 0).catch(
    (e: Error) => console.error(`  note: ${e.message}`),
  );
  const progress = { errors: kids.flatMap((kid) => kid.progress?.errors ?? []) };
  const per: { lost: number; expected: number; kbps: number }[] = [];
  b.viewers.forEach((v: ViewerStats, i) => {
    const p = a.viewers[i];
    if (!p || !p.connected || !v.connected) return;
    const d = (k: 'video' | 'audio', key: 'expected' | 'unique' | 'bytes'): number => v[k][key] - p[k][key];
    const expected = d('video', 'expected') + d('audio', 'expected');
    per.push({
      expected,
      lost: expected - d('video', 'unique') - d('audio', 'unique'),
      kbps: ((d('video', 'bytes') + d('audio', 'bytes')) * 8) / windowS / 1000,
    });
  });
  const cpu = median(server ?? []);
  const p95 = (k: 'connectMs' | 'answerMs'): number =>
    (b.viewers.map((v) => v[k] ?? Infinity).sort((x, y) => x - y)[Math.floor(b.viewers.length * 0.95)] ??
      NaN) / 1000;
  const lost = per.map((p) => p.lost);
  const cells: [string, string][] = [
    ['viewers counted (of N)', `${per.length}/${n}`],
    ['server sessions (/health)', f(sessions, 0)],
    ['server CPU, % of a core', f(cpu)],
    ['  minus baseline', f(cpu - baseCpu)],
    ['  per viewer', f((cpu - baseCpu) / per.length, 2)],
    ['  per server session', f((cpu - baseCpu) / sessions, 2)],
    ['transcoder CPU %', f(median(transcoder ?? []))],
    ['load-generator CPU % (all procs)', f(median(viewerProc ?? []))],
    ['server UDP sockets', String(udpSockets)],
    ['kbit/s per viewer', f(median(per.map((p) => p.kbps)), 0)],
    ['lost packets/viewer (median)', f(median(lost), 0)],
    ['lost packets (worst viewer)', f(Math.max(...lost), 0)],
    ['loss %', f((100 * sum(lost)) / Math.max(1, sum(per.map((p) => p.expected))), 3)],
    ['UDP drops, server sockets', String((drops1[0] ?? 0) - (drops0[0] ?? 0))],
    ['UDP drops, viewer sockets', String((drops1[1] ?? 0) - (drops0[1] ?? 0))],
    ['server RSS MB per viewer', f((rss1 - rss0) / per.length, 2)],
    ['join all, s', f(joinS)],
    ['WHEP POST→201 p95, s', f(p95('answerMs'), 2)],
    ['connected p95, s', f(p95('connectMs'), 2)],
    ['viewer event loop p99, ms', f(b.loopDelayP99Ms, 0)],
  ];
  return { n, ok: per.length, joinS, errors: progress?.errors ?? [], cells };
}

async function main(): Promise<void> {
  const busy = await new Promise<boolean>((r) => {
    const s = connect(8000 + K, '127.0.0.1', () => (s.destroy(), r(true))).on('error', () => r(false));
  });
  if (busy) throw new Error(`port ${8000 + K} is taken: pass another --port-offset`);
  const node = process.execPath;
  // One address and one token make every join here: lift the join queue's per-token and
  // per-address caps (the fairness they give is tested in test/egress.test.ts, not measured).
  const env = {
    ...process.env,
    AIRCLASS_LOG_LEVEL: 'warn',
    AIRCLASS_WHEP_RATE_LIMIT: '100000',
    AIRCLASS_MAX_PENDING_PER_TOKEN: '100000',
    AIRCLASS_MAX_PENDING_PER_ADDRESS: '100000',
    AIRCLASS_MAX_VIEWERS: '5000',
    AIRCLASS_WEBRTC_UDP_PORT: '0',
  };
  // SERVER_NODE_ARGS (environment): extra Node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const nodeArgs = (process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = run(
    node,
    [...nodeArgs, 'bin/airclass.js', 'start', '--data-dir', dir, '--port-offset', String(K)],
    env,
  );
  server.once('exit', (c, s) => fail(new Error(`the server exited (${c ?? s})`)));
  await until('the server to answer /health', 60, health);
  const token = (role: string, action: string): string => {
    const argv = `bin/airclass.js token --data-dir ${dir} --role ${role} --path live/bench --action ${action}`;
    return String(execFileSync(node, [...argv.split(' '), '--ttl', '2h'], { cwd: root, env })).trim();
  };
  const [teacher, student] = [token('teacher', 'publish'), token('student', 'read')];
  run('ffmpeg', [
    ...'-nostdin -loglevel warning -re -f lavfi -i testsrc2=size=1280x720:rate=30'.split(' '),
    ...'-f lavfi -i sine=frequency=440:sample_rate=48000 -c:v libx264 -preset ultrafast'.split(' '),
    ...'-tune zerolatency -profile:v baseline'.split(' '),
    ...`-b:v ${args.bitrate} -maxrate ${args.bitrate} -bufsize 1M -g 60`.split(' '),
    ...'-c:a aac -b:a 96k -f flv'.split(' '),
    `rtmp://127.0.0.1:${1935 + K}/live/bench?token=${teacher}`,
  ]).once('exit', (c, s) => fail(new Error(`ffmpeg exited (${c ?? s})`)));
  await until('live/bench to go live', 60, async () =>
    (await health())?.paths.some((p) => p.path === 'live/bench' && p.state === 'live'),
  );
  await sleep(settleS * 1000);
  const [baseSamples = [], baseTranscoder = []] = await sampleCpu(
    [() => [server.pid ?? 0], () => childPids(server.pid ?? 0)],
    windowS,
  );
  const baseCpu = median(baseSamples);
  console.log(
    `AirClass egress, Node ${process.version}, ${args.receiver} viewers, ${windowS} s windows, load ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(
    `baseline (publisher, 0 viewers): server ${baseCpu.toFixed(1)} % of a core, ` +
      `transcoder ${median(baseTranscoder).toFixed(1)} %, RSS ${rssMB(server.pid ?? 0).toFixed(0)} MB`,
  );
  const rows: Awaited<ReturnType<typeof measure>>[] = [];
  for (const n of counts) {
    const r = await measure(n, server.pid ?? 0, student, baseCpu);
    rows.push(r);
    console.log(`  ${n} viewers measured (${r.ok} counted, joined in ${r.joinS.toFixed(1)} s)`);
    if (r.errors.length) console.log(`  viewer errors: ${r.errors.join('; ')}`);
  }
  console.log(['N ='.padEnd(30), ...rows.map((r) => String(r.n).padStart(8))].join(''));
  for (const [i, [name]] of (rows[0]?.cells ?? []).entries())
    console.log([name.padEnd(30), ...rows.map((r) => (r.cells[i]?.[1] ?? '').padStart(8))].join(''));
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (e: Error) => fail(e),
);
