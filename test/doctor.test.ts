import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../src/control/store/testing.ts';
import { freeOffset, startTestNode } from './helpers/node.ts';
import { TEST_REDIS_URL } from './helpers/redis.ts';

/**
 * `airclass doctor` run as an operator runs it (bin/airclass.js in a child process), on a
 * healthy setup (free ports, the real PostgreSQL and Redis) and on broken ones.
 */
const NODE = process.execPath;
const BIN = join(import.meta.dirname, '..', 'bin', 'airclass.js');
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'airclass-doctor-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** The environment without any AIRCLASS_* / DATABASE_URL / REDIS_URL of the test runner. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('AIRCLASS_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL') env[k] = v;
  return { ...env, AIRCLASS_HOST: '127.0.0.1', ...extra };
}

function doctor(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [BIN, 'doctor', ...args], { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

/** The verdict lines: check name → verdict and the rest of the line. */
function lines(out: string): Map<string, { verdict: string; text: string }> {
  const m = new Map<string, { verdict: string; text: string }>();
  for (const l of out.split('\n')) {
    const r = /^(OK|WARN|FAIL|SKIP)\s+(\S.*?)\s{2,}(.*)$/.exec(l);
    if (r) m.set(r[2]!, { verdict: r[1]!, text: r[3]! });
  }
  return m;
}

describe('airclass doctor', () => {
  it('passes a healthy setup: free ports, PostgreSQL and Redis answering, exit 0', async () => {
    const k = await freeOffset();
    const r = await doctor(
      ['--data-dir', tmp(), '--port-offset', String(k)],
      baseEnv({
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: TEST_REDIS_URL,
      }),
    );
    const got = lines(r.out);
    expect(r.code, r.out).toBe(0);
    for (const name of [
      'Node.js',
      'HTTP port',
      'RTMP port',
      'RTSP port',
      'WebRTC UDP port',
      'UDP loopback',
      'ffmpeg',
      'tesseract (OCR)',
      'Disk (data)',
      'Database',
      'Redis',
      'Clock',
      'TLS certificate',
    ])
      expect(got.has(name), `${name} line in\n${r.out}`).toBe(true);
    for (const [name, l] of got) expect(['OK', 'WARN', 'SKIP'], `${name}: ${l.text}`).toContain(l.verdict);
    expect(got.get('HTTP port')!.text).toContain(`${8000 + k}/tcp`);
    expect(got.get('WebRTC UDP port')!.text).toContain(`${8189 + k}/udp`);
    expect(got.get('Database')).toMatchObject({
      verdict: 'OK',
      text: expect.stringMatching(/^PostgreSQL \d+/),
    });
    expect(got.get('Redis')).toMatchObject({ verdict: 'OK', text: expect.stringContaining('PONG') });
    expect(got.get('Clock')!.verdict).toBe('OK');
    expect(got.get('ffmpeg')).toMatchObject({ verdict: 'OK', text: expect.stringMatching(/^ffmpeg \S+/) });
    expect(r.out).toMatch(/No failures.*ready to start/);
  });

  it('fails on a taken HTTP port and a missing ffmpeg, naming both, exit 1', async () => {
    const k = await freeOffset();
    // Holds the port; a connection (doctor asks /health) is dropped at once.
    const taken: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((res) => taken.listen(8000 + k, '127.0.0.1', () => res()));
    try {
      const missing = join(tmp(), 'no-such-ffmpeg');
      const r = await doctor(
        ['--data-dir', tmp(), '--port-offset', String(k)],
        // A PATH without ffmpeg (or tesseract) and an explicit ffmpeg that is not there.
        baseEnv({ PATH: tmp(), AIRCLASS_FFMPEG_PATH: missing }),
      );
      const got = lines(r.out);
      expect(r.code, r.out).toBe(1);
      expect(got.get('HTTP port')).toMatchObject({
        verdict: 'FAIL',
        text: `${8000 + k}/tcp on 127.0.0.1 is taken`,
      });
      expect(r.out).toContain(`sport = :${8000 + k}`);
      expect(got.get('RTMP port')!.verdict).toBe('OK');
      expect(got.get('ffmpeg')!.verdict).toBe('FAIL');
      expect(got.get('ffmpeg')!.text).toContain(missing);
      expect(r.out).toContain('AIRCLASS_FFMPEG_PATH');
      expect(got.get('tesseract (OCR)')!.verdict).toBe('WARN');
      expect(r.out).toMatch(/2 failed/);
    } finally {
      await new Promise((res) => taken.close(res));
    }
  });

  it('takes the ports a running AirClass node holds for that node: WARN, not FAIL', async () => {
    const k = await freeOffset();
    const running = await startTestNode({ portOffset: k });
    try {
      const r = await doctor(['--data-dir', tmp(), '--port-offset', String(k)], baseEnv({}));
      const got = lines(r.out);
      expect(r.code, r.out).toBe(0);
      expect(got.get('Running node')).toMatchObject({
        verdict: 'OK',
        text: expect.stringContaining(`http://127.0.0.1:${8000 + k}`),
      });
      for (const [name, port] of [
        ['HTTP port', 8000 + k],
        ['RTMP port', 1935 + k],
        ['RTSP port', 8554 + k],
      ] as const)
        expect(got.get(name), r.out).toEqual({
          verdict: 'WARN',
          text: `${port}/tcp on 127.0.0.1 is held, by the AirClass node running here`,
        });
    } finally {
      await running.stop();
    }
  });

  it('fails on an unreachable database and never prints its password or the node token', async () => {
    const k = await freeOffset();
    const closed = createServer();
    const port = await new Promise<number>((res) =>
      closed.listen(0, '127.0.0.1', () => res((closed.address() as { port: number }).port)),
    );
    await new Promise((res) => closed.close(res)); // a port nobody listens on
    const r = await doctor(
      ['--data-dir', tmp(), '--port-offset', String(k)],
      baseEnv({
        DATABASE_URL: `postgres://airclass:pw-Secret-4711@127.0.0.1:${port}/airclass`,
        REDIS_URL: `redis://:redis-Secret-0815@127.0.0.1:${port}`,
        AIRCLASS_NODE_TOKEN: 'node-Secret-2024',
      }),
    );
    const got = lines(r.out);
    expect(r.code, r.out).toBe(1);
    expect(got.get('Database')!.verdict).toBe('FAIL');
    expect(got.get('Database')!.text).toContain(`postgres://airclass:***@127.0.0.1:${port}/airclass`);
    expect(got.get('Redis')!.verdict).toBe('FAIL');
    expect(got.get('Clock')!.verdict).toBe('SKIP');
    expect(r.out).not.toMatch(/Secret/);
  });
});
