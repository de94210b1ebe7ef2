/**
 * The deployment files (issue 11): Dockerfile, compose.yaml, deploy/airclass.service and
 * deploy/env.example. There is no Docker daemon on the CI machine, so they are checked by what
 * they say: every variable goes through the real configuration loader (a renamed key fails
 * here), ports agree with src/config/defaults.ts, the subs find the main by service name, and
 * the shell snippets compose runs are run here (after compose's `$$` unescaping). With a
 * `docker compose` plugin present, `docker compose config -q` validates the file as well.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DEFAULTS } from '../src/config/defaults.ts';
import { configKeyToEnv, envKeyToConfigKey, loadConfig, NON_CONFIG_ENV } from '../src/config/load.ts';
import { ConfigSchema, ports, type Config } from '../src/config/schema.ts';
import { freeOffset } from './helpers/node.ts';

const ROOT = join(import.meta.dirname, '..');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'airclass-deploy-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** AIRCLASS_* variables that are read but are not configuration keys (src/config/load.ts). */
const DOCUMENTED = NON_CONFIG_ENV;
/** Plain variables the loader reads as configuration keys (src/config/load.ts PLAIN_ENV). */
const PLAIN = new Set(['DATABASE_URL', 'REDIS_URL']);
const SCHEMA_KEYS = new Set(Object.keys(ConfigSchema.properties));

/** The configuration key an AIRCLASS_* name stands for, by the loader's own mapping. */
function keyOf(name: string): string | undefined {
  if (!name.startsWith('AIRCLASS_')) return undefined;
  const key = envKeyToConfigKey(name.slice('AIRCLASS_'.length));
  return SCHEMA_KEYS.has(key) && configKeyToEnv(key) === name ? key : undefined;
}

/** What `name` fails as an environment variable of AirClass, or undefined when it is one. */
function badVariable(name: string): string | undefined {
  if (PLAIN.has(name) || DOCUMENTED.has(name)) return undefined;
  if (!name.startsWith('AIRCLASS_')) return `${name}: not an AirClass variable`;
  return keyOf(name) ? undefined : `${name}: no such configuration key in src/config/schema.ts`;
}

/** The values compose.yaml needs from the shell (what an operator sets). */
const SHELL: Record<string, string> = { PUBLIC_HOST: '203.0.113.7', POSTGRES_PASSWORD: 'pw0123456789abcdef' };

/**
 * Compose's interpolation: `$$` → `$`, `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}` (a missing required variable throws, as compose refuses, and so
 * does any other `$`).
 */
function interpolate(s: string, vars: Record<string, string | undefined>): string {
  return s.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$/g,
    (whole, name?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      // Compose refuses any other "$" ("invalid interpolation format"): a shell's $( must be $$(.
      if (whole === '$') throw new Error(`invalid interpolation in "${s}": write $$ for a literal $`);
      const v = vars[(name ?? bare)!];
      const unset = op?.startsWith(':') ? !v : v === undefined;
      if (op?.endsWith('?') && unset) throw new Error(`required variable ${name} is missing: ${arg}`);
      if (op?.endsWith('-') && unset) return interpolate(arg ?? '', vars);
      return v ?? '';
    },
  );
}

type Service = Record<string, unknown> & {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | null> | string[];
  ports?: (string | Record<string, unknown>)[];
  volumes?: (string | Record<string, unknown>)[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: unknown; disable?: boolean };
  entrypoint?: string | string[];
  command?: string | string[];
};
const compose = parseYaml(read('compose.yaml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = Object.entries(compose.services);
/** The services that run the AirClass image (built by `main`). */
const airclass = services.filter(
  ([, s]) => s.build !== undefined || s.image === compose.services.main?.image,
);
const subs = airclass.filter(([, s]) => environment(s).AIRCLASS_MAIN_URL !== undefined);

/** A service's environment, interpolated; null = passed on from the shell when set there. */
function environment(s: Service, vars: Record<string, string> = SHELL): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const env = s.environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((l) =>
        l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, null],
      )
    : Object.entries(env);
  for (const [k, v] of entries) out[k as string] = v === null ? null : interpolate(String(v), vars);
  return out;
}

/** The `ENV` of the Dockerfile's last stage (what every container starts with). */
function dockerfile(): {
  stages: { name: string; from: string; lines: string[] }[];
  env: Record<string, string>;
} {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const stages: { name: string; from: string; lines: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  const env: Record<string, string> = {};
  for (const l of stages.at(-1)?.lines ?? []) {
    const m = /^ENV\s+(.*)$/i.exec(l);
    if (!m) continue;
    for (const [, k, v] of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g))
      env[k!] = v!.replace(/^"|"$/g, '');
  }
  return { stages, env };
}

/** Loads the configuration from `env` over `base` (default: the image's ENV, as a container). */
function configOf(
  env: Record<string, string | null>,
  base: Record<string, string> = dockerfile().env,
): Config {
  const empty = join(tmp(), 'empty.yaml');
  writeFileSync(empty, '');
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== null)) as Record<
    string,
    string
  >;
  return loadConfig({ file: empty, env: { ...base, ...clean } });
}

/** Published ports as { host, container, proto }, one per port (a range is expanded). */
function published(s: Service): { host: number; container: number; proto: string }[] {
  return (s.ports ?? []).flatMap((p) => {
    if (typeof p !== 'string') {
      return [{ host: Number(p.published), container: Number(p.target), proto: String(p.protocol ?? 'tcp') }];
    }
    const m = /^(?:[\d.]+:)?(\d+)(?:-(\d+))?:(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(interpolate(p, SHELL));
    if (!m) throw new Error(`port "${p}" is not HOST[-HOST]:CONTAINER[-CONTAINER][/proto]`);
    const [host, hostEnd, container, containerEnd] = [m[1], m[2] ?? m[1], m[3], m[4] ?? m[3]].map(Number);
    if (hostEnd! - host! !== containerEnd! - container!)
      throw new Error(`port "${p}": ranges differ in size`);
    return Array.from({ length: hostEnd! - host! + 1 }, (_, i) => ({
      host: host! + i,
      container: container! + i,
      proto: m[5] ?? 'tcp',
    }));
  });
}

describe('compose.yaml', () => {
  it('uses only real configuration variables (schema keys by the loader’s mapping, or documented ones)', () => {
    expect(airclass.map(([n]) => n).sort()).toEqual(['main', 'node-tokens', 'sub1', 'sub2', 'sub3']);
    const bad: string[] = [];
    for (const [name, s] of airclass) {
      for (const k of Object.keys(environment(s))) {
        const why = badVariable(k);
        if (why) bad.push(`${name}: ${why}`);
      }
    }
    for (const k of Object.keys(dockerfile().env)) {
      const why = k === 'NODE_ENV' ? undefined : badVariable(k);
      if (why) bad.push(`Dockerfile: ${why}`);
    }
    expect(bad).toEqual([]);
    // The mapping itself can fail: a made-up name is refused.
    expect(badVariable('AIRCLASS_PORT_OFSET')).toMatch(/no such configuration key/);
  });

  it('gives each node a configuration the loader accepts, with the public host and its own name', () => {
    for (const [name, s] of airclass) {
      const cfg = configOf(environment(s));
      expect(cfg.dataDir, name).toBe('/data');
      if (name === 'node-tokens') continue;
      expect(cfg.publicHost, name).toBe(SHELL.PUBLIC_HOST);
      expect(cfg.webrtcAnnouncedAddresses, name).toEqual([SHELL.PUBLIC_HOST]);
    }
    const main = configOf(environment(compose.services.main!));
    expect(new URL(main.databaseUrl).hostname).toBe('postgres');
    expect(new URL(main.databaseUrl).password).toBe(SHELL.POSTGRES_PASSWORD);
    expect(new URL(main.redisUrl).hostname).toBe('redis');
    for (const host of ['postgres', 'redis']) expect(compose.services[host], host).toBeDefined();
    // Every string of the file interpolates (compose reads them all: a stray "$" is an error).
    const walk = (v: unknown): void => {
      if (typeof v === 'string') interpolate(v, SHELL);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(compose);
    // Without PUBLIC_HOST compose refuses to start (rather than printing container addresses).
    expect(() => environment(compose.services.main!, { POSTGRES_PASSWORD: 'x' })).toThrow(/PUBLIC_HOST/);
  });

  it('has subs that reach the main by its service name and have names of their own', () => {
    expect(subs.map(([n]) => n)).toEqual(['sub1', 'sub2', 'sub3']);
    const main = configOf(environment(compose.services.main!));
    const names = new Set<string>();
    for (const [name, s] of subs) {
      const cfg = configOf(environment(s));
      const url = new URL(cfg.mainUrl);
      expect(url.hostname, name).toBe('main');
      expect(Number(url.port), name).toBe(ports(main).http);
      expect(cfg.nodeName, name).toMatch(/^sub-\d+$/);
      names.add(cfg.nodeName);
      expect(cfg.portOffset, name).toBeGreaterThan(0);
      const deps = s.depends_on as Record<string, { condition: string }>;
      expect(deps.main?.condition, name).toBe('service_healthy');
      expect(deps['node-tokens']?.condition, name).toBe('service_completed_successfully');
    }
    expect(names.size).toBe(subs.length);
  });

  it('publishes each node’s ports 1:1 as the defaults plus its port offset, and no port twice', () => {
    const seen = new Map<string, string>();
    for (const [name, s] of services) {
      for (const p of published(s)) {
        const id = `${p.host}/${p.proto}`;
        expect(seen.get(id), `${name} publishes ${id} like ${seen.get(id)}`).toBeUndefined();
        seen.set(id, name);
      }
    }
    for (const [name, s] of airclass) {
      if (name === 'node-tokens') {
        expect(s.ports ?? []).toEqual([]);
        continue;
      }
      const cfg = configOf(environment(s));
      const p = ports(cfg);
      const isSub = subs.some(([n]) => n === name);
      // A sub listens on HTTP(S) and its WebRTC UDP port only (README "Ports"); the main also
      // on RTMP, RTSP and the WHIP publishers' UDP range.
      const want = [`${p.http}/tcp`, `${p.webrtcUdp}/udp`];
      if (cfg.https) want.push(`${p.https}/tcp`);
      if (!isSub) {
        want.push(`${p.rtmp}/tcp`, `${p.rtsp}/tcp`);
        expect(cfg.whipPortMin, 'WHIP needs fixed ports to be published').toBeGreaterThan(0);
        for (let q = cfg.whipPortMin; q <= cfg.whipPortMax; q++) want.push(`${q + cfg.portOffset}/udp`);
      }
      const got = published(s);
      // The node hands out URLs and candidates with its own ports: host and container agree.
      for (const q of got) expect(q.host, `${name} ${q.container}`).toBe(q.container);
      expect(got.map((q) => `${q.container}/${q.proto}`).sort(), name).toEqual(want.sort());
    }
    expect(published(compose.services.postgres!)).toEqual([]);
    expect(published(compose.services.redis!)).toEqual([]);
  });

  it('declares its volumes; the main keeps data and recordings in them', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : String(v.source);
        if (!source.startsWith('/') && !source.startsWith('.'))
          expect(declared.has(source), `${name}: volume ${source}`).toBe(true);
      }
    }
    const mounts = (s: Service): Record<string, string> =>
      Object.fromEntries(
        (s.volumes ?? []).map((v) => {
          const [src, dst] = String(v).split(':');
          return [dst!, src!];
        }),
      );
    const main = mounts(compose.services.main!);
    const cfg = configOf(environment(compose.services.main!));
    expect(main[cfg.dataDir]).toBe('data');
    expect(main[cfg.recordingsDir || join(cfg.dataDir, 'recordings')]).toBe('recordings');
    expect(mounts(compose.services.postgres!)['/var/lib/postgresql/data']).toBe('postgres');
    // node-tokens signs with the main's key: it shares the main's data volume.
    expect(mounts(compose.services['node-tokens']!)['/data']).toBe('data');
    for (const [name, s] of subs) {
      expect(mounts(s)['/data'], `${name} must not see the main's keys`).toBeUndefined();
      expect(Object.values(mounts(s)), name).toContain('node-tokens');
    }
  });

  it('checks health: PostgreSQL and Redis in compose, the AirClass nodes by the image’s /health', () => {
    expect(compose.services.postgres!.healthcheck?.test).toEqual(
      expect.arrayContaining([expect.stringMatching(/pg_isready/)]),
    );
    expect(compose.services.redis!.healthcheck?.test).toEqual(expect.arrayContaining(['redis-cli', 'ping']));
    const main = compose.services.main!.depends_on as Record<string, { condition: string }>;
    expect(main.postgres?.condition).toBe('service_healthy');
    expect(main.redis?.condition).toBe('service_healthy');
    for (const [name, s] of airclass) {
      // The one-shot token service turns it off; the nodes keep the image's check.
      if (name === 'node-tokens') expect(s.healthcheck?.disable).toBe(true);
      else expect(s.healthcheck, name).toBeUndefined();
    }
    const health = dockerfile()
      .stages.at(-1)!
      .lines.find((l) => /^HEALTHCHECK\s/i.test(l));
    expect(health).toMatch(/\/health/);
    expect(health).toMatch(/AIRCLASS_PORT_OFFSET/);
  });

  it('signs a node token per sub, which each sub reads into AIRCLASS_NODE_TOKEN (the scripts run here)', () => {
    const data = tmp();
    const tokens = tmp();
    const script = (s: Service): string => {
      const e = s.entrypoint as string[];
      expect(e.slice(0, 2)).toEqual(['/bin/sh', '-ec']);
      return interpolate(e[2]!, {}).replaceAll('/node-tokens', tokens);
    };
    const init = compose.services['node-tokens']!;
    const gen = spawnSync('/bin/sh', ['-ec', script(init)], {
      cwd: ROOT,
      env: { ...process.env, ...dockerfile().env, ...environment(init), AIRCLASS_DATA_DIR: data },
      encoding: 'utf8',
    });
    expect(gen.stderr).toBe('');
    expect(gen.status).toBe(0);
    for (const [name, s] of subs) {
      const env = environment(s);
      const file = join(tokens, env.AIRCLASS_NODE_NAME!);
      expect((statSync(file).mode & 0o777).toString(8), `${file} is a secret`).toBe('600');
      const claims = decodeJwt(readFileSync(file, 'utf8').trim());
      expect(claims.sub, name).toBe(env.AIRCLASS_NODE_NAME);
      expect(claims.aud, name).toBe('airclass-node');
      // The sub's own script, with the node it would exec replaced by one that shows its token.
      const run = script(s).replace(
        /exec node bin\/airclass\.js sub$/,
        `exec ${process.execPath} -e "process.stdout.write(process.env.AIRCLASS_NODE_TOKEN)"`,
      );
      expect(run, name).toContain(process.execPath);
      const out = spawnSync('/bin/sh', ['-ec', run], {
        env: { PATH: process.env.PATH, ...environment(s) } as NodeJS.ProcessEnv,
        encoding: 'utf8',
      });
      expect(out.status, out.stderr).toBe(0);
      expect(out.stdout, name).toBe(readFileSync(file, 'utf8').trim());
    }
    // The main that signed them is the main the subs join: the key is in the shared data volume.
    expect(statSync(join(data, 'keys')).isDirectory()).toBe(true);
  });

  it("passes `docker compose config -q` (the compose plugin, or Debian's docker-compose)", () => {
    // No Docker engine runs here, but `config` needs none: the plugin where it is installed,
    // else Debian's docker-compose (1.29, installed by .ci/run), which reads the same file.
    const plugin = spawnSync('docker', ['compose', 'version'], { stdio: 'pipe' }).status === 0;
    const [cmd, pre] = plugin ? ['docker', ['compose']] : ['docker-compose', []];
    const r = spawnSync(cmd, [...pre, '-f', join(ROOT, 'compose.yaml'), 'config', '-q'], {
      env: { ...process.env, ...SHELL },
      encoding: 'utf8',
    });
    expect(r.error, `${cmd} is missing: .ci/run installs docker-compose`).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Dockerfile', () => {
  const { stages, env } = dockerfile();
  const last = stages.at(-1)!;
  const instr = (name: string): string[] =>
    last.lines
      .filter((l) => l.toUpperCase().startsWith(name + ' '))
      .map((l) => l.slice(name.length + 1).trim());

  it('builds in stages on Node 24 and runs the last as a non-root user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      expect(s.name, s.from).not.toBe('');
      expect(s.from).toMatch(/^node:24[-.]/);
    }
    const user = instr('USER').at(-1);
    expect(user).toBeDefined();
    const [uid] = user!.split(':');
    expect(uid).not.toMatch(/^(0|root)$/);
    expect(Number(uid)).toBe(10001);
    expect(instr('WORKDIR').at(-1)).toBe('/app');
    expect(JSON.parse(instr('ENTRYPOINT').at(-1)!)).toEqual(['node', 'bin/airclass.js']);
    expect(JSON.parse(instr('CMD').at(-1)!)).toEqual(['start']);
  });

  it('keeps the data in a volume at the data dir', () => {
    expect(env.AIRCLASS_DATA_DIR).toBe('/data');
    const volumes = instr('VOLUME').flatMap((v) =>
      v.startsWith('[') ? (JSON.parse(v) as string[]) : v.split(/\s+/),
    );
    expect(volumes).toContain(env.AIRCLASS_DATA_DIR);
  });

  it('exposes the default HTTP, HTTPS, RTMP, RTSP and WebRTC UDP ports of src/config/defaults.ts', () => {
    const exposed = new Set(
      instr('EXPOSE')
        .flatMap((e) => e.split(/\s+/))
        .map((p) => (p.includes('/') ? p : `${p}/tcp`)),
    );
    const d = DEFAULTS;
    for (const p of [
      `${d.httpPort}/tcp`,
      `${d.httpsPort}/tcp`,
      `${d.rtmpPort}/tcp`,
      `${d.rtspPort}/tcp`,
      `${d.webrtcUdpPort}/udp`,
    ])
      expect(exposed.has(p), p).toBe(true);
  });

  it('builds the pages in the builder and gives the runtime no web/ sources, so nothing rebuilds there', () => {
    const builder = stages[0]!;
    expect(builder.lines.some((l) => /^RUN\s+npm ci\b/.test(l))).toBe(true);
    expect(builder.lines.some((l) => /node bin\/ensure-web\.js --force/.test(l))).toBe(true);
    expect(builder.lines.some((l) => /npm prune --omit=dev/.test(l))).toBe(true);
    const copies = instr('COPY');
    expect(copies.some((c) => /\/app\/dist\/web\b/.test(c))).toBe(true);
    // No COPY of web/ (nor of the whole context, which holds it) into the runtime stage.
    const sources = copies.flatMap((c) =>
      c
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1)
        .map((a) => a.replace(/\/+$/, '')),
    );
    expect(sources.filter((src) => ['', '.', 'web', './web', '/app/web', '/app'].includes(src))).toEqual([]);
    // bin/ensure-web.js as the image lays it out: dist/web built, no web/, no Vite.
    const app = tmp();
    cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
    writeFileSync(join(app, 'package.json'), read('package.json'));
    mkdirSync(join(app, 'dist', 'web'), { recursive: true });
    writeFileSync(join(app, 'dist', 'web', '.stamp'), new Date(0).toISOString());
    const ensure = (): ReturnType<typeof spawnSync> =>
      spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `(await import('./bin/ensure-web.js')).ensureWeb(); console.log('served as built')`,
        ],
        {
          cwd: app,
          encoding: 'utf8',
        },
      );
    const asImage = ensure();
    expect(asImage.stdout).toBe('served as built\n');
    expect(asImage.status).toBe(0);
    // With web/ sources newer than the stamp it would try to build (and fail, without Vite).
    mkdirSync(join(app, 'web'));
    writeFileSync(join(app, 'web', 'index.html'), '<!doctype html>');
    const withSources = ensure();
    expect(withSources.status).toBe(1);
    expect(withSources.stderr).toMatch(/cannot build the web pages/);
  });
});

/** The .dockerignore patterns (no `!` exceptions are used). */
const IGNORED = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
/** True when docker leaves `rel` (or a folder it is in) out of the build context. */
function ignored(rel: string): boolean {
  const parts = rel.split('/');
  return parts.some((_, i) => IGNORED.some((p) => matchesGlob(parts.slice(0, i + 1).join('/'), p)));
}

/** Copies what a builder-stage `COPY src… dest` names from the build context into `app`. */
function copyFromContext(line: string, app: string): void {
  const args = line
    .replace(/^COPY\s+/i, '')
    .split(/\s+/)
    .filter((a) => !a.startsWith('--'));
  const dest = args.pop()!;
  for (const src of args) {
    expect(ignored(src), `${src} is in .dockerignore`).toBe(false);
    const to = dest.endsWith('/') ? join(app, dest, src) : join(app, dest);
    cpSync(join(ROOT, src), to, { recursive: true, filter: (from) => !ignored(relative(ROOT, from)) });
  }
}

describe('the image, laid out as the Dockerfile copies it', () => {
  it('builds the pages from the builder’s files; the runtime starts from its copies, serves them, and passes the HEALTHCHECK', async () => {
    const { stages } = dockerfile();
    const [builder, last] = [stages[0]!, stages.at(-1)!];
    // The builder: its COPY lines from this checkout; node_modules is this checkout's (`npm ci`
    // and the prune are npm's business); then its RUN that builds the pages, as written.
    const build = tmp();
    symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'));
    for (const l of builder.lines) if (/^COPY\s/i.test(l)) copyFromContext(l, build);
    const files = readdirSync(join(build, 'src'), { recursive: true }).map(String);
    expect(files.filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(50);
    expect(
      files.filter((f) => ignored(`src/${f}`)),
      '.dockerignore applied',
    ).toEqual([]);
    const run = builder.lines.find((l) => /^RUN\s.*ensure-web/.test(l))!.replace(/^RUN\s+/, '');
    const built = spawnSync('/bin/sh', ['-ec', run], {
      cwd: build,
      env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(built.status, built.stderr).toBe(0);
    // The runtime: only what it copies from the builder.
    const app = tmp();
    const copied: string[] = [];
    for (const l of last.lines) {
      const m = /^COPY\s+--from=builder\s+\/app\/(\S+)\s+\.\/(\S+)$/i.exec(l);
      if (!m) continue;
      expect(m[2], l).toBe(m[1]);
      copied.push(m[1]!);
      if (m[1] === 'node_modules') symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
      else cpSync(join(build, m[1]!), join(app, m[1]!), { recursive: true });
    }
    expect(copied).toEqual(
      expect.arrayContaining(['package.json', 'node_modules', 'bin', 'src', 'dist/web']),
    );
    const entry = JSON.parse(
      last.lines.find((l) => /^ENTRYPOINT\s/i.test(l))!.replace(/^ENTRYPOINT\s+/i, ''),
    ) as string[];
    const cmd = JSON.parse(last.lines.find((l) => /^CMD\s/i.test(l))!.replace(/^CMD\s+/i, '')) as string[];
    const health = JSON.parse(
      last.lines.find((l) => /^HEALTHCHECK\s/i.test(l))!.replace(/^HEALTHCHECK\s.*?\bCMD\s+/i, ''),
    ) as string[];
    expect(entry[0]).toBe('node');
    expect(health[0]).toBe('node');
    const offset = await freeOffset();
    const env = {
      PATH: process.env.PATH,
      ...dockerfile().env,
      AIRCLASS_DATA_DIR: join(app, 'data'),
      AIRCLASS_PORT_OFFSET: String(offset),
      AIRCLASS_HOST: '127.0.0.1',
      AIRCLASS_PUBLIC_HOST: '127.0.0.1',
      AIRCLASS_WEBRTC_UDP_PORT: '0',
      AIRCLASS_LOG_LEVEL: 'warn',
      AIRCLASS_ADMIN_PASSWORD: 'deploy-test-password',
    } as NodeJS.ProcessEnv;
    const check = (): number | null =>
      spawnSync(process.execPath, health.slice(1), { cwd: app, env, encoding: 'utf8' }).status;
    expect(check(), 'no server yet: the check fails').toBe(1);
    const server = spawn(process.execPath, [...entry.slice(1), ...cmd], { cwd: app, env, stdio: 'pipe' });
    let out = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    try {
      let healthy = false;
      // Bounded wait for the start (a loaded machine is slow; this is no speed check).
      for (let i = 0; i < 240 && !healthy && server.exitCode === null; i++) {
        healthy = check() === 0;
        if (!healthy) await new Promise((r) => setTimeout(r, 500));
      }
      expect(healthy, out).toBe(true);
      // No rebuild happened (no web/ here), and the built pages are served.
      expect(out).not.toMatch(/building the web pages/);
      const page = await fetch(`http://127.0.0.1:${8000 + offset}/join`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script[^>]+src="\/web\//);
    } finally {
      server.kill('SIGTERM');
      expect(await exited, out).toBe(0);
    }
  }, 240_000);
});

describe('deploy/airclass.service', () => {
  /** A systemd unit as sections of key → values (a key may repeat). */
  function unit(text: string): Record<string, Record<string, string[]>> {
    const out: Record<string, Record<string, string[]>> = {};
    let section: Record<string, string[]> | undefined;
    for (const [i, raw] of text.replace(/\\\n/g, ' ').split('\n').entries()) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const head = /^\[([A-Za-z]+)\]$/.exec(line);
      if (head) {
        section = out[head[1]!] = {};
        continue;
      }
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (!kv || !section) throw new Error(`line ${i + 1} is not Key=value in a section: ${line}`);
      (section[kv[1]!] ??= []).push(kv[2]!);
    }
    return out;
  }
  const text = read('deploy/airclass.service');
  const u = unit(text);
  const service = u.Service ?? {};
  const one = (k: string): string | undefined => service[k]?.at(-1);

  it('starts bin/airclass.js start with a Node binary, as the airclass user, restarting on failure', () => {
    expect(Object.keys(u)).toEqual(['Unit', 'Service', 'Install']);
    expect(one('User')).toBe('airclass');
    expect(one('WorkingDirectory')).toBe('/opt/airclass');
    expect(service.EnvironmentFile).toContain('-/etc/airclass/env');
    const exec = one('ExecStart')!.split(/\s+/);
    expect(exec[0]).toMatch(/^\/.*\/node$/);
    expect(exec.slice(1)).toEqual([`${one('WorkingDirectory')}/bin/airclass.js`, 'start']);
    expect(one('Restart')).toBe('on-failure');
    expect(Number(one('LimitNOFILE'))).toBeGreaterThanOrEqual(65536);
    expect(u.Install?.WantedBy).toContain('multi-user.target');
  });

  it('is hardened and writes only to the data dir its environment names', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('AmbientCapabilities')).toBe('');
    expect(one('CapabilityBoundingSet')).toBe('');
    const env: Record<string, string> = {};
    for (const e of service.Environment ?? []) {
      const [k, ...v] = e.split('=');
      env[k!] = v.join('=');
    }
    const bad = Object.keys(env).flatMap((k) => (k === 'NODE_ENV' ? [] : (badVariable(k) ?? [])));
    expect(bad).toEqual([]);
    const cfg = configOf(env, {});
    expect(one('ReadWritePaths')?.split(/\s+/)).toContain(cfg.dataDir);
    // Every port stays above 1024, which is why no capability is needed.
    expect(Math.min(...Object.values(ports(cfg)).filter((p) => p > 0))).toBeGreaterThan(1024);
  });

  it('passes systemd-analyze verify (with /opt/airclass at this checkout)', () => {
    const file = join(tmp(), 'airclass.service');
    writeFileSync(file, text.replaceAll('/opt/airclass', ROOT));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('deploy/env.example', () => {
  it('names only real variables, and the loader accepts it (commented lines included)', () => {
    const env: Record<string, string> = {};
    for (const raw of read('deploy/env.example').split('\n')) {
      const m = /^#?([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
      if (m) env[m[1]!] = m[2]!;
    }
    expect(Object.keys(env).length).toBeGreaterThan(5);
    expect(Object.keys(env).flatMap((k) => badVariable(k) ?? [])).toEqual([]);
    const cfg = configOf(env, {});
    expect(cfg.publicHost).toBe(env.AIRCLASS_PUBLIC_HOST);
    expect(cfg.databaseUrl).toBe(env.DATABASE_URL);
  });
});
