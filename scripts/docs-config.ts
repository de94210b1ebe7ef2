/**
 * `npm run docs:config`: the configuration reference in README.md, generated from the config
 * schema. Each key's description is its `/** doc comment *\/` in src/config/schema.ts (read
 * with the TypeScript compiler API), its type comes from the TypeBox schema, its default from
 * defaults.ts, its environment variable from load.ts's own naming. The table replaces what
 * README.md holds between `<!-- config-reference:begin -->` and `<!-- config-reference:end -->`
 * (formatted with the repository's Prettier settings, so `prettier --check` agrees). Secrets
 * are never printed as defaults.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import ts from 'typescript';
import { DEFAULTS } from '../src/config/defaults.ts';
import { configKeyToEnv } from '../src/config/load.ts';
import { ConfigSchema } from '../src/config/schema.ts';

const ROOT = join(import.meta.dirname, '..');
const SCHEMA_FILE = join(ROOT, 'src', 'config', 'schema.ts');
const LOAD_FILE = join(ROOT, 'src', 'config', 'load.ts');
/** The README the reference lives in. */
export const README = join(ROOT, 'README.md');
export const BEGIN = '<!-- config-reference:begin -->';
export const END = '<!-- config-reference:end -->';

/** String keys whose value is a secret: a default is never printed, only whether there is one. */
const SECRET = /token$|password|secret|apiKey$/i;

/** One row of the reference. */
export interface ConfigDoc {
  key: string;
  env: string[];
  type: string;
  default: string;
  description: string;
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

function findVariable(sf: ts.SourceFile, name: string): ts.Expression | undefined {
  let found: ts.Expression | undefined;
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.name.text === name) found = n.initializer;
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

function unwrap(e: ts.Expression | undefined): ts.Expression | undefined {
  while (e && (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e)))
    e = e.expression;
  return e;
}

function propName(p: ts.ObjectLiteralElementLike): string | undefined {
  const n = p.name;
  if (!n) return undefined;
  if (ts.isIdentifier(n) || ts.isStringLiteral(n)) return n.text;
  return undefined;
}

/** key → its doc comment, in the schema's order, from `ConfigSchema = Type.Object({ … })`. */
export function schemaComments(file = SCHEMA_FILE): Map<string, string> {
  const sf = parse(file);
  const init = unwrap(findVariable(sf, 'ConfigSchema'));
  const arg = init && ts.isCallExpression(init) ? unwrap(init.arguments[0]) : undefined;
  if (!arg || !ts.isObjectLiteralExpression(arg))
    throw new Error(`${file}: no "ConfigSchema = Type.Object({ … })" found`);
  const out = new Map<string, string>();
  for (const p of arg.properties) {
    const key = propName(p);
    if (!key) continue;
    const text = ts
      .getJSDocCommentsAndTags(p)
      .filter(ts.isJSDoc)
      .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
      .join(' ');
    out.set(key, text.replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** Plain environment variables read as keys (`PLAIN_ENV` of load.ts): key → variable, e.g. databaseUrl → DATABASE_URL. */
export function plainEnv(file = LOAD_FILE): Map<string, string> {
  const init = unwrap(findVariable(parse(file), 'PLAIN_ENV'));
  const out = new Map<string, string>();
  if (!init || !ts.isObjectLiteralExpression(init)) throw new Error(`${file}: no "PLAIN_ENV = { … }" found`);
  for (const p of init.properties) {
    const name = propName(p);
    if (name && ts.isPropertyAssignment(p) && ts.isStringLiteral(p.initializer))
      out.set(p.initializer.text, name);
  }
  return out;
}

type Schema = TSchema & {
  type?: string;
  const?: unknown;
  anyOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

const TTL_PATTERN = '^[0-9]+\\s*(s|m|h|d)$';

function range(s: Schema): string {
  const lo = s.minimum;
  if (lo !== undefined && s.maximum !== undefined) return ` ${lo}–${s.maximum}`;
  if (lo !== undefined) return ` ≥ ${lo}`;
  if (s.exclusiveMinimum !== undefined) return ` > ${s.exclusiveMinimum}`;
  if (s.maximum !== undefined) return ` ≤ ${s.maximum}`;
  return '';
}

/** A short type for a reader: "integer 0–65535", "duration", "URL or empty", "one of …". */
export function typeOf(s: Schema): string {
  if (s.anyOf) {
    if (s.anyOf.every((x) => x.const !== undefined))
      return `one of ${s.anyOf.map((x) => x.const).join(', ')}`;
    const rest = s.anyOf.filter((x) => x.const !== '');
    if (rest.length === 1 && rest.length < s.anyOf.length) {
      const r = rest[0]!;
      return r.pattern?.includes('://') ? 'URL or empty' : `${typeOf(r)} or empty`;
    }
    return s.anyOf.map(typeOf).join(' or ');
  }
  switch (s.type) {
    case 'integer':
      return `integer${range(s)}`;
    case 'number':
      return `number${range(s)}`;
    case 'boolean':
      return 'boolean';
    case 'string':
      return s.pattern === TTL_PATTERN ? 'duration (30m, 2h, 7d)' : 'string';
    case 'array': {
      const it = s.items;
      if (it?.type === 'object' && it.properties)
        return `list of {${Object.keys(it.properties)
          .map((k) => (it.required?.includes(k) ? k : `${k}?`))
          .join(', ')}}`;
      if (it?.anyOf || it?.type === 'string') return 'list of strings';
      return `list of ${it ? typeOf(it) : 'values'}`;
    }
    default:
      return s.type ?? 'value';
  }
}

/** A default as shown: `8000`, `"./data"`, `[]`; (empty) for ""; never a secret's value. */
export function shownDefault(key: string, v: unknown): string {
  if (v === '' || v === undefined) return '(empty)';
  if (typeof v === 'string' && SECRET.test(key)) return '(generated)';
  return `\`${JSON.stringify(v)}\``;
}

/** Every key of the schema with its description, variables, type and default, in schema order. */
export function configDocs(): ConfigDoc[] {
  const comments = schemaComments();
  const plain = plainEnv();
  const props = (ConfigSchema as unknown as { properties: Record<string, Schema> }).properties;
  const keys = Object.keys(props);
  const notInSource = keys.filter((k) => !comments.has(k));
  if (notInSource.length) throw new Error(`keys not found in ${SCHEMA_FILE}: ${notInSource.join(', ')}`);
  const undocumented = keys.filter((k) => !comments.get(k));
  if (undocumented.length)
    throw new Error(
      `config keys without a /** doc comment */ in src/config/schema.ts: ${undocumented.join(', ')}`,
    );
  return keys.map((key) => ({
    key,
    env: [configKeyToEnv(key), ...[...plain].filter(([k]) => k === key).map(([, name]) => name)],
    type: typeOf(props[key]!),
    default: shownDefault(key, (DEFAULTS as unknown as Record<string, unknown>)[key]),
    description: comments.get(key)!,
  }));
}

/** Markdown inline text in a table cell: pipes escaped, `<tags>` outside code spans shown as text. */
function cell(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('')
    .replace(/\|/g, '\\|');
}

/** The reference as Markdown (unformatted). */
export function configTable(docs: ConfigDoc[] = configDocs()): string {
  const rows = docs.map(
    (d) =>
      `| \`${d.key}\` | ${d.env.map((e) => `\`${e}\``).join(' or ')} | ${cell(d.type)} | ${cell(d.default)} | ${cell(d.description)} |`,
  );
  return [
    'Generated from `src/config/schema.ts` by `npm run docs:config`; do not edit by hand.',
    'Precedence, lowest first: defaults → `airclass.yaml` (or `--config FILE`, `AIRCLASS_CONFIG`) →',
    '`DATABASE_URL` / `REDIS_URL` → `AIRCLASS_*` → command-line flags. Lists take JSON or',
    'comma-separated values in the environment; booleans take true/false, 1/0, yes/no, on/off.',
    '',
    '| Key | Environment | Type | Default | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The reference formatted as Prettier formats README.md. */
export async function configReference(): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(README)) ?? {};
  return (await prettier.format(configTable(), { ...options, parser: 'markdown' })).trimEnd();
}

/** What README.md holds between the markers; throws a clear error when they are missing. */
export function currentReference(readme: string): string {
  const b = readme.indexOf(BEGIN);
  const e = readme.indexOf(END);
  if (b < 0 || e < 0 || e < b)
    throw new Error(
      `README.md has no "${BEGIN}" … "${END}" markers (in that order): add them where the configuration reference belongs, then run npm run docs:config`,
    );
  return readme.slice(b + BEGIN.length, e).trim();
}

/** `readme` with the reference between the markers replaced by `text`. */
export function spliceReference(readme: string, text: string): string {
  currentReference(readme);
  const b = readme.indexOf(BEGIN) + BEGIN.length;
  const e = readme.indexOf(END);
  return `${readme.slice(0, b)}\n\n${text}\n\n${readme.slice(e)}`;
}

async function main(): Promise<void> {
  const readme = readFileSync(README, 'utf8');
  let next: string;
  try {
    next = spliceReference(readme, await configReference());
  } catch (e) {
    process.stderr.write(`docs:config: ${(e as Error).message}\n`);
    process.exit(1);
  }
  if (next === readme) {
    process.stdout.write('README.md: the configuration reference is up to date.\n');
    return;
  }
  writeFileSync(README, next);
  process.stdout.write(`README.md: configuration reference written (${configDocs().length} keys).\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
