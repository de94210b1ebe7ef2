/**
 * `airclass doctor`: checks what a node needs before it starts (or while it fails to), one line
 * per check with a verdict and, when it is not OK, a one-line fix. Nothing is started: ports
 * are bound and released, the database and Redis are asked `select 1` / PING, ffmpeg and
 * tesseract are run with their listing flags. Secrets (the database password, node token) are
 * never printed. Exit code 1 when any check fails.
 */
import { X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { ports, type Config } from './config/schema.ts';
import { configKeyToEnv } from './config/load.ts';

/** How a check came out. SKIP: it does not apply to this configuration. */
export type Verdict = 'OK' | 'WARN' | 'FAIL' | 'SKIP';

/** One line of the report. */
export interface CheckResult {
  name: string;
  verdict: Verdict;
  detail: string;
  /** What to do about a WARN or FAIL. */
  fix?: string;
}

type Outcome = Omit<CheckResult, 'name'>;

/** One check: a name and what it runs (bounded by `timeoutMs`). */
interface Check {
  name: string;
  run: () => Promise<Outcome>;
  timeoutMs?: number;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** Default limit of one check, ms. */
  timeoutMs?: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const ok = (detail: string): Outcome => ({ verdict: 'OK', detail });
const warn = (detail: string, fix: string): Outcome => ({ verdict: 'WARN', detail, fix });
const bad = (detail: string, fix: string): Outcome => ({ verdict: 'FAIL', detail, fix });
const skip = (detail: string): Outcome => ({ verdict: 'SKIP', detail });

/** A URL with its password (and user-info secrets) replaced, for the report. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()])
      if (/pass|secret|token|key/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? (err?.message ? err.message.split('\n')[0]! : String(e));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function nodeCheck(): Outcome {
  const v = process.versions.node;
  const [major = 0, minor = 0] = v.split('.').map(Number);
  if (major >= 24) return ok(`v${v}`);
  if (major === 23 || (major === 22 && minor >= 18))
    return warn(
      `v${v} runs AirClass, but it is built and tested on Node.js 24`,
      'run through npm (npm run airclass -- doctor) or install Node.js 24',
    );
  return bad(
    `v${v} is too old (needs 24, or 22.18+)`,
    'run through npm (npm run airclass -- doctor) or install Node.js 24',
  );
}

function portFix(key: string, port: number, proto: 'tcp' | 'udp'): string {
  const ss = proto === 'tcp' ? `ss -ltnp 'sport = :${port}'` : `ss -lunp 'sport = :${port}'`;
  return `stop what holds it (${ss}), or use --port-offset N or ${key} (${configKeyToEnv(key)})`;
}

function bindError(e: unknown, port: number, proto: 'tcp' | 'udp', host: string, key: string): Outcome {
  const where = `${port}/${proto} on ${host}`;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return bad(`${where} is taken`, portFix(key, port, proto));
  if (code === 'EACCES')
    return bad(`${where} needs privileges`, `use a port above 1023 (${key}) or --port-offset`);
  if (code === 'EADDRNOTAVAIL')
    return bad(
      `${where}: the address is not on this machine`,
      'set host (AIRCLASS_HOST) to an address of this machine or 0.0.0.0',
    );
  return bad(`${where}: ${errText(e)}`, portFix(key, port, proto));
}

/** Binds a TCP port and lets it go. */
async function tcpPort(port: number, host: string, key: string): Promise<Outcome> {
  const where = `${port}/tcp on ${host}`;
  if (port === 0) return ok('any free port (0)');
  try {
    await new Promise<void>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen({ port, host, exclusive: true }, () => s.close(() => res()));
    });
    return ok(`${where} is free`);
  } catch (e) {
    return bindError(e, port, 'tcp', host, key);
  }
}

/** Binds a UDP port and lets it go. */
async function udpPort(port: number, host: string, key: string): Promise<Outcome> {
  const where = `${port}/udp on ${host}`;
  if (port === 0) return ok('any free port (0)');
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind({ port, address: host, exclusive: true }, () => res());
    });
    return ok(`${where} is free`);
  } catch (e) {
    return bindError(e, port, 'udp', host, key);
  } finally {
    try {
      s.close();
    } catch {
      // never bound
    }
  }
}

/** A datagram from one loopback socket to another, read back. */
async function udpLoopback(): Promise<Outcome> {
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  try {
    await new Promise<void>((res, rej) => {
      rx.once('error', rej);
      rx.bind(0, '127.0.0.1', () => res());
    });
    const payload = Buffer.from(`airclass-doctor-${process.pid}-${Date.now()}`);
    const got = new Promise<void>((res) =>
      rx.on('message', (m) => {
        if (m.equals(payload)) res();
      }),
    );
    tx.send(payload, rx.address().port, '127.0.0.1');
    await withTimeout(got, 2000, 'UDP datagram');
    return ok('a datagram sent to 127.0.0.1 came back');
  } catch (e) {
    return bad(
      `UDP on loopback does not work: ${errText(e)}`,
      'check the firewall (nft list ruleset / iptables -L) for UDP on lo',
    );
  } finally {
    rx.close();
    tx.close();
  }
}

function run(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) =>
    execFile(bin, args, { timeout: timeoutMs, maxBuffer: 8 << 20 }, (err, stdout, stderr) =>
      err ? rej(err) : res(`${stdout}\n${stderr}`),
    ),
  );
}

/** Codecs in an `ffmpeg -encoders` / `-decoders` listing (" A....D libopus  …"). */
function codecs(listing: string): Set<string> {
  const out = new Set<string>();
  for (const m of listing.matchAll(/^\s*[VAS][A-Z.]{5}\s+(\S+)\s/gm)) out.add(m[1]!);
  return out;
}

async function ffmpegCheck(cfg: Config, timeoutMs: number): Promise<Outcome> {
  const needed = cfg.audioTranscode || cfg.slideEveryMs > 0;
  if (!needed) return skip('audioTranscode is false and slideEveryMs is 0: ffmpeg is not used');
  const key = configKeyToEnv('ffmpegPath');
  if (cfg.ffmpegPath && !existsSync(cfg.ffmpegPath))
    return bad(
      `ffmpegPath (${key}) is ${cfg.ffmpegPath}, which does not exist (an explicit path has no fallback)`,
      `correct the path, or unset ${key} to use ffmpeg on PATH`,
    );
  const { locateFfmpeg } = await import('./media/transcode/ffmpeg-locate.ts');
  const loc = await locateFfmpeg({ path: cfg.ffmpegPath || undefined, timeoutMs });
  if (!loc.ok) return bad(loc.reason, `install ffmpeg (apt-get install ffmpeg) or set ${key}`);
  let enc: Set<string>;
  let dec: Set<string>;
  try {
    enc = codecs(await run(loc.path, ['-hide_banner', '-encoders'], timeoutMs));
    dec = codecs(await run(loc.path, ['-hide_banner', '-decoders'], timeoutMs));
  } catch (e) {
    return bad(
      `${loc.path} -encoders/-decoders failed: ${errText(e)}`,
      `install ffmpeg (apt-get install ffmpeg) or set ${key}`,
    );
  }
  const what = `ffmpeg ${loc.version} (${loc.source}: ${loc.path})`;
  const missing: string[] = [];
  if (!enc.has('libopus') && !enc.has('opus')) missing.push('Opus encoder');
  if (!dec.has('aac') && !dec.has('aac_fixed')) missing.push('AAC decoder');
  if (missing.length)
    return bad(
      `${what} has no ${missing.join(' and no ')} (browser audio needs both)`,
      'install a full ffmpeg (Debian: apt-get install ffmpeg)',
    );
  if (!dec.has('h264'))
    return warn(
      `${what} has no H.264 decoder: slides are not captured`,
      'install a full ffmpeg (Debian: apt-get install ffmpeg)',
    );
  const opus = enc.has('libopus') ? 'libopus' : 'opus (native; libopus is better)';
  return ok(`${what}; ${opus}, aac and h264 decoders`);
}

async function tesseractCheck(cfg: Config): Promise<Outcome> {
  const { TesseractReader } = await import('./control/ai/builtin/ocr.ts');
  const st = await new TesseractReader({ path: cfg.tesseractPath || undefined }).status();
  const fix = 'apt-get install tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng';
  if (!st.ok) return warn(`${st.note ?? 'tesseract unavailable'}: slide text (OCR) is off`, fix);
  if (st.note) return warn(`${st.note}: slides are read in ${st.langs.join('+')} only`, fix);
  return ok(`tesseract with ${st.langs.join('+')}`);
}

/** The nearest directory of `p` that exists (the data dir may not be made yet). */
function existingDir(p: string): string {
  let d = resolve(p);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

async function diskCheck(dir: string, label: string): Promise<Outcome> {
  const at = existingDir(dir);
  const s = await statfs(at);
  const free = s.bavail * s.bsize;
  const shown = free >= GiB ? `${(free / GiB).toFixed(1)} GiB` : `${Math.round(free / MiB)} MiB`;
  const where = `${shown} free in ${label} (${at})`;
  if (free < 200 * MiB)
    return bad(where, 'free disk space, or move dataDir / recordingsDir to a larger disk');
  if (free < 2 * GiB)
    return warn(
      `${where}: recordings fill it quickly`,
      'free disk space, or move recordingsDir to a larger disk',
    );
  return ok(where);
}

interface DbFacts {
  version: string;
  /** Server time minus local time, ms (the local time at the round trip's midpoint). */
  skewMs: number;
}

async function askPostgres(url: string, timeoutMs: number): Promise<DbFacts> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    const t0 = Date.now();
    const r = await client.query<{ now: Date; v: string }>('select now() as now, current_setting($1) as v', [
      'server_version',
    ]);
    const t1 = Date.now();
    const row = r.rows[0]!;
    return { version: row.v, skewMs: new Date(row.now).getTime() - (t0 + t1) / 2 };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function pgliteCheck(cfg: Config): Promise<Outcome> {
  const dir = join(cfg.dataDir, 'db');
  const probe = join(dir, `.doctor-${process.pid}`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
    return ok(`embedded PGlite in ${resolve(dir)} (writable)`);
  } catch (e) {
    return bad(
      `embedded PGlite: ${resolve(dir)} is not writable (${errText(e)})`,
      'fix its owner/permissions or set --data-dir',
    );
  }
}

async function redisCheck(url: string, timeoutMs: number): Promise<Outcome> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  const shown = maskUrl(url);
  try {
    await r.connect();
    const pong = await r.ping();
    const info = await r.info('server').catch(() => '');
    const v = /redis_version:(\S+)/.exec(info)?.[1];
    return ok(`${shown} answers ${pong}${v ? ` (Redis ${v})` : ''}`);
  } catch (e) {
    return bad(`${shown}: ${errText(e)}`, 'start Redis, or fix/unset redisUrl (REDIS_URL)');
  } finally {
    r.disconnect();
  }
}

async function tlsCheck(cfg: Config): Promise<Outcome> {
  if (!cfg.https) return skip('https is off');
  const file = cfg.tlsCert || (await import('./control/tls/local-ca.ts')).tlsFiles(cfg.dataDir).cert;
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    if (!cfg.tlsCert)
      return warn(`no local certificate yet (${file})`, 'run airclass cert (start also makes it)');
    return bad(`tlsCert ${file} cannot be read (${errText(e)})`, 'fix tlsCert (AIRCLASS_TLS_CERT)');
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (e) {
    return bad(`${file} is not a PEM certificate (${errText(e)})`, 'fix tlsCert (AIRCLASS_TLS_CERT)');
  }
  const days = Math.floor((new Date(cert.validTo).getTime() - Date.now()) / 86_400_000);
  const what = `${file} expires ${new Date(cert.validTo).toISOString().slice(0, 10)}`;
  const renew = cfg.tlsCert
    ? 'renew the certificate (tlsCert)'
    : 'restart the node or run airclass cert (it renews)';
  if (days < 0) return bad(`${what}: expired`, renew);
  if (days < 30) return warn(`${what}: ${days} days left`, renew);
  return ok(`${what}: ${days} days left`);
}

/** The HTTP base URL a node of this config answers on, from this machine. */
function localUrl(cfg: Config): string {
  const h = cfg.host === '0.0.0.0' || cfg.host === '::' ? '127.0.0.1' : cfg.host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${ports(cfg).http}`;
}

/** The uptime of an AirClass node answering /health on this config's HTTP port, if one does. */
async function runningNode(cfg: Config): Promise<{ url: string; uptime: number } | undefined> {
  const url = localUrl(cfg);
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { status?: unknown; webrtc?: unknown; uptimeSeconds?: unknown };
    if (body.status === 'ok' && typeof body.webrtc === 'object')
      return { url, uptime: Number(body.uptimeSeconds) || 0 };
  } catch {
    // nothing there, or not AirClass
  }
  return undefined;
}

/** The checks for `cfg`, in report order; `running`: an AirClass node holds its ports. */
function checks(cfg: Config, timeoutMs: number, running?: { url: string; uptime: number }): Check[] {
  const p = ports(cfg);
  const host = cfg.host;
  // A port held by the node this config describes is expected while it runs.
  const held = (fn: () => Promise<Outcome>) => async (): Promise<Outcome> => {
    const r = await fn();
    if (!running || r.verdict !== 'FAIL' || !r.detail.endsWith(' is taken')) return r;
    return warn(
      r.detail.replace(/ is taken$/, ' is held, by the AirClass node running here'),
      'expected while it runs; stop it to check that its ports are free',
    );
  };
  const list: Check[] = [
    { name: 'Node.js', run: async () => nodeCheck() },
    {
      name: 'Running node',
      run: async () =>
        running
          ? ok(`an AirClass node answers at ${running.url} (up ${running.uptime} s)`)
          : skip(`none answers at ${localUrl(cfg)}`),
    },
    { name: 'HTTP port', run: held(() => tcpPort(p.http, host, 'httpPort')) },
  ];
  if (cfg.https) list.push({ name: 'HTTPS port', run: held(() => tcpPort(p.https, host, 'httpsPort')) });
  list.push(
    { name: 'RTMP port', run: held(() => tcpPort(p.rtmp, host, 'rtmpPort')) },
    { name: 'RTSP port', run: held(() => tcpPort(p.rtsp, host, 'rtspPort')) },
  );
  const udpHost = cfg.webrtcBindAddress || host;
  if (cfg.webrtcUdpMux)
    list.push({ name: 'WebRTC UDP port', run: held(() => udpPort(p.webrtcUdp, udpHost, 'webrtcUdpPort')) });
  else
    list.push({
      name: 'WebRTC UDP range',
      run: async () => {
        const first = await held(() => udpPort(p.webrtcMin, udpHost, 'webrtcPortMin'))();
        if (first.verdict !== 'OK') return first;
        return ok(`${p.webrtcMin}–${p.webrtcMax}/udp (first port free; one per viewer)`);
      },
    });
  list.push(
    { name: 'UDP loopback', run: udpLoopback },
    { name: 'ffmpeg', run: () => ffmpegCheck(cfg, timeoutMs), timeoutMs: timeoutMs * 3 },
    { name: 'tesseract (OCR)', run: () => tesseractCheck(cfg) },
    { name: 'Disk (data)', run: () => diskCheck(cfg.dataDir, 'dataDir') },
  );
  if (cfg.recordingsDir)
    list.push({ name: 'Disk (recordings)', run: () => diskCheck(cfg.recordingsDir, 'recordingsDir') });

  // The database and the clock share one connection's answers.
  let facts: Promise<DbFacts> | undefined;
  const ask = (): Promise<DbFacts> => (facts ??= askPostgres(cfg.databaseUrl, timeoutMs));
  const dbShown = cfg.databaseUrl ? maskUrl(cfg.databaseUrl) : '';
  list.push({
    name: 'Database',
    run: async () => {
      if (!cfg.databaseUrl) return pgliteCheck(cfg);
      try {
        const f = await ask();
        return ok(`PostgreSQL ${f.version} at ${dbShown} answers select 1`);
      } catch (e) {
        return bad(
          `cannot reach PostgreSQL at ${dbShown}: ${errText(e)}`,
          'start PostgreSQL, or fix databaseUrl (DATABASE_URL)',
        );
      }
    },
  });
  list.push({
    name: 'Redis',
    run: async () =>
      cfg.redisUrl ? redisCheck(cfg.redisUrl, timeoutMs) : skip('redisUrl not set: in-process bus'),
  });
  list.push({
    name: 'Clock',
    run: async () => {
      if (!cfg.databaseUrl) return skip('embedded database: no server clock to compare with');
      let f: DbFacts;
      try {
        f = await ask();
      } catch {
        return skip('the database did not answer (see Database)');
      }
      const s = Math.abs(f.skewMs) / 1000;
      const what =
        s < 0.1
          ? 'in step with the database server (within 0.1 s)'
          : `${s.toFixed(1)} s ${f.skewMs >= 0 ? 'behind' : 'ahead of'} the database server`;
      if (s > 60)
        return bad(what, 'sync the clocks (timedatectl set-ntp true); tokens and heartbeats go by time');
      if (s > 2) return warn(what, 'sync the clocks (timedatectl set-ntp true)');
      return ok(what);
    },
  });
  list.push({ name: 'TLS certificate', run: () => tlsCheck(cfg) });
  return list;
}

/** Runs every check (each bounded by its timeout) and returns the lines in order. */
export async function runDoctor(cfg: Config, opts: DoctorOptions = {}): Promise<CheckResult[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const list = checks(cfg, timeoutMs, await runningNode(cfg));
  return Promise.all(
    list.map(async (c): Promise<CheckResult> => {
      const limit = c.timeoutMs ?? timeoutMs;
      try {
        return { name: c.name, ...(await withTimeout(c.run(), limit, c.name)) };
      } catch (e) {
        return {
          name: c.name,
          verdict: 'FAIL',
          detail: errText(e),
          fix: 'see the detail; rerun airclass doctor',
        };
      }
    }),
  );
}

/** The report as printed: a verdict column, the check, the detail, and "fix:" lines. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length)) + 2;
  const lines = results.map((r) => {
    const head = `${r.verdict.padEnd(5)} ${r.name.padEnd(width)}${r.detail}`;
    return r.fix && r.verdict !== 'OK' ? `${head}\n${' '.repeat(6 + width)}fix: ${r.fix}` : head;
  });
  const n = (v: Verdict): number => results.filter((r) => r.verdict === v).length;
  const fails = n('FAIL');
  const warns = n('WARN');
  lines.push(
    '',
    fails
      ? `${fails} failed, ${warns} warning${warns === 1 ? '' : 's'}: fix the FAIL lines before starting.`
      : `No failures${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}: ready to start.`,
  );
  return lines.join('\n') + '\n';
}
