/**
 * A class filling up: `npm run bench:class [-- --students 450 --messages 5]`. Starts
 * `airclass start` (PGlite and the in-process bus, as `npm start`; `--database-url` and
 * `--redis-url` for the scale-out mode), signs in, makes a teacher and a live class, connects
 * the teacher's WebSocket, then lets N students join at once, each with `POST /api/join` and
 * then `/ws?since=0` (as the web page opens it) until its `welcome`. Prints join throughput and per-student join times; then the
 * teacher sends chat messages and it prints, per message and overall, the delivery time to all
 * N students (teacher's send → each student's receipt, one clock: this process) as p50 / p99 /
 * max. Then the teacher pushes a single-choice quiz: it prints push → `quiz.opened` at every
 * student p50 / p99, and, as every student answers on receipt (`POST /api/quizzes/:id/answers`),
 * answer sent → the teacher's socket shows it counted (`quiz.results`) p50 / p99.
 * The students run in this process, so their own event loop is part of the figures.
 * Never asserts; all on 127.0.0.1; bounded in time; the server and its data dir are removed
 * on exit and Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { dropRedisPrefix } from '../test/helpers/redis.ts';
import { startServer, type TestServer } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: {
    students: { type: 'string', default: '450' },
    messages: { type: 'string', default: '5' },
    'gap-ms': { type: 'string', default: '300' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'deadline-s': { type: 'string', default: '180' },
  },
});
const N = Number(values.students);
const MESSAGES = Number(values.messages);
const GAP_MS = Number(values['gap-ms']);
const ADMIN = { email: 'admin@airclass.local', password: 'bench-admin-password-1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const ms = (x: number) => (Number.isNaN(x) ? '–' : `${x.toFixed(1)} ms`);
const stats = (xs: number[]) => `p50 ${ms(pct(xs, 50))}  p99 ${ms(pct(xs, 99))}  max ${ms(Math.max(...xs))}`;

const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** CPU seconds (user + system) a process has used; NaN once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return NaN;
  }
}

let server: TestServer | undefined;
const redisPrefix = `airclass-bench-${process.pid}:`;
const sockets = new Set<WebSocket>();

async function cleanup(): Promise<void> {
  for (const s of sockets) s.terminate();
  sockets.clear();
  await server?.stop();
  if (values['redis-url']) await dropRedisPrefix(redisPrefix, values['redis-url']).catch(() => undefined);
}

const deadline = setTimeout(
  () => {
    process.stderr.write(`bench:class: over ${values['deadline-s']} s; stopping\n`);
    void cleanup().finally(() => process.exit(1));
  },
  Number(values['deadline-s']) * 1000,
);
deadline.unref();
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

async function api<T>(path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${server!.httpUrl}/api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/** A socket that resolves on `welcome` and reports every chat message's arrival time. */
function connect(
  url: string,
  onChat: (clientId: string, at: number) => void,
  onOther?: (m: { type: string; [k: string]: unknown }, at: number) => void,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    sockets.add(ws);
    ws.on('message', (data) => {
      const at = performance.now();
      const text = String(data);
      // Presence events of the burst are most of the traffic: skip parsing them.
      if (!text.includes('"welcome"') && !text.includes('"chat.message"') && !text.includes('"quiz.')) return;
      const m = JSON.parse(text) as { type: string; clientId?: string };
      if (m.type === 'welcome') resolve(ws);
      else if (m.type === 'chat.message' && m.clientId) onChat(m.clientId, at);
      else onOther?.(m, at);
    });
    ws.on('unexpected-response', (_req, res) => reject(new Error(`/ws: HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

async function main(): Promise<void> {
  const env: Record<string, string> = {
    AIRCLASS_ADMIN_PASSWORD: ADMIN.password,
    AIRCLASS_ADMIN_EMAIL: ADMIN.email,
    AIRCLASS_HOST: '127.0.0.1',
    AIRCLASS_AUDIO_TRANSCODE: 'false',
    AIRCLASS_LOG_LEVEL: 'warn',
    AIRCLASS_JOIN_RATE_LIMIT: String(N * 10), // one address joins everyone here
  };
  if (values['database-url']) env.DATABASE_URL = values['database-url'];
  if (values['redis-url']) {
    env.REDIS_URL = values['redis-url'];
    env.AIRCLASS_REDIS_PREFIX = redisPrefix;
  }
  server = await startServer({ env, readyTimeoutMs: 60_000 });
  const admin = await api<{ token: string }>('/auth/login', ADMIN);
  const email = `bench-${process.pid}@school.kr`;
  await api('/users', { email, name: 'Bench Teacher', password: 'bench-teacher-1' }, admin.token);
  const teacher = await api<{ token: string }>('/auth/login', { email, password: 'bench-teacher-1' });
  const cls = await api<{ id: string; joinCode: string }>(
    '/classes',
    { title: 'Bench class' },
    teacher.token,
  );
  await api(`/classes/${cls.id}/start`, {}, teacher.token);
  const wsUrl = server.httpUrl.replace(/^http/, 'ws') + '/ws';
  /** `quiz.results` as the teacher's socket receives them: arrival time and answered count. */
  const quizResults: { at: number; answered: number }[] = [];
  const t = await connect(
    `${wsUrl}?token=${teacher.token}&classId=${cls.id}`,
    () => undefined,
    (m, at) => {
      if (m.type === 'quiz.results') quizResults.push({ at, answered: Number(m.answered) });
    },
  );

  const received = new Map<string, number[]>();
  const onChat = (clientId: string, at: number) => {
    const list = received.get(clientId);
    if (list) list.push(at);
  };
  /** Students' tokens, and what each does when the quiz arrives. */
  const students: { token: string }[] = [];
  let onQuiz: (i: number, m: { type: string; [k: string]: unknown }, at: number) => void = () => undefined;
  const joinApi: number[] = [];
  const joinWs: number[] = [];
  const cpu0 = cpuSeconds(server.proc.pid);
  const t0 = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: N }, async (_, i) => {
      const start = performance.now();
      const j = await api<{ token: string }>('/join', { code: cls.joinCode, name: `학생 ${i + 1}` });
      const joined = performance.now();
      students.push({ token: j.token });
      const me = students.length - 1;
      await connect(`${wsUrl}?token=${j.token}&since=0`, onChat, (m, at) => onQuiz(me, m, at));
      const done = performance.now();
      joinApi.push(joined - start);
      joinWs.push(done - start);
    }),
  );
  const allIn = performance.now() - t0;
  const burstCpu = cpuSeconds(server.proc.pid) - cpu0;
  const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  const ok = N - failed.length;
  console.log(`bench:class — ${N} students, one class, on ${server.httpUrl}`);
  console.log(
    `  mode                ${values['database-url'] ? 'PostgreSQL' : 'PGlite'} + ${values['redis-url'] ? 'Redis bus' : 'in-process bus'}`,
  );
  console.log(
    `  joined              ${ok}/${N} in ${(allIn / 1000).toFixed(2)} s  (${(ok / (allIn / 1000)).toFixed(0)} joins/s)`,
  );
  console.log(
    `  server CPU, burst   ${burstCpu.toFixed(2)} s  (${((burstCpu / ok) * 1000).toFixed(1)} ms per student)  load avg ${loadavg()[0]!.toFixed(1)}`,
  );
  if (failed.length)
    console.log(`  failures            ${failed.length}, first: ${String(failed[0]!.reason)}`);
  console.log(`  POST /api/join      ${stats(joinApi)}`);
  console.log(`  join + /ws welcome  ${stats(joinWs)}`);

  await sleep(2000); // let the presence fan-out of the burst drain
  const all: number[] = [];
  for (let k = 0; k < MESSAGES; k++) {
    const clientId = `m${k}`;
    const arrivals: number[] = [];
    received.set(clientId, arrivals);
    const sent = performance.now();
    t.send(JSON.stringify({ type: 'chat.send', text: `Question ${k + 1}: what is 2 + ${k}?`, clientId }));
    const until = Date.now() + 10_000;
    while (arrivals.length < ok && Date.now() < until) await sleep(5);
    const lat = arrivals.map((a) => a - sent);
    all.push(...lat);
    console.log(`  chat ${k + 1} → ${String(arrivals.length).padStart(3)}/${ok}  ${stats(lat)}`);
    await sleep(GAP_MS);
  }
  console.log(`  delivery, all msgs  ${stats(all)}`);

  // A quiz pushed to everyone; each student answers the moment it arrives.
  const quiz = await api<{ id: string }>(
    `/classes/${cls.id}/quizzes`,
    { kind: 'single', question: '2 + 2 = ?', options: ['3', '4', '5', '22'], correct: [1], timeLimitSec: 60 },
    teacher.token,
  );
  await sleep(500);
  const opened: number[] = [];
  /** Per answer: when its POST was sent, and when its 201 came back (for ordering). */
  const answers: { sent: number; done: number }[] = [];
  const answerFailures: string[] = [];
  let pushedAt = 0;
  onQuiz = (i, m, at) => {
    if (m.type !== 'quiz.opened') return;
    opened.push(at - pushedAt);
    // Answer after this batch of socket reads, so one student's request does not delay the
    // next one's receipt time (all 450 run in this one process).
    setImmediate(() => {
      const sent = performance.now();
      const body = { answerId: `a-${i}`, choices: [i % 4] };
      void api(`/quizzes/${quiz.id}/answers`, body, students[i]!.token).then(
        () => answers.push({ sent, done: performance.now() }),
        (e: unknown) => answerFailures.push(String(e)),
      );
    });
  };
  pushedAt = performance.now();
  await api(`/quizzes/${quiz.id}/open`, {}, teacher.token);
  const quizUntil = Date.now() + 30_000;
  while (
    (answers.length + answerFailures.length < ok || (quizResults.at(-1)?.answered ?? 0) < answers.length) &&
    Date.now() < quizUntil
  )
    await sleep(10);
  // The k-th answer to come back is counted once a results event says answered ≥ k.
  answers.sort((a, b) => a.done - b.done);
  const counted: number[] = [];
  const storedToCounted: number[] = [];
  answers.forEach((a, k) => {
    const r = quizResults.find((x) => x.answered >= k + 1);
    if (r) counted.push(r.at - a.sent);
    // The results event may even beat the 201 back to this process: 0 then.
    if (r) storedToCounted.push(Math.max(0, r.at - a.done));
  });
  const answerHttp = answers.map((a) => a.done - a.sent);
  console.log(`  quiz push → opened  ${String(opened.length).padStart(3)}/${ok}  ${stats(opened)}`);
  console.log(
    `  answer → counted    ${String(counted.length).padStart(3)}/${ok}  ${stats(counted)}  (${quizResults.length} results events)`,
  );
  console.log(`  answer POST → 201   ${stats(answerHttp)}`);
  console.log(`  answer 201 → counted ${stats(storedToCounted)}`);
  if (answerFailures.length)
    console.log(`  answer failures     ${answerFailures.length}, first: ${answerFailures[0]}`);
  const final = await api<{ answered: number; counts: number[] }>(
    `/quizzes/${quiz.id}/results`,
    undefined,
    teacher.token,
  );
  console.log(`  results             answered ${final.answered}, counts ${final.counts.join('/')}`);
}

main()
  .catch((e: unknown) => {
    process.stderr.write(
      `bench:class failed: ${(e as Error).stack ?? String(e)}\n${server?.logTail() ?? ''}\n`,
    );
    process.exitCode = 1;
  })
  .finally(async () => {
    clearTimeout(deadline);
    await cleanup();
  });
