/**
 * WHIP ingest (draft-ietf-wish-whip) end to end: (a) a werift publisher fed by real ffmpeg
 * (libx264 baseline + libopus over RTP) publishes to a real node, a werift WHEP viewer receives
 * its video and audio, a second publisher is refused like RTMP's (409 PATH_BUSY), DELETE ends
 * the publish; (b) Chromium shares a (stubbed) screen and microphone from a page using the
 * console's WHIP module, and the real watch page in another context shows it moving and hears it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, launchBrowserPool, type TestBrowserPool } from './helpers/chromium.ts';
import { startTestNode, TEST_ADMIN_PASSWORD, type TestNode } from './helpers/node.ts';
import { REPO_ROOT } from './helpers/server.ts';
import { until, whepView, type WeriftViewer } from './helpers/werift-viewer.ts';
import { postOffer, whipOffer, whipPublish, type WhipClient } from './helpers/whip-client.ts';

/** Screenshots of the console while sharing and of the student's page (looked at by hand). */
const SHOTS = join(REPO_ROOT, 'test-artifacts', 'whip');

describe('WHIP ingest from a werift publisher', () => {
  let t: TestNode;
  const path = 'live/whip1';
  let url: string;
  let publish: string;
  let read: string;
  let pub: WhipClient | undefined;
  let viewer: WeriftViewer | undefined;

  beforeAll(async () => {
    t = await startTestNode();
    url = `${t.http}/${path}/whip`;
    publish = await t.token('teacher', path, ['publish']);
    read = await t.token('student', path, ['read']);
  });
  afterAll(async () => {
    await viewer?.close();
    await pub?.close();
    await t?.stop();
  });

  it('answers OPTIONS with Accept-Post: application/sdp', async () => {
    const res = await fetch(url, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('accept-post')).toBe('application/sdp');
  });

  it('refuses bad requests with stable codes (401, 403, 415, 400, 406, 413)', async () => {
    const { pc, ...rest } = await whipOffer();
    void rest;
    const offer = pc.localDescription!.sdp;
    await pc.close();
    const code = (p: { body: string }) => (JSON.parse(p.body) as { error: { code: string } }).error.code;
    const noToken = await postOffer(url, offer);
    expect([noToken.status, code(noToken)]).toEqual([401, 'TOKEN_MISSING']);
    const readOnly = await postOffer(url, offer, read);
    expect([readOnly.status, code(readOnly)]).toEqual([403, 'TOKEN_SCOPE']);
    const other = await postOffer(`${t.http}/live/other/whip`, offer, publish);
    expect(other.status).toBe(403);
    const text = await postOffer(url, offer, publish, 'text/plain');
    expect([text.status, code(text)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const garbage = await postOffer(url, 'hello', publish);
    expect([garbage.status, code(garbage)]).toEqual([400, 'BAD_SDP']);
    const vp8 = await whipOffer({ video: 'vp8' });
    const vp8Post = await postOffer(url, vp8.pc.localDescription!.sdp, publish);
    await vp8.pc.close();
    expect([vp8Post.status, code(vp8Post)]).toEqual([406, 'CODEC_UNSUPPORTED']);
    expect(code(vp8Post) && JSON.parse(vp8Post.body).error.message).toMatch(/H\.264.*VP8/);
    const huge = await postOffer(url, offer + 'a=x-pad:' + 'x'.repeat(70_000) + '\r\n', publish);
    expect([huge.status, code(huge)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(t.node.registry.get(path)?.state ?? 'idle').toBe('idle');
  });

  it('publishes H.264 + Opus: 201 with answer, Location, ETag; a WHEP viewer gets video and audio', async () => {
    pub = await whipPublish(url, publish);
    expect(pub.post.status).toBe(201);
    expect(pub.post.headers.get('content-type')).toMatch(/^application\/sdp/);
    expect(pub.post.headers.get('location')).toMatch(new RegExp(`^/${path}/whip/[0-9a-f-]{36}$`));
    expect(pub.post.headers.get('etag')).toMatch(/^"[0-9a-f]+"$/);
    // One H.264 format (mode 1) and Opus in the answer, nothing else.
    expect(pub.post.body.match(/a=rtpmap:\d+ H264\/90000/g)).toHaveLength(1);
    expect(pub.post.body).toContain('packetization-mode=1');
    expect(pub.post.body).toMatch(/a=rtpmap:\d+ opus\/48000\/2/);
    expect(pub.post.body).toMatch(/a=recvonly/);
    await pub.connected;
    pub.startMedia({ size: '640x360' });
    const stream = () => t.node.registry.get(path);
    await until(() => stream()?.state === 'live' && stream()?.video !== undefined, 20_000, 'video track');
    await until(() => stream()?.audio !== undefined, 10_000, 'audio track');
    expect(stream()!.publisher?.protocol).toBe('whip');
    expect(stream()!.video).toMatchObject({ width: 640, height: 360 });
    // Opus as published: no transcoder output, the viewers get the browser's own packets.
    expect(stream()!.audio?.codec).toBe('opus');
    expect(stream()!.opus).toBeUndefined();

    viewer = await whepView(`${t.http}/${path}/whep`, read);
    expect(viewer.status).toBe(201);
    await viewer.connected;
    await until(
      () => viewer!.received.video > 60 && viewer!.received.audio > 25,
      20_000,
      'media at the viewer',
    );
    const frames = stream()!.stats.videoFrames;
    await until(() => stream()!.stats.videoFrames > frames + 15, 10_000, 'more frames');
    // The server asks the publisher for keyframes (at the start and periodically).
    await until(() => pub!.plis() > 0, 10_000, 'a PLI');
  });

  it('refuses a second publisher on the live path with 409 PATH_BUSY, as RTMP does', async () => {
    const second = await whipPublish(url, publish);
    try {
      expect(second.post.status).toBe(409);
      expect(JSON.parse(second.post.body).error.code).toBe('PATH_BUSY');
    } finally {
      await second.close();
    }
    expect(t.node.registry.get(path)?.publisher?.protocol).toBe('whip');
  });

  it('takes trickled candidates (204) with the session credential only; DELETE ends the publish', async () => {
    const session = pub!.sessionUrl!;
    const frag = 'a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n';
    const patch = (token: string | undefined, type = 'application/trickle-ice-sdpfrag') =>
      fetch(session, {
        method: 'PATCH',
        headers: { 'Content-Type': type, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: frag,
      });
    expect((await patch(publish)).status).toBe(204);
    expect((await patch(publish, 'application/sdp')).status).toBe(415);
    expect((await patch(read)).status).toBe(401);
    expect(
      (await fetch(session, { method: 'DELETE', headers: { Authorization: `Bearer ${read}` } })).status,
    ).toBe(401);
    expect(await pub!.del()).toBe(200);
    // A publisher drop: the viewers wait for a return (the registry's grace period).
    await until(() => t.node.registry.get(path)?.state === 'waiting', 5000, 'publisher gone');
    expect(await pub!.del()).toBe(404);
  });

  it("publishes with the class's stream key (the lesson starts), records Opus, and a key rotation cuts it off", async () => {
    const api = async <T>(method: string, p: string, body?: unknown, token?: string): Promise<T> => {
      const res = await fetch(`${t.http}${p}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as T;
    };
    const admin = await api<{ token: string }>('POST', '/api/auth/login', {
      email: 'admin@airclass.local',
      password: TEST_ADMIN_PASSWORD,
    });
    type Cls = { id: string; status: string; rtmp: { streamKey: string } };
    const c = await api<Cls>('POST', '/api/classes', { title: 'WHIP class' }, admin.token);
    const classPath = `live/${c.id}`;
    const wrong = await postOffer(
      `${t.http}/live/other/whip`,
      (await whipOffer()).pc.localDescription!.sdp,
      c.rtmp.streamKey,
    );
    expect(wrong.status).toBe(403);
    const keyed = await whipPublish(`${t.http}/${classPath}/whip`, c.rtmp.streamKey);
    try {
      expect(keyed.post.status).toBe(201);
      await keyed.connected;
      keyed.startMedia({ size: '320x240' });
      await until(() => t.node.registry.get(classPath)?.video !== undefined, 20_000, 'the class stream');
      expect((await api<Cls>('GET', `/api/classes/${c.id}`, undefined, admin.token)).status).toBe('live');
      // The recording is remuxed as published: H.264 and the browser's Opus (no transcode).
      const root = join(t.node.config.dataDir, 'recordings');
      let playlist = '';
      await until(
        () => {
          for (const d of existsSync(root) ? readdirSync(root) : []) {
            const f = join(root, d, 'index.m3u8');
            if (existsSync(f) && readdirSync(join(root, d)).some((n) => n.endsWith('.m4s'))) playlist = f;
          }
          return playlist !== '';
        },
        20_000,
        'a recorded segment',
      );
      const { stdout } = await promisify(execFile)('ffprobe', [
        ...['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', playlist],
      ]);
      expect([...new Set(stdout.split(/\s+/).filter(Boolean))].sort()).toEqual(['h264', 'opus']);
      // Rotating the key disconnects the publisher that used it, as for RTMP.
      await api('POST', `/api/classes/${c.id}/stream-key`, undefined, admin.token);
      await until(() => t.node.registry.get(classPath)?.state !== 'live', 5000, 'the key publisher to go');
      expect(await keyed.del()).toBe(404);
    } finally {
      await keyed.close();
    }
  });
});

describe('screen sharing from Chromium (the console’s WHIP module), watched on the real watch page', () => {
  let t: TestNode;
  let pool: TestBrowserPool;
  const TEACHER = { email: 'share@school.test', name: 'Teacher', password: 'share-teacher-pass' };
  const WAIT = { timeout: 30_000 };

  beforeAll(async () => {
    t = await startTestNode();
    const login = await fetch(`${t.http}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@airclass.local', password: TEST_ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const made = await fetch(`${t.http}/api/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(TEACHER),
    });
    expect(made.status).toBe(201);
    pool = await launchBrowserPool({ onConsole: (l) => process.env.WHIP_E2E_DEBUG && console.log(l) });
  }, 120_000);
  afterAll(async () => {
    await pool?.close();
    await t?.stop();
  });

  it('the teacher shares a (stubbed) screen and microphone; a student sees it move and hears it; stop ends it', async () => {
    const teacherCtx = await pool.newContext();
    // The screen: an animated canvas; the microphone: a 440 Hz oscillator. Same APIs, no picker.
    await teacherCtx.addInitScript(() => {
      const md = navigator.mediaDevices;
      md.getDisplayMedia = async () => {
        const c = document.createElement('canvas');
        c.width = 640;
        c.height = 360;
        c.style.cssText = 'position:fixed;left:0;top:0;width:4px;height:4px';
        document.body.append(c);
        const g = c.getContext('2d')!;
        let n = 0;
        setInterval(() => {
          g.fillStyle = `hsl(${(n * 9) % 360} 70% 45%)`;
          g.fillRect(0, 0, 640, 360);
          g.fillStyle = '#fff';
          g.font = '64px sans-serif';
          g.fillText(`slide ${n++}`, 40, 120);
        }, 40);
        return c.captureStream(25);
      };
      md.getUserMedia = async () => {
        const ac = new AudioContext();
        const osc = ac.createOscillator();
        osc.frequency.value = 440;
        const dest = ac.createMediaStreamDestination();
        osc.connect(dest);
        osc.start();
        return dest.stream;
      };
    });
    const teacher = await teacherCtx.newPage();
    await teacher.goto(`${t.http}/login?lang=en`);
    await teacher.fill('#email', TEACHER.email);
    await teacher.fill('#password', TEACHER.password);
    await teacher.click('#submit');
    await teacher.waitForURL(/\/console/, WAIT);
    await teacher.fill('#new-title', 'Screen share class');
    await teacher.click('#create-class');
    await teacher.waitForSelector('#share-start:not([disabled])', WAIT);
    expect(await teacher.textContent('#screen-share')).toContain('Share screen');
    await teacher.click('#share-start');
    await teacher.waitForSelector('#share-state[data-state="sharing"]', WAIT);
    // Sharing started the lesson: the join code works.
    await teacher.waitForSelector('#class-status[data-status="live"]', WAIT);
    const code = (await teacher.getAttribute('#join-code', 'data-code')) ?? '';
    const classId = (await teacher.getAttribute('.class-page', 'data-class-id')) ?? '';
    await until(
      () => t.node.registry.get(`live/${classId}`)?.video !== undefined,
      20_000,
      'the shared video',
    );
    expect(t.node.registry.get(`live/${classId}`)!.publisher?.protocol).toBe('whip');
    expect(t.node.registry.get(`live/${classId}`)!.audio?.codec).toBe('opus');

    const studentCtx = await pool.newContext();
    const student = await studentCtx.newPage();
    await student.goto(`${t.http}/join?code=${code}`);
    await student.fill('#name', 'Mina');
    await student.click('#submit');
    await student.waitForURL(/\/watch\/live\//, WAIT);
    await student.waitForFunction(
      () => window.airclass?.state === 'live' && window.airclass.videoSize().width === 640,
      null,
      WAIT,
    );
    const frames = await student.evaluate(() => window.airclass!.framesDecoded());
    await student.waitForFunction((n) => window.airclass!.framesDecoded() > n + 20, frames, WAIT);
    await student.waitForFunction(() => window.airclass!.audioLevel() > 0.01, null, WAIT);
    // Regression (seen in these screenshots): at 1280 px the QR covered the join code's last
    // digits, and a card's header buttons ran past its edge.
    const layout = await teacher.evaluate(() => {
      const box = (e: Element | null) => e?.getBoundingClientRect();
      const code = box(document.querySelector('#join-code'))!;
      const qr = box(document.querySelector('#join .qr'))!;
      const overlap =
        code.right > qr.left && code.left < qr.right && code.bottom > qr.top && code.top < qr.bottom;
      const spill = Array.from(document.querySelectorAll('.card')).flatMap((card) => {
        const c = card.getBoundingClientRect();
        return Array.from(card.querySelectorAll('.card-head button, .card-head .btn'))
          .filter((b) => b.getBoundingClientRect().right > c.right + 1)
          .map((b) => `${card.id}: ${b.textContent}`);
      });
      return {
        overlap,
        spill,
        codeWidth: code.width,
        codeScroll: document.querySelector('#join-code')!.scrollWidth,
      };
    });
    expect(layout.overlap, 'the QR covers the join code').toBe(false);
    expect(layout.codeScroll, 'the join code is cut').toBeLessThanOrEqual(Math.ceil(layout.codeWidth) + 1);
    expect(layout.spill, 'header buttons past their card').toEqual([]);
    mkdirSync(SHOTS, { recursive: true });
    await teacher.screenshot({ path: join(SHOTS, 'console-sharing.png'), fullPage: true });
    await student.screenshot({ path: join(SHOTS, 'student-watching.png') });

    await teacher.click('#share-stop');
    await teacher.waitForSelector('#share-state[data-state="stopped"]', WAIT);
    await until(
      () => t.node.registry.get(`live/${classId}`)?.state === 'waiting',
      10_000,
      'the publish to end',
    );
    await Promise.all([teacherCtx.close(), studentCtx.close()]);
  }, 180_000);

  it('explains in Korean why sharing is off on a page that is not secure (plain http, not localhost)', async () => {
    // school.test → 127.0.0.1: the same server, but http on a LAN name is no secure context.
    const b = await launchBrowser({
      args: ['--host-resolver-rules=MAP school.test 127.0.0.1'],
      locale: 'ko-KR',
    });
    try {
      const page = await b.newPage();
      const origin = t.http.replace('127.0.0.1', 'school.test');
      await page.goto(`${origin}/login`);
      await page.fill('#email', TEACHER.email);
      await page.fill('#password', TEACHER.password);
      await page.click('#submit');
      await page.waitForURL(/\/console/, WAIT);
      await page.fill('#new-title', '보안 확인');
      await page.click('#create-class');
      const note = page.locator('#share-unavailable[data-reason="insecure"]');
      await note.waitFor(WAIT);
      expect(await note.textContent()).toMatch(/보안 연결.*https/);
      expect(await page.isDisabled('#share-start')).toBe(true);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'console-insecure-ko.png'), fullPage: true });
    } finally {
      await b.close();
    }
  }, 90_000);
});
