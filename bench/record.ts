/**
 * What recording costs the main, and how many lessons one main records at once:
 * `npm run bench:record [-- --steps 1,4 --window 10]`. Starts two `airclass start` servers in
 * fresh data dirs (one recording, one with AIRCLASS_RECORD=false; both with
 * AIRCLASS_AUDIO_TRANSCODE=false, so no AAC→Opus ffmpeg child counts), signs in as the admin,
 * makes a teacher and, per step of N lessons, N classes. Each lesson is published with the
 * class's stream key (which starts the lesson, and so its recording) by an ffmpeg that copies
 * one pre-encoded 20-s 720p30 H.264 2 Mbit/s + AAC 96k FLV clip in a loop (`-c copy`: the
 * publishers cost little). After a settle, over a window, it measures the server's CPU
 * (/proc/<pid>/stat, read each second; % of one core over the window), its disk writes
 * (/proc/<pid>/io write_bytes) and, read from disk every 250 ms, each recording's index.m3u8:
 * written media (sum of EXTINF), bytes and discontinuities. A step kept up when every recording
 * wrote ≥ 90 % of a media second per wall second, with no new discontinuity (a recorder that
 * falls behind drops to the next keyframe, which the segmenter marks) and no recorder warning
 * in the server's log. Capacity steps run on the recording server alone; the baseline steps run
 * N lessons on both servers over the same window, so recorder cost = CPU(record) − CPU(no
 * record) is paired against the shared machine's drift. Prints the tables (medians over runs),
 * the largest N that kept up, CPU per lesson and the recorder's own cost. Never asserts;
 * bounded in time (--timeout); all on 127.0.0.1; every child stopped on exit and Ctrl-C; data
 * dirs removed unless --keep.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChildSet, childPids, cpuSeconds } from './lib/procs.ts';
import { FFMPEG_PATH } from '../test/helpers/publisher.ts';

const { values: args } = parseArgs({
  options: {
    /** Lessons published at once, one step each. */
    steps: { type: 'string', default: '1,2,4,8,16' },
    /** Steps also measured with AIRCLASS_RECORD=false ('all', 'none' or a list). */
    baseline: { type: 'string', default: '4,16' },
    window: { type: 'string', default: '20' },
    settle: { type: 'string', default: '5' },
    runs: { type: 'string', default: '1' },
    /** The recording server uses this offset (HTTP 8000+K, RTMP 1935+K), the baseline K+1. */
    'port-offset': { type: 'string', default: '640' },
    bitrate: { type: 'string', default: '2M' },
    /** Seconds for all the runs together; then whatever runs is stopped. */
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const list = (s: string): number[] =>
  s
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
const steps = list(args.steps);
const baselineSteps =
  args.baseline === 'all'
    ? steps
    : args.baseline === 'none'
      ? []
      : list(args.baseline).filter((n) => steps.includes(n));
const windowS = Number(args.window);
const settleS = Number(args.settle);
const runs = Number(args.runs);
const K = Number(args['port-offset']);
const CLIP_S = 20;
const ADMIN = { email: 'bench-admin@record.example', password: 'bench-admin-password' };
const TEACHER = { email: 'bench-teacher@record.example', password: 'bench-teacher-password' };
const root = new URL('..', import.meta.url).pathname;
const node = join(root, 'node_modules/.bin/node');
const logDir = mkdtempSync(join(tmpdir(), 'airclass-record-'));
const log = openSync(join(logDir, 'bench.log'), 'a');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f = (x: number | undefined, d = 1): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '–';
const sum = (xs: number[]): number => xs.reduce((s, x) => s + x, 0);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mean = (xs: number[]): number => (xs.length ? sum(xs) / xs.length : NaN);
const procs = new ChildSet(root, log);
const run = procs.run.bind(procs);
const stop = procs.stop.bind(procs);
/** The data dirs of servers not yet cleaned up. */
const dataDirs = new Set<string>();
const stepCount = runs * (steps.length + baselineSteps.length);
const timeoutS = args.timeout ? Number(args.timeout) : stepCount * (settleS + windowS + 20) + 120;
const hardStop = setTimeout(() => fail(new Error(`took over ${timeoutS} s (--timeout)`)), timeoutS * 1000);
hardStop.unref();

/** Bytes a process (all its threads) made dirty for the disk, /proc/<pid>/io write_bytes. */
function writeBytes(pid: number): number {
  try {
    return Number(/^write_bytes: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

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
    `bench:record: ${e.message}\n(server and ffmpeg logs: ${logDir}; kept: ${[...dataDirs].join(' ')})`,
  );
  args.keep = true;
  void cleanup().then(() => process.exit(1));
}
process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().then(() => process.exit(143)));
/** Last resort (a crash): kill each child's process group, synchronously. */
process.on('exit', () => procs.killAllSync());

/** One `airclass start`, signed in as its teacher. */
interface Server {
  record: boolean;
  url: string;
  rtmp: string;
  dir: string;
  logFile: string;
  proc: ChildProcess;
  /** The teacher's Bearer token. */
  teacher: string;
  onExit: (c: number | null, s: NodeJS.Signals | null) => void;
}
interface Health {
  paths: { path: string; state: string; video: unknown; bitrateKbps: number }[];
}
const health = (s: Server): Promise<Health | null> =>
  fetch(`${s.url}/health`, { signal: AbortSignal.timeout(5000) })
    .then((r) => (r.ok ? (r.json() as Promise<Health>) : null))
    .catch(() => null);

/** A JSON API call; throws with the status and body on anything but 2xx. */
async function api<T>(url: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`${method} /api${path}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return res.json() as Promise<T>;
}
const login = async (url: string, who: { email: string; password: string }): Promise<string> =>
  (await api<{ token: string }>(url, 'POST', '/auth/login', undefined, who)).token;

/** Starts a server on port offset `k` in a fresh data dir; the admin makes the teacher. */
async function startServer(record: boolean, k: number): Promise<Server> {
  for (const base of [8000, 1935, 8554]) {
    if (await portTaken(base + k)) throw new Error(`port ${base + k} is taken: pass another --port-offset`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'airclass-record-data-'));
  dataDirs.add(dir);
  const logFile = join(logDir, `server-${record ? 'record' : 'no-record'}-${k}.log`);
  const env = {
    ...process.env,
    AIRCLASS_LOG_LEVEL: 'warn',
    AIRCLASS_RECORD: String(record),
    AIRCLASS_RECORDINGS_DIR: join(dir, 'recordings'),
    // No AAC→Opus ffmpeg children: the server's CPU is ingest and recording only.
    AIRCLASS_AUDIO_TRANSCODE: 'false',
    AIRCLASS_ADMIN_EMAIL: ADMIN.email,
    AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
    // Ended lessons' paths go offline at once; N publishers connect at the same moment.
    AIRCLASS_RECONNECT_GRACE_MS: '2000',
    AIRCLASS_RTMP_MAX_PENDING_PER_ADDRESS: '64',
    AIRCLASS_RTMP_MAX_PENDING: '64',
    AIRCLASS_RTMP_MAX_CONNECTIONS: '500',
    AIRCLASS_WEBRTC_UDP_PORT: '0',
    // PGlite in the data dir and the in-process bus, whatever the environment says.
    DATABASE_URL: '',
    REDIS_URL: '',
  };
  const fd = openSync(logFile, 'a');
  const argv = ['bin/airclass.js', 'start', '--data-dir', dir, '--port-offset', String(k)];
  const proc = run(node, argv, env, fd);
  closeSync(fd);
  const onExit = (c: number | null, sig: NodeJS.Signals | null): void =>
    fail(new Error(`the ${record ? '' : 'no-record '}server exited (${c ?? sig})`));
  proc.once('exit', onExit);
  const url = `http://127.0.0.1:${8000 + k}`;
  await until('the server to be ready', 90, () =>
    fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false),
  );
  const admin = await login(url, ADMIN);
  await api(url, 'POST', '/users', admin, { ...TEACHER, name: 'Bench Teacher', role: 'teacher' });
  const teacher = await login(url, TEACHER);
  return { record, url, rtmp: `rtmp://127.0.0.1:${1935 + k}`, dir, logFile, proc, teacher, onExit };
}
async function stopServer(s: Server): Promise<void> {
  s.proc.off('exit', s.onExit);
  await stop(s.proc, 15_000);
  if (!args.keep) {
    rmSync(s.dir, { recursive: true, force: true });
    dataDirs.delete(s.dir);
  }
}

/** A recording's playlist as last read: media written, discontinuities, bytes; `at` when first seen so. */
interface OnDisk {
  mediaS: number;
  discontinuities: number;
  bytes: number;
  at: number;
}
/** A recording being watched on disk. */
interface Watched {
  dir: string;
  /** Sizes of the files the playlist names (written once, renamed into place: never change). */
  sizes: Map<string, number>;
  now?: OnDisk;
}
/** Reads index.m3u8 (renamed into place whole), sums EXTINF and the sizes of what it names. */
function poll(w: Watched): void {
  let text: string;
  try {
    text = readFileSync(join(w.dir, 'index.m3u8'), 'utf8');
  } catch {
    return; // no segment yet
  }
  let mediaS = 0;
  let discontinuities = 0;
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) mediaS += Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-DISCONTINUITY') discontinuities++;
    else if (line.startsWith('#EXT-X-MAP:')) files.add(/URI="([^"]+)"/.exec(line)?.[1] ?? '');
    else if (line && !line.startsWith('#')) files.add(line.trim());
  }
  let bytes = Buffer.byteLength(text);
  for (const file of files) {
    let n = w.sizes.get(file);
    if (n === undefined) {
      try {
        n = statSync(join(w.dir, file)).size;
        w.sizes.set(file, n);
      } catch {
        n = 0;
      }
    }
    bytes += n;
  }
  if (w.now?.mediaS !== mediaS || w.now.discontinuities !== discontinuities)
    w.now = { mediaS, discontinuities, bytes, at: performance.now() };
}

/** The figures of one step on one server. */
interface Measure {
  cpu: number;
  childCpu: number;
  publishersCpu: number;
  /** write_bytes of the server process, bytes/s. */
  writeBps: number;
  /** The recordings' files' growth, all lessons, bytes/s. */
  fileBps: number;
  /** Per recording: media seconds written per wall second over the window. */
  rates: number[];
  newDiscontinuities: number;
  recordings: number;
  /** Median /health bitrate of the step's paths, kbit/s. */
  ingestKbps: number;
  /** Recorder warnings and errors in the server log, publishers that stopped. */
  problems: string[];
  /** Other warnings the server logged meanwhile (not counted against keeping up). */
  warnings: string[];
  kept: boolean;
  load: [number, number];
}

/** The server's log lines written since `offset` at warn or above: [recorder's, others']. */
function logSince(file: string, offset: number): [string[], string[]] {
  const text = readFileSync(file).subarray(offset).toString('utf8');
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let msg = line.slice(0, 160);
    let part = '';
    try {
      const j = JSON.parse(line) as { msg?: string; part?: string };
      msg = j.msg ?? msg;
      part = j.part ?? '';
    } catch {
      /* not JSON: the line itself */
    }
    const key = `${part === 'recorder' || /record/i.test(msg) ? 'R' : 'O'}${msg}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const out: [string[], string[]] = [[], []];
  for (const [k, n] of counts) out[k[0] === 'R' ? 0 : 1].push(`${k.slice(1)}${n > 1 ? ` (×${n})` : ''}`);
  return out;
}

type Cls = { id: string; path: string; rtmp?: { streamKey: string } };
/** One server's part of a step: its N classes (lessons), their publishers and recordings. */
interface Lane {
  s: Server;
  classes: Cls[];
  paths: Set<string>;
  publishers: ChildProcess[];
  watched: Watched[];
  problems: string[];
  logStart: number;
}

/** Makes N classes on `s` and publishes each with its stream key (which starts its lesson). */
async function openLane(
  s: Server,
  n: number,
  clip: string,
  tag: string,
  live: { on: boolean },
): Promise<Lane> {
  const classes = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      api<Cls>(s.url, 'POST', '/classes', s.teacher, { title: `bench ${tag} lesson ${i + 1}` }),
    ),
  );
  const problems: string[] = [];
  const publishers = classes.map((c, i) => {
    const p = run(FFMPEG_PATH, [
      ...['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'warning'],
      ...['-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f', 'flv'],
      `${s.rtmp}/live/${c.rtmp?.streamKey ?? ''}`,
    ]);
    p.once('exit', (code, sig) => live.on && problems.push(`publisher ${i + 1} exited (${code ?? sig})`));
    return p;
  });
  const paths = new Set(classes.map((c) => c.path));
  return { s, classes, paths, publishers, watched: [], problems, logStart: statSync(s.logFile).size };
}

/** Waits for the lane's lessons to be live and, when recording, for each one's recording. */
async function whenLive(l: Lane, n: number): Promise<void> {
  const { s, paths, problems } = l;
  const livePaths = async (): Promise<number> =>
    (await health(s))?.paths.filter((p) => paths.has(p.path) && p.state === 'live' && p.video).length ?? 0;
  await until(`${n} lessons to go live`, 30 + 2 * n, async () => (await livePaths()) === n).catch(
    (e: Error) => problems.push(e.message),
  );
  if (!s.record) return;
  // The running lesson's recording of each class (the recorder asks for it when media comes).
  const ids = new Map<string, string>();
  await until(`${n} recordings to start`, 30, async () => {
    for (const c of l.classes) {
      if (ids.has(c.id)) continue;
      type List = { recordings: { id: string; status: string }[] };
      const r = await api<List>(s.url, 'GET', `/classes/${c.id}/recordings`, s.teacher);
      const id = r.recordings.find((x) => x.status === 'recording')?.id;
      if (id) ids.set(c.id, id);
    }
    return ids.size === n;
  }).catch((e: Error) => problems.push(`${e.message} (${ids.size} did)`));
  for (const id of ids.values()) l.watched.push({ dir: join(s.dir, 'recordings', id), sizes: new Map() });
}

/** The teacher ends each lesson (publisher disconnected, recording closed); then ffmpeg goes. */
async function closeLane(l: Lane): Promise<void> {
  const { s, paths } = l;
  await Promise.all(
    l.classes.map((c) => api(s.url, 'POST', `/classes/${c.id}/end`, s.teacher).catch(() => {})),
  );
  await Promise.all(l.publishers.map((p) => stop(p, 3000)));
  await until(
    'the lessons to close',
    20,
    async () => !(await health(s))?.paths.some((p) => paths.has(p.path)),
  )
    .then(() => undefined)
    .catch((e: Error) => console.error(`  note: ${e.message}`));
}

/** What was sampled of one lane over the window. */
interface Window {
  before: (OnDisk | undefined)[];
  after: (OnDisk | undefined)[];
  /** Per-second CPU samples: server, its children, the publishers. */
  cpu: number[][];
  written: number;
  dt: number;
  health: Health | null;
  load: [number, number];
}

/** A lane's figures from its window. */
function figures(l: Lane, n: number, w: Window): Measure {
  // Between the last segment on disk before the window and the last one in it.
  const rates: number[] = [];
  let fileBps = 0;
  let newDiscontinuities = 0;
  l.watched.forEach((_, i) => {
    const a = w.before[i];
    const b = w.after[i];
    if (!b || (a && b.at <= a.at)) return rates.push(0);
    const span = a ? (b.at - a.at) / 1000 : w.dt;
    rates.push((b.mediaS - (a?.mediaS ?? 0)) / span);
    fileBps += (b.bytes - (a?.bytes ?? 0)) / span;
    newDiscontinuities += b.discontinuities - (a?.discontinuities ?? 0);
  });
  const [recorderLog, warnings] = logSince(l.s.logFile, l.logStart);
  const problems = [...l.problems, ...recorderLog];
  const ingest = (w.health?.paths ?? []).filter((p) => l.paths.has(p.path)).map((p) => p.bitrateKbps);
  const [server = [], kids = [], pubs = []] = w.cpu;
  return {
    cpu: mean(server),
    childCpu: mean(kids),
    publishersCpu: mean(pubs),
    writeBps: w.written / w.dt,
    fileBps,
    rates,
    newDiscontinuities,
    recordings: l.watched.length,
    ingestKbps: median(ingest),
    problems,
    warnings,
    kept:
      l.s.record &&
      problems.length === 0 &&
      l.watched.length === n &&
      newDiscontinuities === 0 &&
      rates.every((r) => r >= 0.9),
    load: w.load,
  };
}

/**
 * One step: N lessons on each server at the same time (one server: the capacity step; both:
 * a paired baseline, measured over the same window), settle, measure, end the lessons.
 */
async function step(servers: Server[], n: number, clip: string, tag: string): Promise<Measure[]> {
  const load0 = loadavg()[0] ?? NaN;
  const live = { on: true };
  const lanes: Lane[] = [];
  const timer = setInterval(() => lanes.forEach((l) => l.watched.forEach(poll)), 250);
  try {
    lanes.push(...(await Promise.all(servers.map((s) => openLane(s, n, clip, tag, live)))));
    await Promise.all(lanes.map((l) => whenLive(l, n)));
    await sleep(settleS * 1000);
    const pids = lanes.map((l) => l.s.proc.pid ?? 0);
    const snapshot = (): (OnDisk | undefined)[][] => lanes.map((l) => l.watched.map((w) => (poll(w), w.now)));
    const before = snapshot();
    const w0 = pids.map(writeBytes);
    const t0 = performance.now();
    const cpu = await sampleCpu(
      lanes.flatMap((l, i) => [
        () => [pids[i] ?? 0],
        () => childPids(pids[i] ?? 0),
        () => l.publishers.map((p) => p.pid ?? 0).filter(Boolean),
      ]),
      windowS,
    );
    const dt = (performance.now() - t0) / 1000;
    const w1 = pids.map(writeBytes);
    const after = snapshot();
    live.on = false;
    const healths = await Promise.all(lanes.map((l) => health(l.s)));
    const load: [number, number] = [load0, loadavg()[0] ?? NaN];
    return lanes.map((l, i) =>
      figures(l, n, {
        before: before[i] ?? [],
        after: after[i] ?? [],
        cpu: cpu.slice(3 * i, 3 * i + 3),
        written: (w1[i] ?? NaN) - (w0[i] ?? NaN),
        dt,
        health: healths[i] ?? null,
        load,
      }),
    );
  } finally {
    live.on = false;
    clearInterval(timer);
    await Promise.all(lanes.map(closeLane));
  }
}

/** Encodes the publishers' clip once: 20 s 1280x720 30 fps H.264 baseline, -g 60, no B-frames, AAC 96k. */
async function encodeClip(): Promise<{ file: string; kbps: number }> {
  const file = join(logDir, 'clip.flv');
  const br = args.bitrate;
  const c = run(FFMPEG_PATH, [
    ...['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(CLIP_S)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'],
    ...['-bf', '0', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0'],
    ...['-b:v', br, '-maxrate', br, '-bufsize', br],
    ...['-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-ar', '48000', '-f', 'flv', file],
  ]);
  const code = await new Promise<number | null>((r) => c.once('exit', r));
  if (code !== 0) throw new Error(`ffmpeg could not encode the clip (exit ${code})`);
  return { file, kbps: (statSync(file).size * 8) / CLIP_S / 1000 };
}

/** `alone`: the capacity step (the recording server only); `paired`/`no record`: the baseline pair. */
type Key = `${number}:${'alone' | 'paired' | 'no record'}`;
/** Each server's CPU with no lesson, % of a core (median over runs). */
interface Idle {
  record: number[];
  noRecord: number[];
}

/** Prints the tables and the answer from every run's measures. */
function report(all: Map<Key, Measure[]>, idle: Idle): void {
  const get = (n: number, k: 'alone' | 'paired' | 'no record'): Measure[] => all.get(`${n}:${k}`) ?? [];
  /** The median over runs of one figure, formatted. */
  const med = (ms: Measure[], fn: (m: Measure) => number, d = 1): string => f(median(ms.map(fn)), d);
  const line = (widths: number[], cells: string[]): void =>
    console.log(
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 8) : c.padStart(widths[i] ?? 8))).join(''),
    );
  const MB = 1e6;
  const idleRec = median(idle.record);
  console.log(
    `\nrecording on, N lessons at once (medians over ${runs} run(s); CPU: % of one core over the window;` +
      ` the server with no lesson: ${f(idleRec)} %)`,
  );
  const w1 = [8, 6, 8, 10, 12, 12, 10, 9, 9, 11, 8, 11];
  const head = ['lessons', 'kept', 'CPU %', '%/lesson', 'files MB/s', 'write MB/s', 'KB/s/lsn'];
  line(w1, [...head, 'media %', 'discont', 'kbit/s in', 'pubs %', 'load']);
  for (const n of steps) {
    const ms = get(n, 'alone');
    if (!ms.length) continue;
    line(w1, [
      String(n),
      `${ms.filter((m) => m.kept).length}/${ms.length}`,
      med(ms, (m) => m.cpu),
      med(ms, (m) => (m.cpu - idleRec) / n, 2),
      med(ms, (m) => m.fileBps / MB, 2),
      med(ms, (m) => m.writeBps / MB, 2),
      med(ms, (m) => m.fileBps / n / 1000, 0),
      med(ms, (m) => 100 * Math.min(...m.rates), 0),
      med(ms, (m) => m.newDiscontinuities, 0),
      med(ms, (m) => m.ingestKbps, 0),
      med(ms, (m) => m.publishersCpu),
      `${med(ms, (m) => m.load[0])}→${med(ms, (m) => m.load[1])}`,
    ]);
  }
  console.log(
    "  %/lesson: (CPU − CPU with no lesson) / N; files MB/s: growth of the recordings' files (segments,\n" +
      "  init, playlist), all lessons; write MB/s: the server's /proc/<pid>/io write_bytes (pages dirtied:\n" +
      '  4 KiB a playlist rewrite; the database too); media %: media seconds written (EXTINF of index.m3u8,\n' +
      '  read from disk) per wall second, worst recording; discont: new EXT-X-DISCONTINUITY (a recorder that\n' +
      '  fell behind skips to a keyframe); kbit/s in: per lesson (/health); pubs %: the `ffmpeg -c copy`\n' +
      '  publishers together.',
  );
  /** Per baseline step: the median over runs of CPU(record) − CPU(no record), and N. */
  const recorder: { diff: number; n: number }[] = [];
  if (baselineSteps.length) {
    console.log(
      '\nbaseline: N lessons on each server at the same time, one with AIRCLASS_RECORD=false, over the same' +
        `\nwindow (no lesson: ${f(idleRec)} % / ${f(median(idle.noRecord))} %); recorder = CPU record − CPU no record`,
    );
    const w2 = [8, 6, 11, 14, 12, 13, 15, 19];
    line(w2, [
      'lessons',
      'kept',
      'CPU % rec',
      'CPU % no rec',
      'write rec',
      'write no rec',
      '%/lesson no',
      'recorder %/lesson',
    ]);
    for (const n of baselineSteps) {
      const [a, b] = [get(n, 'paired'), get(n, 'no record')];
      if (!a.length || !b.length) continue;
      // Paired within each run (the same window), then the median over runs.
      const diff = median(a.map((m, i) => m.cpu - (b[i]?.cpu ?? NaN)));
      const r = diff / n;
      if (Number.isFinite(r)) recorder.push({ diff, n });
      line(w2, [
        String(n),
        `${a.filter((m) => m.kept).length}/${a.length}`,
        med(a, (m) => m.cpu),
        med(b, (m) => m.cpu),
        med(a, (m) => m.writeBps / MB, 2),
        med(b, (m) => m.writeBps / MB, 2),
        med(b, (m) => (m.cpu - median(idle.noRecord)) / n, 2),
        f(r, 2),
      ]);
    }
    console.log('  write: MB/s of write_bytes');
  }
  const every = [...all.values()].flat();
  for (const n of steps) {
    const notes = [...new Set([...get(n, 'alone'), ...get(n, 'paired')].flatMap((m) => m.problems))];
    if (notes.length) console.log(`  N=${n}: ${notes.slice(0, 6).join('; ')}`);
  }
  const other = [...new Set(every.flatMap((m) => m.warnings.map((w) => w.replace(/ \(×\d+\)$/, ''))))];
  if (other.length) console.log(`  other server warnings (not counted): ${other.slice(0, 4).join('; ')}`);
  const kids = Math.max(...every.map((m) => m.childCpu));
  if (kids > 0.5) console.log(`  the server's child processes took up to ${f(kids)} % (not counted above)`);

  // Kept up in most runs.
  const ok = (n: number): boolean =>
    2 * get(n, 'alone').filter((m) => m.kept).length > get(n, 'alone').length;
  const best = steps.filter(ok).at(-1);
  console.log('');
  if (best === undefined) console.log('no step kept up: every step lost or lagged (see the notes above)');
  else {
    const cpu = median(get(best, 'alone').map((m) => m.cpu));
    const per = (cpu - idleRec) / best;
    const disk = median(get(best, 'alone').map((m) => m.fileBps)) / best / 1000;
    const more = steps.some((n) => n > best)
      ? ''
      : ' (the largest step tried: pass larger --steps for the limit)';
    console.log(
      `largest N that kept up: ${best}${more}; there the server takes ${f(cpu)} % of a core, ${f(per, 2)} % per ` +
        `recorded lesson over its ${f(idleRec)} % with none (ingest + recording) → ≈ ${f(100 / per, 0)} lessons ` +
        `per core; ${f(disk, 0)} KB/s to disk per lesson`,
    );
  }
  if (recorder.length) {
    // Pooled: the steps' differences over their lessons (the larger N weighs more; its signal is larger).
    const r = sum(recorder.map((x) => x.diff)) / sum(recorder.map((x) => x.n));
    console.log(
      `the recorder's own cost: ${f(r, 2)} % of a core per lesson (pooled over N = ${recorder.map((x) => x.n).join(', ')})` +
        (r > 0 ? ` → ≈ ${f(100 / r, 0)} recordings per core on top of ingest` : ''),
    );
  }
  console.log(
    'audio transcoding was off (AIRCLASS_AUDIO_TRANSCODE=false): no AAC→Opus ffmpeg children; with it on,\n' +
      'each live lesson also runs one (its CPU is bench:egress\'s "transcoder").',
  );
}

/** One progress line per measure. */
function progress(r: number, n: number, what: string, m: Measure): void {
  console.log(
    `  run ${r} N=${n} ${what}: server ${f(m.cpu)} %, write ${f(m.writeBps / 1e6, 2)} MB/s` +
      (m.recordings || m.kept
        ? `, files ${f(m.fileBps / 1e6, 2)} MB/s, media/wall min ${f(100 * Math.min(...m.rates), 0)} %, ` +
          `${m.recordings}/${n} recordings, ${m.kept ? 'kept up' : 'did NOT keep up'}`
        : '') +
      `, publishers ${f(m.publishersCpu)} %, load ${f(m.load[0])}→${f(m.load[1])}`,
  );
}

async function main(): Promise<void> {
  const clip = await encodeClip();
  const ffmpegVersion = execFileSync(FFMPEG_PATH, ['-version']).toString().split('\n')[0] ?? '';
  console.log(
    `AirClass recording bench, Node ${process.version}, ${cpus().length} cores, ${ffmpegVersion.slice(0, 30)}: ` +
      `each lesson 720p30 H.264 baseline + AAC 96k from a ${CLIP_S}-s clip (${f(clip.kbps, 0)} kbit/s) copied in a loop; ` +
      `steps ${steps.join(',')}, baseline ${baselineSteps.join(',') || 'none'}, ${windowS} s window after ${settleS} s, ` +
      `${runs} run(s), port offsets ${K}/${K + 1}, audio transcoding off`,
  );
  const all = new Map<Key, Measure[]>();
  const add = (k: Key, m: Measure | undefined): void => void (m && all.set(k, [...(all.get(k) ?? []), m]));
  const idle: Idle = { record: [], noRecord: [] };
  for (let r = 1; r <= runs; r++) {
    const [rec, base] = await Promise.all([
      startServer(true, K),
      baselineSteps.length ? startServer(false, K + 1) : Promise.resolve(undefined),
    ]);
    try {
      // Each server with no lesson, once its start-up is over.
      await sleep(3000);
      const pid = (s?: Server): number => s?.proc.pid ?? 0;
      const [a = [], b = []] = await sampleCpu([() => [pid(rec)], () => (base ? [pid(base)] : [])], 10);
      idle.record.push(mean(a));
      if (base) idle.noRecord.push(mean(b));
      console.log(
        `  run ${r}: no lesson: server ${f(mean(a))} %${base ? `, no-record server ${f(mean(b))} %` : ''}`,
      );
      for (const n of steps) {
        const [m] = await step([rec], n, clip.file, `r${r}`);
        add(`${n}:alone`, m);
        if (m) progress(r, n, 'record   ', m);
      }
      for (const n of base ? baselineSteps : []) {
        const [m, b] = await step([rec, base!], n, clip.file, `r${r}-pair`);
        add(`${n}:paired`, m);
        add(`${n}:no record`, b);
        if (m) progress(r, n, 'paired, record   ', m);
        if (b) progress(r, n, 'paired, no record', b);
      }
    } finally {
      await Promise.all([stopServer(rec), base && stopServer(base)]);
    }
  }
  report(all, idle);
}

main().then(
  () => cleanup().then(() => process.exit(0)),
  (e: Error) => fail(e),
);
