import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { loadOrCreateKeys } from './control/auth/keys.ts';
import { ACTIONS, ROLES, TokenService, type MediaAction, type Role } from './control/auth/tokens.ts';
import { isAirError } from './shared/errors.ts';
import { createLogger } from './shared/logger.ts';

const USAGE = `Usage: airclass <command> [options]

Commands:
  start     Everything in one process: control plane, RTMP ingest, WHEP egress (default)
  token     Print a media token signed with this node's key
  main      Origin + control plane (not built yet: cluster issue)
  sub       Edge node (not built yet: cluster issue)
  cluster   A main and N subs (not built yet: cluster issue)

Options for start:
  --data-dir DIR       Where keys and data live (default ./data)
  --port-offset N      Shift every port by N
  --config FILE        YAML configuration file (default ./airclass.yaml if present)

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

async function start(values: Record<string, unknown>): Promise<void> {
  const cfg = config(values);
  const logger = createLogger({ level: cfg.logLevel });
  // Loaded here so that `airclass token` does not pay for the whole server's imports.
  const { startNode } = await import('./main.ts');
  const node = await startNode(cfg, logger);
  process.stdout.write(node.banner() + '\n');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    node.close().then(
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
    if (cmd === 'start') await start(parsed.values);
    else if (cmd === 'token') await token(parsed.values);
    else if (cmd === 'main' || cmd === 'sub' || cmd === 'cluster') {
      fail(`"${cmd}" is not built yet (it comes with the cluster issue); use "airclass start".`);
    } else fail(`unknown command "${cmd}"\n\n${USAGE}`);
  } catch (e) {
    if (isAirError(e)) fail(`${e.code}: ${e.message}`);
    throw e;
  }
}
