import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { makeOffer, until, whepView } from './helpers/werift-viewer.ts';

/**
 * The TURN/TCP interop shim (src/media/servers/webrtc/stun-shim.ts, libjuice#355) against a real
 * node, a real ffmpeg publisher and werift viewers. A werift viewer made to send the zero
 * ICE-CONTROLLING tiebreaker Chromium sends over TURN/TCP plays through the shim's candidate;
 * a node without turnUrls runs no shim and its answers are as before.
 */

/** A WHEP viewer whose ICE tiebreaker is 0 and that only gets the answer's candidates `keep` keeps. */
async function zeroTiebreakerView(url: string, token: string, keep: (candidateLine: string) => boolean) {
  const pc = await makeOffer();
  const conn = pc.iceTransports[0]!.connection as unknown as { tieBreaker: bigint };
  conn.tieBreaker = 0n;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
    body: pc.localDescription!.sdp,
  });
  expect(res.status).toBe(201);
  const answer = await res.text();
  const received = { video: 0, audio: 0 };
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe(() => {
      if (track.kind === 'video') received.video++;
      else received.audio++;
    });
  });
  const state = { connected: false, failed: false };
  pc.connectionStateChange.subscribe((s) => {
    if (s === 'connected') state.connected = true;
    if (s === 'failed') state.failed = true;
  });
  const sdp = answer
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') || keep(l))
    .join('\r\n');
  await pc.setRemoteDescription({ type: 'answer', sdp });
  return { pc, answer, received, state, location: res.headers.get('location')! };
}

describe('TURN shim', () => {
  let t: TestNode;
  let plain: TestNode;
  let pub: Publisher | undefined;
  let pub2: Publisher | undefined;
  const path = 'live/shim';

  beforeAll(async () => {
    [t, plain] = await Promise.all([
      startTestNode({
        turnUrls: ['turn:127.0.0.1:3478?transport=tcp'],
        turnSecret: 'a-test-secret-of-some-length',
      }),
      startTestNode(),
    ]);
    pub = publishTestPattern({ url: `${t.rtmp}/shim?token=${await t.token('teacher', path, ['publish'])}` });
    pub2 = publishTestPattern({
      url: `${plain.rtmp}/shim?token=${await plain.token('teacher', path, ['publish'])}`,
    });
    await until(() => t.node.registry.get(path)?.opus !== undefined, 20_000, 'the publisher');
    await until(() => plain.node.registry.get(path)?.opus !== undefined, 20_000, 'the second publisher');
  }, 60_000);
  afterAll(async () => {
    await Promise.all([pub?.stop(), pub2?.stop()]);
    await Promise.all([t?.stop(), plain?.stop()]);
  });

  it('a viewer sending ICE-CONTROLLING 0 plays through the shim candidate; the session is forgotten on DELETE', async () => {
    const shim = t.node.whep.turnShim!;
    expect(shim.port).toBeGreaterThan(0);
    const read = await t.token('student', path, ['read']);
    const v = await zeroTiebreakerView(`${t.http}/${path}/whep`, read, (l) =>
      l.includes(` ${shim.port} typ host`),
    );
    // The answer carries the shim's candidates, at the lowest priorities, next to the normal ones.
    const cands = v.answer.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    const atShim = cands.filter((l) => l.includes(` ${shim.port} typ host`));
    expect(atShim.length).toBeGreaterThan(0);
    expect(atShim.some((l) => l.includes(' 127.0.0.1 '))).toBe(true);
    const prio = (l: string) => Number(l.split(' ')[3]);
    const normal = cands.filter((l) => !atShim.includes(l));
    expect(normal.length).toBeGreaterThan(0);
    expect(Math.max(...atShim.map(prio))).toBeLessThan(Math.min(...normal.map(prio)));
    expect(shim.sessions).toBe(1);
    try {
      await until(() => v.received.video > 30 && v.received.audio > 10, 20_000, 'media through the shim');
      expect(v.state.connected).toBe(true);
      expect(shim.fixed).toBeGreaterThan(0);
      expect(shim.remoteCount).toBeGreaterThan(0);
    } finally {
      await v.pc.close();
    }
    const del = await fetch(`${t.http}${v.location}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${read}` },
    });
    expect(del.status).toBeLessThan(300);
    expect(shim.sessions).toBe(0);
  }, 40_000);

  it('the same viewer against the normal candidate only never connects (libjuice answers 400)', async () => {
    const shim = t.node.whep.turnShim!;
    const read = await t.token('student', path, ['read']);
    const v = await zeroTiebreakerView(
      `${t.http}/${path}/whep`,
      read,
      (l) => !l.includes(` ${shim.port} typ host`),
    );
    const conn = v.pc.iceTransports[0]!.connection as unknown as { checkList: { state: number }[] };
    try {
      // Every check is answered with an error (libjuice's 400), so every candidate pair fails.
      const FAILED = 4; // werift's CandidatePairState.FAILED
      await until(
        () => conn.checkList.length > 0 && conn.checkList.every((p) => p.state === FAILED),
        30_000,
        'every candidate pair to fail',
      );
      expect(v.state.connected).toBe(false);
      expect(v.received.video).toBe(0);
    } finally {
      await v.pc.close();
    }
  }, 40_000);

  it('a node without turnUrls runs no shim; its answers carry only the normal candidates', async () => {
    expect(plain.node.whep.turnShim).toBeUndefined();
    const v = await whepView(`${plain.http}/${path}/whep`, await plain.token('student', path, ['read']));
    try {
      expect(v.status).toBe(201);
      expect(v.answer).not.toContain('a=candidate:shim');
      await v.connected;
      await until(() => v.received.video > 10, 15_000, 'media');
    } finally {
      await v.close();
    }
  }, 30_000);
});
