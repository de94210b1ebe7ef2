import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../src/config/defaults.ts';
import { configKeyToEnv } from '../src/config/load.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import {
  BEGIN,
  END,
  README,
  configDocs,
  configReference,
  currentReference,
  shownDefault,
  spliceReference,
} from '../scripts/docs-config.ts';

/** The configuration reference in README.md is the one the schema generates. */
const keys = Object.keys((ConfigSchema as unknown as { properties: Record<string, unknown> }).properties);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('configuration reference (npm run docs:config)', () => {
  it('README.md holds exactly the generated reference between its markers', async () => {
    // Without the markers this throws: 'README.md has no "<!-- config-reference:begin -->" …'.
    const held = currentReference(readFileSync(README, 'utf8'));
    expect(held, 'README.md configuration reference is stale: run npm run docs:config').toBe(
      await configReference(),
    );
  });

  it('lists every schema key with its variable, type, default and a description', async () => {
    const docs = configDocs();
    expect(docs.map((d) => d.key)).toEqual(keys);
    const text = await configReference();
    for (const d of docs) {
      expect(d.description, `${d.key} has no doc comment in src/config/schema.ts`).not.toBe('');
      expect(d.env[0]).toBe(configKeyToEnv(d.key));
      expect(text).toContain(`\`${d.key}\``);
      expect(text).toContain(`\`${configKeyToEnv(d.key)}\``);
    }
    const db = docs.find((d) => d.key === 'databaseUrl')!;
    expect(db.env).toEqual(['AIRCLASS_DATABASE_URL', 'DATABASE_URL']);
    expect(docs.find((d) => d.key === 'httpPort')).toMatchObject({
      type: 'integer 0–65535',
      default: '`8000`',
    });
    expect(docs.find((d) => d.key === 'logLevel')!.type).toMatch(/^one of fatal, error, .*silent$/);
    expect(docs.find((d) => d.key === 'sessionTtl')!.default).toBe(`\`"${DEFAULTS.sessionTtl}"\``);
  });

  it('never prints a secret default', () => {
    expect(shownDefault('nodeToken', '')).toBe('(empty)');
    expect(shownDefault('nodeToken', 'eyJ-a-real-token')).toBe('(generated)');
    expect(shownDefault('turnSecret', 'shh')).toBe('(generated)');
    expect(shownDefault('maxPendingPerToken', 2)).toBe('`2`'); // a number, no secret
  });

  it('rewrites only the part between the markers, and refuses a README without them', () => {
    const before = `# AirClass\n\nintro\n\n${BEGIN}\nold table\n${END}\n\n## After\n`;
    const after = spliceReference(before, '| new |');
    expect(after).toBe(`# AirClass\n\nintro\n\n${BEGIN}\n\n| new |\n\n${END}\n\n## After\n`);
    expect(currentReference(after)).toBe('| new |');
    expect(() => spliceReference('# AirClass\n', 'x')).toThrow(/no "<!-- config-reference:begin -->"/);
  });

  it('the script fails with a clear message when README.md has no markers', () => {
    // The script on a copy of the repository's scripts/ and src/config (its README is elsewhere).
    const dir = mkdtempSync(join(tmpdir(), 'airclass-docs-'));
    dirs.push(dir);
    const root = join(import.meta.dirname, '..');
    cpSync(join(root, 'scripts'), join(dir, 'scripts'), { recursive: true });
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    cpSync(join(root, '.prettierrc.json'), join(dir, '.prettierrc.json'));
    // node_modules through a link (read-only use).
    spawnSync('ln', ['-s', join(root, 'node_modules'), join(dir, 'node_modules')]);
    writeFileSync(join(dir, 'README.md'), '# AirClass\n\nNo markers here.\n');
    const r = spawnSync(process.execPath, [join(dir, 'scripts', 'docs-config.ts')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/README\.md has no "<!-- config-reference:begin -->"/);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# AirClass\n\nNo markers here.\n');

    writeFileSync(join(dir, 'README.md'), `# AirClass\n\n${BEGIN}\n${END}\n`);
    const w = spawnSync(process.execPath, [join(dir, 'scripts', 'docs-config.ts')], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);
    const written = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const k of keys) expect(written).toContain(`| \`${k}\``);
    const again = spawnSync(process.execPath, [join(dir, 'scripts', 'docs-config.ts')], { encoding: 'utf8' });
    expect(again.stdout).toMatch(/up to date/);
  });
});
