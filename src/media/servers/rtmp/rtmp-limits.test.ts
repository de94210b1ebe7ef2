import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import { StreamRegistry } from '../../stream/registry.ts';
import { RtmpServer, type RtmpAuthorizeRequest } from './rtmp-server.ts';
import { RawRtmpClient } from './rtmp-test-client.ts';

/**
 * Limits before a publish is authorised (issue 7's audit): idle sockets from one address must
 * not take the slots teachers need, and a connection that has not been authorised may only send
 * small commands.
 */
const logLines: Record<string, unknown>[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line));
      cb();
    },
  }),
) as Logger;

async function authorize(req: RtmpAuthorizeRequest): Promise<{ path: string }> {
  if (req.query.get('token') !== 'good') throw new AirError('TOKEN_INVALID');
  return { path: `${req.app}/${req.name}` };
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RTMP limits before authorisation', () => {
  const registry = new StreamRegistry({ reconnectGraceMs: 1000 });
  // The defaults: 50 connections, 8 pending per address, 30 pending in all.
  const server = new RtmpServer({ registry, authorize, logger });
  let port = 0;
  const sockets: Socket[] = [];
  const procs: ReturnType<typeof spawn>[] = [];

  beforeAll(async () => {
    ({ port } = await server.listen(0, '0.0.0.0'));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const p of procs) p.kill('SIGKILL');
    await server.close();
    registry.close();
  });

  it('50 idle sockets from one address do not block a teacher publishing from another', async () => {
    let closedByServer = 0;
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => closedByServer++);
            sockets.push(s);
          }),
      ),
    );
    await until(() => closedByServer >= 42, 'the server to refuse the idle sockets past 8');
    expect(server.sessions.size).toBe(8);
    // One log line for the flood, not 42.
    expect(logLines.filter((l) => String(l.msg).includes('from this address')).length).toBe(1);

    // prettier-ignore
    const ff = spawn('/usr/bin/ffmpeg', [
      '-nostdin', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
      '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30',
      '-f', 'flv', `rtmp://127.0.0.1:${port}/live/teacher?token=good`,
    ], { stdio: 'ignore' });
    procs.push(ff);
    await until(() => registry.get('live/teacher')?.state === 'live', 'the teacher to go live');
    expect(sockets.filter((s) => !s.destroyed).length).toBeGreaterThanOrEqual(8);
  });

  it('closes a connection that sends a large message before it is authorised, and only it', async () => {
    const c = await RawRtmpClient.open(port);
    c.send({ csid: 3, timestamp: 0, typeId: 20, streamId: 0, payload: new Uint8Array(200 * 1024) });
    await c.closed;
    expect(logLines.some((l) => l.code === 'RTMP_TOO_LARGE')).toBe(true);
    // The teacher's stream is unharmed.
    expect(registry.get('live/teacher')?.state).toBe('live');
  });
});
