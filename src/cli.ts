import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { loadConfig } from './config/load.ts';
import { ports, type Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { ACTIONS, ROLES, TokenService, type MediaAction, type Role } from './control/auth/tokens.ts';
import { isAirError } from './shared/errors.ts';
import { createLogger } from './shared/logger.ts';

const USAGE = `Usage: airclass <command> [options]

Commands:
  start     Everything in one process: control plane, RTMP ingest, WHEP egress (default)
  token     Print a media token signed with this node's key
  main      Origin + control plane: what start runs, and sub nodes may join it
  sub       Edge node: pulls from a main over RTSP, serves WHEP to the students sent to it
  cluster   A main and N subs as child processes on this machine (port offsets 0, 1 … N)
  node-token  Print a node token a sub uses to join this main (--name sub-1)
  cert      Make the local CA and HTTPS certificate if missing; print paths, fingerprint, names
  turn-config  Print a coturn turnserver.conf for this node (TURN for students whose UDP is blocked)
  doctor    Check this machine for a node: ports, UDP, ffmpeg, OCR, disk, database, Redis, clock, TLS

Options for start:
  --data-dir DIR       Where keys and data live (default ./data)
  --port-offset N      Shift every port by N
  --config FILE        YAML configuration file (default ./airclass.yaml if present)

Options for main:        as for start, plus
  --mdns               Advertise the main on the LAN (subs started with --discover mdns find it)

Options for sub:
  --main URL           The main's HTTP URL, e.g. http://192.168.0.10:8000
  --discover mdns      Find the main on the LAN instead of --main
  --name NAME          This node's name and id (default sub-<port offset>)
  --capacity N         Viewers this node takes (default 150)
  --token TOKEN        Node token from the main (or AIRCLASS_NODE_TOKEN; see node-token)
  --port-offset N      HTTP 8000+N, WebRTC UDP 8189+N

Options for cluster:
  --subs N             Sub nodes to run (default 3)
  --capacity N         Each sub's capacity
  --data-dir, --port-offset, --config as for start (the main's)

Options for node-token:
  --name NAME          The sub it is for (required)
  --ttl 365d           (default 365d)
  --data-dir DIR       The main's data dir

Options for doctor:      --data-dir, --port-offset, --config as for start (exit code 1 when a check fails)

Options for cert:
  --data-dir DIR       (the certificate lives in DIR/tls/)

Options for turn-config:
  --turn-host HOST     The TURN server's name or address as students reach it (default this node's)
  --turn-port N        Its listening port, TCP and UDP (default 3478)
  --config, --data-dir as for start (turnSecret is read from there; made when empty)

Options for token:
  --role student|teacher|monitor|admin   (default student)
  --path live/<name>                      (required)
  --action read|publish[,read]            (default read)
  --ttl 2h                                (default from config, 2h)
  --sub ID                                subject (default a random id)
  --data-dir DIR
`;

function fail(msg: string): never {
  process.stderr.write(`airclass: ${msg}\n`);
  process.exit(2);
}

function config(values: Record<string, unknown>): Config {
  const overrides: Record<string, unknown> = {};
  if (values['data-dir']) overrides.dataDir = values['data-dir'];
  if (values['port-offset'] !== undefined) overrides.portOffset = Number(values['port-offset']);
  return loadConfig({ file: values.config as string | undefined, overrides });
}

/** `airclass cert`: the local CA and server certificate, made if missing, described. */
async function cert(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const { ensureLocalTls, sanList } = await import('./control/tls/local-ca.ts');
  const { publicHost } = await import('./main.ts');
  const t = await ensureLocalTls({
    dataDir: cfg.dataDir,
    sans: sanList(undefined, cfg.publicHost),
    label: publicHost(cfg),
  });
  const p = ports(cfg);
  process.stdout.write(
    [
      `CA certificate      ${t.files.caCert}   (install on devices: http://<this host>:${p.http}/tls)`,
      `CA SHA-256          ${t.caFingerprint}`,
      `Server certificate  ${t.files.cert}${t.issued ? '   (new)' : ''}`,
      `Server key          ${t.files.key}`,
      `Names (SANs)        ${t.sans.join(', ')}`,
      `Expires             ${t.notAfter.toISOString()}`,
      cfg.tlsCert
        ? `Note: tlsCert is set (${cfg.tlsCert}); HTTPS serves that certificate, not this one.`
        : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

/** `airclass doctor`: one line per check (OK / WARN / FAIL / SKIP); exit code 1 on a FAIL. */
async function doctor(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const { runDoctor, formatReport } = await import('./doctor.ts');
  const results = await runDoctor(cfg);
  process.stdout.write(formatReport(results));
  // Exit now: a check that ran out of time may still hold a socket open.
  process.exit(results.some((r) => r.verdict === 'FAIL') ? 1 : 0);
}

/** `airclass turn-config`: a coturn turnserver.conf matching turnSecret (made when empty). */
async function turnConfig(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const { turnserverConf, defaultTurnHost } = await import('./control/turn/turnserver-conf.ts');
  const port = values['turn-port'] === undefined ? 3478 : Number(values['turn-port']);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail('--turn-port must be a port number');
  const turnHost = String(values['turn-host'] ?? defaultTurnHost(cfg));
  const conf = turnserverConf({ cfg, turnHost, port });
  process.stdout.write(conf.text);
  if (conf.generated)
    process.stderr.write(
      'airclass: a new TURN secret was made; put the turnUrls/turnSecret lines from the top of this file in airclass.yaml\n',
    );
}

async function token(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const role = (values.role ?? 'student') as Role;
  if (!ROLES.includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`);
  const path = values.path as string | undefined;
  if (!path || !/^[A-Za-z0-9._~-]+\/[A-Za-z0-9._~-]+$/.test(path)) fail('--path live/<name> is required');
  const actions = String(values.action ?? 'read').split(',') as MediaAction[];
  if (!actions.every((a) => ACTIONS.includes(a))) fail(`--action must be ${ACTIONS.join(' or ')}`);
  const ttl = String(values.ttl ?? cfg.tokenTtl);
  if (!/^[0-9]+\s*(s|m|h|d)$/.test(ttl)) fail('--ttl must look like 30m, 2h or 1d');
  const svc = new TokenService(await loadOrCreateKeys(cfg.dataDir));
  const sub = String(values.sub ?? `${role}-${randomUUID().slice(0, 8)}`);
  process.stdout.write((await svc.sign({ sub, role, path, actions }, ttl)) + '\n');
}

async function nodeToken(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const name = values.name as string | undefined;
  if (!name || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
    fail('--name <sub name> is required (letters, digits, . _ -)');
  const ttl = String(values.ttl ?? '365d');
  if (!/^[0-9]+\s*(s|m|h|d)$/.test(ttl)) fail('--ttl must look like 30d');
  const svc = new TokenService(await loadOrCreateKeys(cfg.dataDir));
  process.stdout.write((await svc.signNode(name, ttl)) + '\n');
}

/**
 * Runs a node until SIGINT/SIGTERM, then closes it (a second signal exits at once). A child of
 * `airclass cluster` (--supervised) also stops when its supervisor is gone.
 */
function runUntilSignal(
  logger: ReturnType<typeof createLogger>,
  close: () => Promise<void>,
  supervised = false,
): void {
  let stopping = false;
  if (supervised) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('supervisor gone');
    }, 1000).unref();
  }
  const stop = (signal: string): void => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function start(values: Record<string, unknown>, role: 'start' | 'main'): Promise<void> {
  const cfg = config(values);
  const logger = createLogger({ level: cfg.logLevel });
  // Loaded here so that `airclass token` does not pay for the whole server's imports.
  const { startNode } = await import('./main.ts');
  const node = await startNode(cfg, logger);
  process.stdout.write(node.banner() + '\n');
  let unadvertise: (() => Promise<void>) | undefined;
  if (role === 'main' && values.mdns) {
    const { advertiseMain } = await import('./control/cluster/discovery.ts');
    unadvertise = advertiseMain({
      name: `AirClass ${node.urls.http}`,
      httpUrl: node.urls.http,
      port: ports(cfg).http,
    });
    logger.info({ url: node.urls.http }, 'advertised on the LAN (mDNS _airclass._tcp)');
  }
  runUntilSignal(
    logger,
    async () => {
      await unadvertise?.();
      await node.close();
    },
    Boolean(values.supervised),
  );
}

async function sub(values: Record<string, unknown>): Promise<void> {
  const overrides: Record<string, unknown> = {};
  if (values.name) overrides.nodeName = values.name;
  if (values.capacity !== undefined) overrides.nodeCapacity = Number(values.capacity);
  if (values.token) overrides.nodeToken = values.token;
  let mainUrl = values.main as string | undefined;
  if (!mainUrl && values.discover !== undefined) {
    if (values.discover !== 'mdns') fail('--discover takes "mdns"');
    const { discoverMain } = await import('./control/cluster/discovery.ts');
    process.stdout.write('Looking for a main on the LAN (mDNS) …\n');
    for (let i = 0; !mainUrl; i++) {
      mainUrl = await discoverMain(5000);
      if (!mainUrl && i % 6 === 0)
        process.stdout.write('No main found yet; still looking (start it with: airclass main --mdns)\n');
    }
    process.stdout.write(`Found the main at ${mainUrl}\n`);
  }
  if (mainUrl) overrides.mainUrl = mainUrl.replace(/\/+$/, '');
  const cfg = loadConfig({
    file: values.config as string | undefined,
    overrides: {
      ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
      ...(values['port-offset'] !== undefined ? { portOffset: Number(values['port-offset']) } : {}),
      ...overrides,
    },
  });
  if (!cfg.mainUrl) fail('sub needs --main http://MAIN:8000 (or --discover mdns)');
  const logger = createLogger({ level: cfg.logLevel });
  const { buildSubNode } = await import('./sub.ts');
  const node = await buildSubNode(cfg, logger);
  try {
    await node.start();
  } catch (e) {
    await node.close();
    throw e;
  }
  process.stdout.write(node.banner() + '\n');
  runUntilSignal(logger, () => node.close(), Boolean(values.supervised));
}

async function cluster(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const subs = Number(values.subs ?? 3);
  if (!Number.isInteger(subs) || subs < 0 || subs > 32) fail('--subs must be a whole number from 0 to 32');
  const capacity = values.capacity !== undefined ? Number(values.capacity) : undefined;
  const { runCluster } = await import('./cluster-supervisor.ts');
  const run = await runCluster(cfg, { subs, capacity, configFile: values.config as string | undefined });
  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      run.kill(); // a second Ctrl-C: no waiting, but no orphans either
      process.exit(1);
    }
    stopping = true;
    process.stdout.write('Stopping the cluster …\n');
    void run.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Entry point of `bin/airclass.js`. */
export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'data-dir': { type: 'string' },
        'port-offset': { type: 'string' },
        config: { type: 'string' },
        role: { type: 'string' },
        path: { type: 'string' },
        action: { type: 'string' },
        ttl: { type: 'string' },
        sub: { type: 'string' },
        main: { type: 'string' },
        name: { type: 'string' },
        capacity: { type: 'string' },
        token: { type: 'string' },
        discover: { type: 'string' },
        mdns: { type: 'boolean' },
        subs: { type: 'string' },
        'turn-host': { type: 'string' },
        'turn-port': { type: 'string' },
        // Set by `airclass cluster` on its children: stop when the supervisor is gone.
        supervised: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n\n${USAGE}`);
  }
  const cmd = parsed.positionals[0] ?? 'start';
  if (parsed.values.help || cmd === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  try {
    if (cmd === 'start' || cmd === 'main') await start(parsed.values, cmd);
    else if (cmd === 'token') await token(parsed.values);
    else if (cmd === 'node-token') await nodeToken(parsed.values);
    else if (cmd === 'cert') await cert(parsed.values);
    else if (cmd === 'turn-config') await turnConfig(parsed.values);
    else if (cmd === 'doctor') await doctor(parsed.values);
    else if (cmd === 'sub') await sub(parsed.values);
    else if (cmd === 'cluster') await cluster(parsed.values);
    else fail(`unknown command "${cmd}"\n\n${USAGE}`);
  } catch (e) {
    if (isAirError(e)) fail(`${e.code}: ${e.message}`);
    throw e;
  }
}
