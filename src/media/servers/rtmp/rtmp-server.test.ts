import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AirError } from '../../../shared/errors.ts';
import type { Logger } from '../../../shared/logger.ts';
import { ChunkHeader } from '../../protocol/rtmp/chunk-header.ts';
import { StreamRegistry } from '../../stream/registry.ts';
import type { Stream } from '../../stream/stream.ts';
import type { AccessUnit } from '../../stream/types.ts';
import { RtmpServer, type RtmpAuthorizeRequest } from './rtmp-server.ts';
import { RawRtmpClient } from './rtmp-test-client.ts';

/** Log lines, to check that a closed connection was logged with its stable code. */
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

const authorizeCalls: RtmpAuthorizeRequest[] = [];
async function authorize(req: RtmpAuthorizeRequest): Promise<{ path: string }> {
  authorizeCalls.push(req);
  const token = req.query.get('token') ?? req.query.get('jwt');
  if (!token) throw new AirError('TOKEN_MISSING');
  if (token !== 'good') throw new AirError('TOKEN_INVALID');
  return { path: `${req.app}/${req.name}` };
}

/** Resolves when `cond()` holds; fails after `ms` (a deadline, not a timing assertion). */
async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Ffmpeg {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function ffmpeg(args: string[]): Ffmpeg {
  const proc = spawn('/usr/bin/ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'info', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('exit', (code) => resolve({ code, stderr })),
  );
  return { proc, exited };
}

function publish(url: string, seconds = 120): Ffmpeg {
  // prettier-ignore
  return ffmpeg([
    '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', '30',
    '-c:a', 'aac',
    '-f', 'flv', url,
  ]);
}

describe('RtmpServer with real ffmpeg', () => {
  const registry = new StreamRegistry({ reconnectGraceMs: 30_000 });
  const server = new RtmpServer({ registry, authorize, logger, limits: { maxMessageSize: 4 << 20 } });
  let port = 0;
  let base = '';
  const running: Ffmpeg[] = [];
  const video: AccessUnit[] = [];
  const audio: AccessUnit[] = [];
  let stream: Stream;

  const start = (url: string): Ffmpeg => {
    const f = publish(url);
    running.push(f);
    return f;
  };

  beforeAll(async () => {
    ({ port } = await server.listen(0, '127.0.0.1'));
    base = `rtmp://127.0.0.1:${port}/live`;
    stream = registry.ensure('live/test');
    stream.addReader({ codecs: new Set(['h264', 'aac']), maxQueue: 100_000 }, (au) => {
      (au.codec === 'h264' ? video : audio).push(au);
    });
    start(`${base}/test?token=good`);
    await until(() => video.filter((v) => v.key).length >= 2 && audio.length >= 50, 'frames from ffmpeg');
  });

  afterAll(async () => {
    for (const f of running) f.proc.kill('SIGKILL');
    await server.close();
    await server.close(); // idempotent
    registry.close();
  });

  it('publishes 1280x720 H.264 and AAC with keyframes and advancing timestamps', () => {
    expect(stream.state).toBe('live');
    expect(stream.publisher?.protocol).toBe('rtmp');
    expect(stream.video).toMatchObject({
      codec: 'h264',
      width: 1280,
      height: 720,
      profile: 66,
      clockRate: 90000,
    });
    expect(stream.video!.sps[0]! & 0x1f).toBe(7);
    expect(stream.video!.pps[0]! & 0x1f).toBe(8);
    expect(stream.audio).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 1, clockRate: 48000 });
    expect(stream.audio!.config!.length).toBeGreaterThanOrEqual(2);
    expect(video[0]!.key).toBe(true);
    expect(video.some((v) => !v.key)).toBe(true);
    for (const list of [video, audio]) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.dts).toBeGreaterThan(list[i - 1]!.dts);
    }
    // 30 fps: about 33 ms per frame on the stream timeline.
    expect(video.at(-1)!.dts - video[0]!.dts).toBeGreaterThanOrEqual(((video.length - 1) * 1000) / 30 - 50);
    expect(audio.every((a) => a.data.length === 1 && a.data[0]!.length > 0)).toBe(true);
    expect(authorizeCalls[0]).toMatchObject({ app: 'live', name: 'test' });
    expect(authorizeCalls[0]!.query.get('token')).toBe('good');
  });

  it('refuses a wrong token: ffmpeg exits non-zero', async () => {
    const { code, stderr } = await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-t',
      '5',
      '-c:v',
      'libx264',
      '-f',
      'flv',
      `${base}/other?token=bad`,
    ]).exited;
    expect(code).not.toBe(0);
    expect(stderr).toContain('TOKEN_INVALID');
    const { code: code2, stderr: stderr2 } = await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-t',
      '5',
      '-c:v',
      'libx264',
      '-f',
      'flv',
      `${base}/other`,
    ]).exited;
    expect(code2).not.toBe(0);
    expect(stderr2).toContain('TOKEN_MISSING');
    expect(registry.get('live/other')).toBeUndefined();
  });

  it('accepts the token as ?jwt= and on the app (OBS server URL + stream key)', async () => {
    const c = await RawRtmpClient.open(port);
    c.command('connect', 1, { app: 'live?jwt=good', tcUrl: `rtmp://127.0.0.1:${port}/live?jwt=good` });
    await c.waitForCommand('_result');
    c.command('createStream', 2, null);
    c.command('publish', 0, null, ['obs', 'live'], 1);
    const status = await c.waitForCommand('onStatus');
    expect(status.args[0]).toMatchObject({ level: 'status', code: 'NetStream.Publish.Start' });
    expect(registry.get('live/obs')?.state).toBe('live');
    c.command('FCUnpublish', 3, null, ['obs']);
    await until(() => registry.get('live/obs')?.state === 'waiting', 'unpublish');
    c.destroy();
  });

  it('refuses a second publisher on the same path while the first keeps going', async () => {
    const before = video.length;
    const { code, stderr } = await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=160x120:rate=10',
      '-t',
      '5',
      '-c:v',
      'libx264',
      '-f',
      'flv',
      `${base}/test?token=good`,
    ]).exited;
    expect(code).not.toBe(0);
    expect(stderr).toContain('already publishing');
    await until(() => video.length > before + 30, 'frames after the refusal');
    expect(stream.state).toBe('live');
  });

  it('refuses play with NetStream.Play.Failed after a digest handshake ffmpeg validates', async () => {
    const { code, stderr } = await ffmpeg(['-i', `${base}/test?token=good`, '-t', '1', '-f', 'null', '-'])
      .exited;
    expect(code).not.toBe(0);
    expect(stderr).not.toContain('validating failed');
    expect(stderr).not.toContain('Signature mismatch');
    expect(stderr).toContain('not offered here');
  });

  it('closes only the offending socket on random bytes, bad AMF0, oversized chunks and bad FLV', async () => {
    const before = video.length;
    const closedWith = (code: string): number => logLines.filter((l) => l.code === code).length;
    const protocolErrors = closedWith('RTMP_PROTOCOL');

    // Random bytes instead of a handshake.
    const { connect } = await import('node:net');
    const junk = connect(port, '127.0.0.1');
    junk.on('error', () => {});
    junk.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await new Promise((r) => junk.once('close', r));

    // A command whose AMF0 is malformed.
    const badAmf = await RawRtmpClient.open(port);
    badAmf.send({
      csid: 3,
      timestamp: 0,
      typeId: 20,
      streamId: 0,
      payload: Uint8Array.of(2, 0, 7, 0x63, 0x6f, 0x11),
    });
    await badAmf.closed;
    expect(closedWith('RTMP_PROTOCOL')).toBeGreaterThanOrEqual(protocolErrors + 2);

    // A message header announcing 16 MiB (over the 4 MiB limit).
    const big = await RawRtmpClient.open(port);
    big.socket.write(
      new ChunkHeader({ fmt: 0, csid: 3, length: 0xffffff, typeId: 9, streamId: 1 }).serialize(),
    );
    await big.closed;
    expect(closedWith('RTMP_TOO_LARGE')).toBeGreaterThanOrEqual(1);

    // A published stream that sends a truncated AVC tag.
    const bad = await RawRtmpClient.open(port);
    const status = await bad.publish('live', 'raw?token=good');
    expect(status.args[0]).toMatchObject({ code: 'NetStream.Publish.Start' });
    bad.send({ csid: 6, timestamp: 0, typeId: 9, streamId: 1, payload: Uint8Array.of(0x17, 0) });
    await bad.closed;
    expect(closedWith('BAD_MEDIA')).toBeGreaterThanOrEqual(1);
    expect(registry.get('live/raw')?.state).toBe('waiting');

    await until(() => video.length > before + 30, 'frames after the bad clients');
    expect(stream.state).toBe('live');
  });

  it('continues on the same Stream, with monotonic timestamps, when the publisher returns', async () => {
    const first = running[0]!;
    first.proc.kill('SIGKILL');
    await first.exited;
    await until(() => stream.state === 'waiting', 'the stream to wait for its publisher');
    const cut = video.length;
    const cutAudio = audio.length;
    start(`${base}/test?token=good`);
    await until(
      () => stream.state === 'live' && video.length > cut + 40 && audio.length > cutAudio + 40,
      'frames after the return',
    );
    expect(registry.get('live/test')).toBe(stream);
    expect(video[cut]!.key).toBe(true);
    for (const list of [video, audio]) {
      for (let i = 1; i < list.length; i++) expect(list[i]!.dts).toBeGreaterThan(list[i - 1]!.dts);
    }
    expect(stream.stats.publishes).toBe(2);
  });
});

describe('RtmpServer limits', () => {
  it('turns away connections over the limit and closes silent handshakes', async () => {
    const registry = new StreamRegistry({ reconnectGraceMs: 1000 });
    const server = new RtmpServer({
      registry,
      authorize,
      logger,
      limits: { maxConnections: 1, handshakeTimeoutMs: 300 },
    });
    const { port } = await server.listen(0, '127.0.0.1');
    const { connect } = await import('node:net');
    const silent = connect(port, '127.0.0.1');
    silent.on('error', () => {});
    await new Promise((r) => silent.once('connect', r));
    await until(() => server.sessions.size === 1, 'the first session');
    const extra = connect(port, '127.0.0.1');
    extra.on('error', () => {});
    await new Promise((r) => extra.once('close', r));
    expect(server.stats.rejected).toBe(1);
    await new Promise((r) => silent.once('close', r)); // handshake timeout
    expect(server.stats.errors.RTMP_PROTOCOL).toBe(1);
    await server.close();
    registry.close();
  });
});
