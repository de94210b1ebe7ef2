import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { AirError } from '../shared/errors.ts';
import { DEFAULTS } from './defaults.ts';
import { ConfigSchema, type Config } from './schema.ts';

/** Environment variables with the AIRCLASS_ prefix that are not configuration keys. */
/** AIRCLASS_* variables that are not configuration keys (read where they are used). */
export const NON_CONFIG_ENV: ReadonlySet<string> = new Set([
  'AIRCLASS_CONFIG',
  'AIRCLASS_ADMIN_PASSWORD',
  // The AI keys' master key (src/control/ai/secret-box.ts); kept out of the config object.
  'AIRCLASS_SECRET_KEY',
]);

/**
 * Conventional environment variables without the AIRCLASS_ prefix, read as configuration keys.
 * Precedence, lowest first: defaults → file → these (e.g. DATABASE_URL) → AIRCLASS_* (e.g.
 * AIRCLASS_DATABASE_URL) → CLI overrides. An empty value counts as unset here (an explicit
 * AIRCLASS_DATABASE_URL="" still selects PGlite over a file's or DATABASE_URL's server).
 */
const PLAIN_ENV: Readonly<Record<string, string>> = { DATABASE_URL: 'databaseUrl', REDIS_URL: 'redisUrl' };

/** Where configuration came from, for the error message. */
type Source = 'file' | 'env' | 'cli';

/** Options of `loadConfig`. */
export interface LoadOptions {
  /** Path of a YAML file; default `AIRCLASS_CONFIG` or `./airclass.yaml` if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides from the command line (highest precedence). */
  overrides?: Partial<Record<keyof Config, unknown>>;
}

/** UPPER_SNAKE → camelCase: WEBRTC_PORT_MIN → webrtcPortMin. */
export function envKeyToConfigKey(name: string): string {
  return name
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1)))
    .join('');
}

/** camelCase → AIRCLASS_UPPER_SNAKE. */
export function configKeyToEnv(key: string): string {
  return 'AIRCLASS_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

function coerce(key: string, raw: string): unknown {
  const def = (DEFAULTS as Record<string, unknown>)[key];
  if (typeof def === 'number') return raw.trim() === '' ? NaN : Number(raw);
  if (typeof def === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    return raw;
  }
  if (Array.isArray(def)) {
    const t = raw.trim();
    if (t.startsWith('[')) {
      try {
        return JSON.parse(t);
      } catch {
        return raw;
      }
    }
    if (key === 'iceServers') return t === '' ? [] : t.split(',').map((u) => ({ urls: u.trim() }));
    return t === '' ? [] : t.split(',').map((s) => s.trim());
  }
  return raw;
}

function merge(target: Record<string, unknown>, src: Record<string, unknown>, source: Source): void {
  for (const [k, v] of Object.entries(src)) {
    if (v === undefined) continue;
    if (!(k in DEFAULTS)) {
      const name = source === 'env' ? configKeyToEnv(k) : k;
      throw new AirError('CONFIG_INVALID', `Unknown configuration key "${name}" (from ${source}).`);
    }
    target[k] = v;
  }
}

/**
 * Loads the configuration: defaults → optional YAML file → plain environment (DATABASE_URL,
 * REDIS_URL) → AIRCLASS_* environment → CLI overrides; validates it (an unknown or bad key is
 * an error that names it) and freezes it.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cfg: Record<string, unknown> = structuredClone(DEFAULTS) as Record<string, unknown>;

  const file =
    opts.file ?? env.AIRCLASS_CONFIG ?? (existsSync('airclass.yaml') ? 'airclass.yaml' : undefined);
  if (file) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(resolve(file), 'utf8'));
    } catch (e) {
      throw new AirError('CONFIG_INVALID', `Cannot read config file ${file}: ${(e as Error).message}`);
    }
    if (doc != null) {
      if (typeof doc !== 'object' || Array.isArray(doc)) {
        throw new AirError('CONFIG_INVALID', `Config file ${file} must be a mapping of keys to values.`);
      }
      merge(cfg, doc as Record<string, unknown>, 'file');
    }
  }

  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(PLAIN_ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') fromEnv[key] = coerce(key, raw);
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('AIRCLASS_') || NON_CONFIG_ENV.has(name) || raw === undefined) continue;
    const key = envKeyToConfigKey(name.slice('AIRCLASS_'.length));
    if (!(key in DEFAULTS)) throw new AirError('CONFIG_INVALID', `Unknown configuration variable ${name}.`);
    fromEnv[key] = coerce(key, raw);
  }
  merge(cfg, fromEnv, 'env');
  if (opts.overrides) merge(cfg, opts.overrides as Record<string, unknown>, 'cli');

  const first = Value.Errors(ConfigSchema, cfg).First();
  if (first) {
    const key = first.path.replace(/^\//, '').split('/')[0] ?? '';
    const envNames = [configKeyToEnv(key), ...Object.keys(PLAIN_ENV).filter((n) => PLAIN_ENV[n] === key)];
    const shown = key ? `"${key}" (${envNames.join(' or ')})` : 'the configuration';
    throw new AirError('CONFIG_INVALID', `Invalid ${shown}: ${first.message} at ${first.path}.`);
  }
  const c = cfg as Config;
  if (c.webrtcPortMin > c.webrtcPortMax) {
    throw new AirError('CONFIG_INVALID', 'Invalid "webrtcPortMin": larger than webrtcPortMax.');
  }
  return deepFreeze(c);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
