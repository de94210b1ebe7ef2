import { expect, it } from 'vitest';
import { startTestNode } from './helpers/node.ts';
import { publishTestPattern } from './helpers/publisher.ts';
import { until, whepView } from './helpers/werift-viewer.ts';

/**
 * One process builds, serves and closes nodes one after another, each with viewers (tests do,
 * and an operator's restart in-process would): node-datachannel lives in one worker thread
 * shared by the process's nodes. Regression: the second node's close used to hang (a worker
 * per node could not be ended, and a new one found node-datachannel's constructors dead).
 */
it('serves viewers and closes cleanly, node after node, in one process', async () => {
  for (let round = 0; round < 2; round++) {
    const t = await startTestNode({});
    const path = 'live/cycle';
    const pub = publishTestPattern({
      url: `${t.rtmp}/cycle?token=${await t.token('teacher', path, ['publish'])}`,
      size: '640x360',
    });
    try {
      await until(() => t.node.registry.get(path)?.video !== undefined, 20_000, 'the publisher');
      const read = await t.token('student', path, ['read']);
      const viewers: Awaited<ReturnType<typeof whepView>>[] = [];
      for (let i = 0; i < 2; i++) {
        const v = await whepView(`${t.http}/${path}/whep`, read);
        expect(v.status).toBe(201);
        viewers.push(v);
        await v.connected;
      }
      await until(() => viewers.every((v) => v.received.video > 10), 15_000, 'video to every viewer');
      for (const v of viewers) await v.close();
    } finally {
      await pub.stop();
      await t.stop(); // hung before the worker was shared
    }
  }
}, 120_000);
