/**
 * The main's RTSP server with real clients: ffmpeg publishes over RTMP; the sub's RTSP client
 * (RtspPull, with a node token) plays H.264 and Opus; bad requests on other connections are
 * answered (400, 401, 403, 461) and closed without disturbing it; ending the path sends the
 * reader a TEARDOWN.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtspPull, type PullEnd } from '../src/media/servers/rtsp/rtsp-client.ts';
import type { AccessUnit } from '../src/media/stream/types.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startTestNode, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';

const PATH = 'live/rtsp-test';
let t: TestNode;
let pub: Publisher;
let port = 0;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends raw bytes on a new connection; resolves with everything received until it closes. */
function raw(data: string, waitMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => {
      closed = true;
      resolve({ text, closed });
    });
    s.on('error', () => undefined);
    s.write(data);
    setTimeout(() => {
      s.destroy();
      resolve({ text, closed });
    }, waitMs);
  });
}

beforeAll(async () => {
  t = await startTestNode();
  port = (t.node as unknown as { rtsp: { address: { port: number } } }).rtsp.address.port;
  pub = publishTestPattern({
    url: `${t.rtmp}/rtsp-test?token=${await t.token('teacher', PATH, ['publish'])}`,
    size: '320x240',
    rate: 15,
  });
  await until(
    () => Boolean(t.node.registry.get(PATH)?.video && t.node.registry.get(PATH)?.opus),
    30_000,
    'live with Opus',
  );
}, 60_000);

afterAll(async () => {
  await pub?.stop();
  await t?.stop();
});

describe('RTSP server on the main', () => {
  it('serves a sub’s pull; bad requests close only their own connection; the end is a TEARDOWN', async () => {
    const nodeToken = await (
      t.node.tokens as unknown as { signNode(n: string, ttl: string): Promise<string> }
    ).signNode('sub-test', '1h');
    const pull = new RtspPull({
      url: `rtsp://127.0.0.1:${port}/${PATH}`,
      token: nodeToken,
      logger: createLogger({ level: 'silent' }),
      audio: 'opus',
    });
    const units: AccessUnit[] = [];
    let ready: { video: { width: number }; audio?: { codec: string } } | undefined;
    let ended: PullEnd | undefined;
    pull.on('ready', (r) => (ready = r));
    pull.on('au', (au) => units.push(au));
    pull.on('end', (e) => (ended = e));
    pull.start();
    await until(
      () => units.filter((u) => u.codec === 'h264').length > 20 && units.some((u) => u.codec === 'opus'),
      15_000,
      'media',
    );
    expect(ready?.video.width).toBe(320);
    expect(ready?.audio?.codec).toBe('opus');
    const video = units.filter((u) => u.codec === 'h264');
    expect(video[0]!.key).toBe(true); // starts at the cached GOP's keyframe
    for (let i = 1; i < video.length; i++) expect(video[i]!.pts).toBeGreaterThan(video[i - 1]!.pts);
    // Video and Opus on one timeline: within half a second of each other.
    const lastV = video.at(-1)!.pts;
    const lastA = units.filter((u) => u.codec === 'opus').at(-1)!.pts;
    expect(Math.abs(lastV - lastA)).toBeLessThan(500);
    // The main stamps each video frame's send time for the sub (the hop delay in its /health).
    const hop = pull.hopMs();
    expect(hop?.n).toBeGreaterThan(10);
    expect(hop!.p50).toBeGreaterThanOrEqual(0);
    expect(hop!.p50).toBeLessThan(1000);

    // Malformed and refused requests on other connections.
    const garbage = await raw('HELLO WORLD\r\n\r\n');
    expect(garbage.text).toMatch(/^RTSP\/1\.0 400 /);
    expect(garbage.closed).toBe(true);
    const huge = await raw(`OPTIONS rtsp://x/live/a RTSP/1.0\r\nCSeq: 1\r\nX: ${'a'.repeat(40_000)}\r\n\r\n`);
    expect(huge.text).toMatch(/^RTSP\/1\.0 413 /);
    expect(huge.closed).toBe(true);
    const anon = await raw(`DESCRIBE rtsp://127.0.0.1/${PATH} RTSP/1.0\r\nCSeq: 2\r\n\r\n`, 800);
    expect(anon.text).toMatch(/^RTSP\/1\.0 401 [^]*WWW-Authenticate: Basic/);
    const other = await t.token('student', 'live/other', ['read']);
    const scoped = await raw(
      `DESCRIBE rtsp://127.0.0.1/${PATH}?token=${other} RTSP/1.0\r\nCSeq: 3\r\n\r\n`,
      800,
    );
    expect(scoped.text).toMatch(/^RTSP\/1\.0 403 /);
    const read = await t.token('student', PATH, ['read']);
    const udp = await raw(
      `SETUP rtsp://127.0.0.1/${PATH}/trackID=0?token=${read} RTSP/1.0\r\nCSeq: 4\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`,
      800,
    );
    expect(udp.text).toMatch(/^RTSP\/1\.0 461 /);
    const basic = Buffer.from(`viewer:${read}`).toString('base64');
    const ok = await raw(
      `DESCRIBE rtsp://127.0.0.1/${PATH} RTSP/1.0\r\nCSeq: 5\r\nAuthorization: Basic ${basic}\r\n\r\n`,
      800,
    );
    expect(ok.text).toMatch(
      /^RTSP\/1\.0 200 [^]*m=video 0 RTP\/AVP 96[^]*sprop-parameter-sets=[^]*mpeg4-generic\/48000[^]*opus\/48000\/2/i,
    );

    // The pull never noticed.
    const before = units.length;
    await until(() => units.length > before + 20, 5000, 'the pull still receiving');
    expect(ended).toBeUndefined();

    // Ending the path (what a lesson end does): the reader gets a TEARDOWN.
    t.node.registry.stop(PATH);
    await until(() => ended !== undefined, 5000, 'the pull ended');
    expect(ended).toEqual({ kind: 'teardown' });
  }, 60_000);
});
