/**
 * The sub's relay against a real main (in this process): a path is pulled when its first viewer
 * asks, nothing is pulled for a path the main does not have (409 STREAM_NOT_LIVE), and the pull
 * stops an idle period after the last viewer left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtspRelay } from '../src/media/servers/rtsp/relay.ts';
import { StreamRegistry } from '../src/media/stream/registry.ts';
import { createLogger } from '../src/shared/logger.ts';
import { startTestNode, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';

const PATH = 'live/relay-test';
let t: TestNode;
let pub: Publisher;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await startTestNode();
  pub = publishTestPattern({
    url: `${t.rtmp}/relay-test?token=${await t.token('teacher', PATH, ['publish'])}`,
    size: '320x240',
    rate: 15,
  });
  await until(() => Boolean(t.node.registry.get(PATH)?.opus), 30_000, 'live with Opus');
}, 60_000);

afterAll(async () => {
  await pub?.stop();
  await t?.stop();
});

describe('RtspRelay (a sub pulling from the main)', () => {
  it('pulls on the first viewer, refuses a path the main lacks, stops when idle', async () => {
    const port = (t.node as unknown as { rtsp: { address: { port: number } } }).rtsp.address.port;
    const registry = new StreamRegistry({ reconnectGraceMs: 2000 });
    let viewers = 1;
    const nodeToken = await t.node.tokens.signNode('sub-relay', '1h');
    const relay = new RtspRelay({
      registry,
      logger: createLogger({ level: 'silent' }),
      mainRtspUrl: () => `rtsp://127.0.0.1:${port}`,
      token: () => nodeToken,
      viewers: () => viewers,
      idleMs: 1000,
      startTimeoutMs: 3000,
    });
    try {
      const seen: string[] = [];
      registry.ensure(PATH).addTap((au) => seen.length < 12 && seen.push(`${au.codec}:${au.pts}:${au.key}`));
      await relay.want(PATH);
      const s = registry.get(PATH)!;
      expect(s.state).toBe('live');
      expect(s.video?.width).toBe(320);
      expect(s.audio?.codec).toBe('opus'); // the main's Opus, never transcoded here
      // Nothing lost at the start: the sub's first unit is the main's cached keyframe, so its GOP
      // cache (what a sub's first viewer starts from) begins with it.
      expect(seen[0]).toMatch(/^h264:0:true$/);
      expect(s.lastGop()[0]?.key).toBe(true);
      expect((t.node as unknown as { rtsp: { readers(p: string): number } }).rtsp.readers(PATH)).toBe(1);
      // A second viewer shares the one pull.
      await relay.want(PATH);
      expect((t.node as unknown as { rtsp: { readers(p: string): number } }).rtsp.readers(PATH)).toBe(1);

      await expect(relay.want('live/nothing-here')).rejects.toMatchObject({ code: 'STREAM_NOT_LIVE' });
      expect(relay.paths()).toEqual([PATH]);

      viewers = 0;
      await until(() => relay.paths().length === 0, 5000, 'the idle pull stopped');
      expect(registry.get(PATH)?.state).toBe('idle');
      await until(
        () => (t.node as unknown as { rtsp: { readers(p: string): number } }).rtsp.readers(PATH) === 0,
        3000,
        'the main lost its reader',
      );
    } finally {
      relay.close();
      registry.close();
    }
  }, 30_000);
});
