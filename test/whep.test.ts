import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { until, whepView, makeOffer } from './helpers/werift-viewer.ts';

/**
 * WHEP egress against a real node, a real ffmpeg publisher over RTMP and werift viewers:
 * status codes and headers of draft-ietf-wish-whep, media flowing, a publisher that drops
 * and returns while its viewers stay connected.
 */
describe('WHEP egress', () => {
  let t: TestNode;
  let pub: Publisher | undefined;
  const path = 'live/whep1';
  let read: string;
  let publish: string;
  let url: string;

  beforeAll(async () => {
    t = await startTestNode({ iceServers: [{ urls: 'stun:stun.example.org:3478' }] });
    read = await t.token('student', path, ['read']);
    publish = await t.token('teacher', path, ['publish']);
    url = `${t.http}/${path}/whep`;
  });
  afterAll(async () => {
    await pub?.stop();
    await t?.stop();
  });

  it('answers OPTIONS with Accept-Post and the ICE servers as Link headers', async () => {
    const res = await fetch(url, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('accept-post')).toBe('application/sdp');
    expect(res.headers.get('link')).toBe('<stun:stun.example.org:3478>; rel="ice-server"');
  });

  it('answers 409 with Retry-After while nothing is published on an allowed path', async () => {
    const v = await whepView(url, read);
    expect(v.status).toBe(409);
    expect(Number(v.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.parse(v.answer).error.code).toBe('STREAM_NOT_LIVE');
  });

  it('refuses a missing token (401), a token of another path or action (403), a bad token (401)', async () => {
    expect((await whepView(url)).status).toBe(401);
    const other = await t.token('student', 'live/other', ['read']);
    expect((await whepView(url, other)).status).toBe(403);
    expect((await whepView(url, publish)).status).toBe(403);
    expect((await whepView(url, read.slice(0, -4) + 'AAAA')).status).toBe(401);
    const q = await fetch(`${url}?jwt=${other}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    expect(q.status).toBe(403);
  });

  it('plays a live stream: 201 with answer, Location, ETag; H.264 pinned; video and audio RTP arrive', async () => {
    pub = publishTestPattern({ url: `${t.rtmp}/whep1?token=${publish}`, size: '640x360' });
    await until(() => t.node.registry.get(path)?.video !== undefined, 20_000, 'the publisher');
    await until(() => t.node.registry.get(path)?.opus !== undefined, 20_000, 'opus audio');
    const v = await whepView(url, read);
    try {
      expect(v.status).toBe(201);
      expect(v.headers.get('content-type')).toMatch(/^application\/sdp/);
      expect(v.location).toMatch(new RegExp(`^/${path}/whep/[0-9a-f-]{36}$`));
      expect(v.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/);
      expect(v.headers.get('link')).toContain('rel="ice-server"');
      expect(v.answer).toMatch(/a=rtpmap:\d+ H264\/90000/);
      expect(v.answer).toContain('profile-level-id=42e01f');
      expect(v.answer).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
      expect(v.answer).toMatch(/a=candidate:.* 127\.0\.0\.1 /);
      await v.connected;
      await until(() => v.received.video > 30 && v.received.audio > 10, 15_000, 'media');
      const health = (await (await fetch(`${t.http}/health`)).json()) as {
        paths: { path: string; viewers: number; video: { width: number } }[];
      };
      const p = health.paths.find((x) => x.path === path)!;
      expect(p.viewers).toBe(1);
      expect(p.video.width).toBe(640);

      const session = `${t.http}${v.location}`;
      const auth = { Authorization: `Bearer ${read}` };
      const frag =
        'a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n';
      const patchOk = await fetch(session, {
        method: 'PATCH',
        headers: {
          ...auth,
          'Content-Type': 'application/trickle-ice-sdpfrag',
          'If-Match': v.headers.get('etag')!,
        },
        body: frag,
      });
      expect(patchOk.status).toBe(204);
      const patchBadEtag = await fetch(session, {
        method: 'PATCH',
        headers: { ...auth, 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '"nope"' },
        body: frag,
      });
      expect(patchBadEtag.status).toBe(412);
      const patchUnknown = await fetch(`${t.http}/${path}/whep/00000000-0000-0000-0000-000000000000`, {
        method: 'PATCH',
        headers: { ...auth, 'Content-Type': 'application/trickle-ice-sdpfrag' },
        body: frag,
      });
      expect(patchUnknown.status).toBe(404);
      expect((await fetch(session, { method: 'DELETE', headers: auth })).status).toBe(200);
      expect((await fetch(session, { method: 'DELETE', headers: auth })).status).toBe(404);
      await until(() => t.node.whep.viewers(path) === 0, 5000, 'the session to end');
    } finally {
      await v.close();
    }
  });

  it('rejects a malformed offer (400) and a wrong content type (415)', async () => {
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${read}` },
      body: 'this is not sdp',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_SDP');
    const pc = await makeOffer();
    const wrong = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${read}` },
      body: pc.localDescription!.sdp,
    });
    await pc.close();
    expect(wrong.status).toBe(415);
  });

  it('keeps viewers connected while the publisher drops and returns; media resumes with later timestamps', async () => {
    const v = await whepView(url, read);
    try {
      expect(v.status).toBe(201);
      await v.connected;
      await until(() => v.received.video > 30, 15_000, 'video');
      await pub!.stop();
      await until(() => t.node.registry.get(path)?.state === 'waiting', 10_000, 'the publisher to leave');
      const before = v.received.video;
      const tsBefore = v.lastVideoTs;
      pub = publishTestPattern({ url: `${t.rtmp}/whep1?token=${publish}`, size: '640x360' });
      await until(() => v.received.video > before + 60, 20_000, 'video after the return');
      expect(v.pc.connectionState).toBe('connected');
      expect((v.lastVideoTs - tsBefore) >>> 0).toBeLessThan(2 ** 31);
      expect(t.node.whep.viewers(path)).toBe(1);
    } finally {
      await v.close();
    }
  });

  it('refuses a second publisher while the first is live', async () => {
    const second = publishTestPattern({ url: `${t.rtmp}/whep1?token=${publish}`, size: '320x240' });
    const code = await second.exited;
    expect(code).not.toBe(0);
    expect(t.node.registry.get(path)?.video?.width).toBe(640);
  });
});
