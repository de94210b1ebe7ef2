import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { freeOffset } from './helpers/node.ts';

const NODE = process.execPath;
const BIN = join(import.meta.dirname, '..', 'bin', 'airclass.js');
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'airclass-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('airclass CLI', () => {
  it('prints a token scoped to a path and action, signed with the data dir key', () => {
    const dir = tmp();
    const r = spawnSync(
      NODE,
      [
        BIN,
        'token',
        '--data-dir',
        dir,
        '--role',
        'teacher',
        '--path',
        'live/x',
        '--action',
        'publish',
        '--ttl',
        '30m',
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    const claims = decodeJwt(r.stdout.trim());
    expect(claims).toMatchObject({ role: 'teacher', path: 'live/x', act: ['publish'] });
    expect(claims.exp! - claims.iat!).toBe(1800);
  });

  it('refuses a bad role or path with a clear message', () => {
    const r = spawnSync(NODE, [BIN, 'token', '--data-dir', tmp(), '--role', 'king', '--path', 'live/x'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--role must be one of/);
    const p = spawnSync(NODE, [BIN, 'token', '--data-dir', tmp()], { encoding: 'utf8' });
    expect(p.stderr).toMatch(/--path live\/<name> is required/);
  });

  it('names an unknown configuration variable and exits', () => {
    const r = spawnSync(NODE, [BIN, 'start', '--data-dir', tmp()], {
      encoding: 'utf8',
      env: { ...process.env, AIRCLASS_HTTP_PROT: '9' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CONFIG_INVALID: .*AIRCLASS_HTTP_PROT/);
  });

  it('refuses an older Node with a clear message', () => {
    const old = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
    const major = Number(/^v(\d+)/.exec(old.stdout ?? '')?.[1] ?? 0);
    if (!major || major >= 22) {
      console.log(`skipped: /usr/bin/node is ${old.stdout?.trim() || 'absent'}, not an older Node`);
      return;
    }
    const r = spawnSync('/usr/bin/node', [BIN, 'start'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/AirClass needs Node\.js 24/);
  });

  it('starts, prints the URLs a person needs, and stops cleanly on SIGTERM', async () => {
    const k = await freeOffset();
    const child = spawn(NODE, [BIN, 'start', '--data-dir', tmp(), '--port-offset', String(k)], {
      env: { ...process.env, AIRCLASS_HOST: '127.0.0.1', AIRCLASS_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('Watch page') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(`:${8000 + k}`);
    expect(out).toContain(`rtmp://`);
    expect(out).toContain(`:${1935 + k}/live`);
    expect(out).toMatch(/\/watch\/live\/<name>\?jwt=/);
    const ready = await fetch(`http://127.0.0.1:${8000 + k}/ready`);
    expect(ready.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${8000 + k}/ready`)).rejects.toThrow();
  });
});
