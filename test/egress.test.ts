import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { NODE_BIN, REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';
import { makeOffer, until, whepView, type WeriftViewer } from './helpers/werift-viewer.ts';

/**
 * The node-datachannel egress against a real server process, a real ffmpeg publisher and
 * werift viewers: one UDP port for every viewer, NACKs answered behind a lossy link, a
 * killed viewer dropped, fair joins, trickle errors.
 */

/** Local ports of the UDP sockets a process holds (from /proc). */
function udpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ['udp', 'udp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

interface Health {
  viewers: number;
  webrtc: { udpPort: number; joins: { inFlight: number; queued: number } };
}

describe('WebRTC egress (node-datachannel)', () => {
  let server: TestServer;
  let pub: Publisher;
  let pub2: Publisher;
  const viewers: WeriftViewer[] = [];
  const health = async (): Promise<Health> =>
    (await (await fetch(`${server.httpUrl}/health`)).json()) as Health;
  const url = (name: string): string => `${server.httpUrl}/live/${name}/whep`;

  beforeAll(async () => {
    server = await startServer({ env: { AIRCLASS_MAX_PENDING_PER_TOKEN: '2' } });
    const [p1, p2] = await Promise.all([
      server.token('teacher', 'live/eg1', 'publish'),
      server.token('teacher', 'live/eg2', 'publish'),
    ]);
    pub = publishTestPattern({
      url: `${server.rtmpUrl}/live/eg1?token=${p1}`,
      size: '640x360',
      bitrate: '1M',
    });
    pub2 = publishTestPattern({
      url: `${server.rtmpUrl}/live/eg2?token=${p2}`,
      size: '640x360',
      bitrate: '1M',
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const h = (await (await fetch(`${server.httpUrl}/health`)).json()) as {
        paths: { path: string; state: string; video: unknown }[];
      };
      const live = h.paths.filter((p) => p.state === 'live' && p.video);
      if (live.length === 2) break;
      if (Date.now() > deadline) throw new Error('publishers not live');
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 60_000);
  afterAll(async () => {
    for (const v of viewers) await v.close().catch(() => undefined);
    await pub?.stop();
    await pub2?.stop();
    await server?.stop();
  });

  it('serves every viewer on one UDP port', async () => {
    const token = await server.token('student', 'live/eg1', 'read');
    const before = udpPorts(server.proc.pid!);
    const { webrtc } = await health();
    expect(before).toContain(webrtc.udpPort);
    // One student's tab after another (a token may have two joins pending at once).
    for (let i = 0; i < 5; i++) {
      const v = await whepView(url('eg1'), token);
      viewers.push(v);
      await v.connected;
    }
    expect(viewers.map((v) => v.status)).toEqual([201, 201, 201, 201, 201]);
    await Promise.all(viewers.map((v) => v.connected));
    await until(() => viewers.every((v) => v.received.video > 20 && v.received.audio > 0), 15_000, 'media');
    for (const v of viewers) {
      const ports = new Set(
        [...v.answer.matchAll(/^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/gim)].map((m) => Number(m[1])),
      );
      expect([...ports]).toEqual([webrtc.udpPort]);
    }
    // Five viewers later the server holds no more UDP sockets than before (werift took one each).
    expect(udpPorts(server.proc.pid!).length).toBe(before.length);
    expect((await health()).viewers).toBe(5);
  });

  it('sends sender reports for both tracks from one clock, mapping RTP time to now', async () => {
    const v = await whepView(url('eg1'), await server.token('student', 'live/eg1', 'read'));
    viewers.push(v);
    await v.connected;
    const last = new Map<string, { ts: number; at: number }>();
    const srs = new Map<string, { ntpMs: number; rtp: number; at: number }>();
    for (const t of v.pc.getTransceivers()) {
      const kind = t.kind;
      t.receiver.onRtcp.subscribe((p) => {
        if (p.type !== 200) return;
        const sr = p as unknown as { senderInfo: { ntpTimestamp: bigint; rtpTimestamp: number } };
        const ntp = Number(sr.senderInfo.ntpTimestamp);
        const ntpMs = (Math.floor(ntp / 2 ** 32) - 2_208_988_800) * 1000 + ((ntp % 2 ** 32) / 2 ** 32) * 1000;
        srs.set(kind, { ntpMs, rtp: sr.senderInfo.rtpTimestamp, at: Date.now() });
      });
      t.receiver.tracks.forEach((tr) =>
        tr.onReceiveRtp.subscribe((rtp) => last.set(kind, { ts: rtp.header.timestamp, at: Date.now() })),
      );
    }
    await until(
      () => srs.has('video') && srs.has('audio') && last.has('video') && last.has('audio'),
      10_000,
      'two sender reports',
    );
    await new Promise((r) => setTimeout(r, 1200));
    for (const [kind, rate] of [
      ['video', 90],
      ['audio', 48],
    ] as const) {
      const sr = srs.get(kind)!;
      const pkt = last.get(kind)!;
      // The sender report's wall clock is this machine's, now-ish.
      expect(Math.abs(sr.ntpMs - sr.at)).toBeLessThan(1000);
      // Its RTP time maps the last packet to when it was captured: shortly before it arrived.
      const d = ((pkt.ts - sr.rtp) | 0) / rate;
      const delay = pkt.at - (sr.ntpMs + d);
      console.log(`${kind}: packet arrived ${delay.toFixed(1)} ms after its media time`);
      expect(delay).toBeGreaterThan(-100);
      expect(delay).toBeLessThan(500);
    }
  });

  it('drops a killed viewer (no DELETE) within 6 s, from its missing RTCP', async () => {
    const token = await server.token('student', 'live/eg2', 'read');
    const child = spawn(NODE_BIN, ['test/helpers/viewer-process.ts', url('eg2'), token], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => out.includes('receiving'), 20_000, 'the viewer process receiving');
    const n = (await health()).viewers;
    child.kill('SIGKILL');
    const killedAt = Date.now();
    for (;;) {
      if ((await health()).viewers === n - 1) break;
      if (Date.now() - killedAt > 6_500)
        throw new Error(`the killed viewer was still served after ${Date.now() - killedAt} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`killed viewer dropped after ${Date.now() - killedAt} ms`);
  });

  // Retried: about one run in seven, a block of ~18 consecutive packets of the GOP burst a new
  // viewer gets never reaches the werift viewer (none dropped by the relay) and its NACKs bring
  // none back, while every later loss is recovered (seen in issue 9, not yet explained; a
  // Chromium viewer recovers such a start by PLI). Three runs in a row failing is a failure.
  it(
    'keeps a whole picture behind a 2 % lossy link: NACKs are answered from the stream buffer',
    { retry: 2 },
    async () => {
      const token = await server.token('student', 'live/eg1', 'read');
      const { webrtc } = await health();
      // A UDP relay between the viewer and the server that drops 2 % of the server's RTP.
      const relay = dgram.createSocket('udp4');
      const upstream = dgram.createSocket('udp4');
      await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
      let client: { address: string; port: number } | undefined;
      let dropped = 0;
      let forwarded = 0;
      relay.on('message', (m, rinfo) => {
        client = { address: rinfo.address, port: rinfo.port };
        upstream.send(m, webrtc.udpPort, '127.0.0.1');
      });
      upstream.on('message', (m) => {
        if (!client) return;
        const rtp = m.length > 12 && m[0]! >= 128 && m[0]! <= 191 && (m[1]! < 192 || m[1]! > 223);
        if (rtp && Math.random() < 0.02) {
          dropped++;
          return;
        }
        forwarded++;
        relay.send(m, client.port, client.address);
      });
      const pc = await makeOffer();
      const res = await fetch(url('eg1'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        // Without the viewer's own candidates: the server learns its address from the relay only.
        body: pc.localDescription!.sdp.replace(/^a=candidate:.*\r?\n/gm, ''),
      });
      expect(res.status).toBe(201);
      let answer = await res.text();
      answer = answer.replace(/^a=candidate:.*\r?\n/gm, '');
      answer = answer.replace(
        /^(m=video .*\r?\n)/m,
        `$1a=candidate:1 1 UDP 2114977791 127.0.0.1 ${relay.address().port} typ host\r\n`,
      );
      const seqs = new Set<number>();
      let first = -1;
      let last = -1;
      pc.onTrack.subscribe((t) => {
        if (t.kind !== 'video') return;
        t.onReceiveRtp.subscribe((rtp) => {
          const s = rtp.header.sequenceNumber;
          if (first < 0) first = s;
          seqs.add(s);
          last = s;
        });
      });
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      try {
        await until(() => seqs.size > 600, 30_000, '600 video packets through the lossy relay');
        const lastSeen = last;
        const missingNow = (): number => {
          let n = 0;
          for (let s = first; s !== lastSeen; s = (s + 1) & 0xffff) if (!seqs.has(s)) n++;
          return n;
        };
        // Retransmissions of the last losses (a NACK, or its retransmission, may itself be lost
        // and asked again; on a loaded machine that takes a few round trips).
        for (let waited = 0; missingNow() > 0 && waited < 6000; waited += 250) {
          await new Promise((r) => setTimeout(r, 250));
        }
        const missing = missingNow();
        console.log(
          `lossy relay: ${dropped} RTP dropped, ${forwarded} forwarded, ${missing} never recovered`,
        );
        expect(dropped).toBeGreaterThan(5);
        expect(missing).toBe(0);
      } finally {
        await pc.close();
        relay.close();
        upstream.close();
      }
    },
  );

  it("a token holding its share of pending sessions does not block another class's viewer", async () => {
    const greedy = await server.token('student', 'live/eg1', 'read');
    // Two offers that never complete ICE: the token's share of pending joins.
    const stuck = await Promise.all([makeOffer(), makeOffer()]);
    const post = (sdp: string, token: string, name: string): Promise<Response> =>
      fetch(url(name), {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        body: sdp,
      });
    for (const pc of stuck) expect((await post(pc.localDescription!.sdp, greedy, 'eg1')).status).toBe(201);
    const third = await makeOffer();
    const refused = await post(third.localDescription!.sdp, greedy, 'eg1');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('CAPACITY');
    // Another class's student joins and plays meanwhile.
    const other = await whepView(url('eg2'), await server.token('student', 'live/eg2', 'read'));
    viewers.push(other);
    expect(other.status).toBe(201);
    await other.connected;
    await until(() => other.received.video > 20, 15_000, "the other class's video");
    for (const pc of [...stuck, third]) await pc.close();
  });

  it('answers a malformed trickle candidate with 400 BAD_CANDIDATE, a good one with 204', async () => {
    const token = await server.token('student', 'live/eg1', 'read');
    const v = await whepView(url('eg1'), token);
    viewers.push(v);
    expect(v.status).toBe(201);
    const patch = (body: string): Promise<Response> =>
      fetch(`${server.httpUrl}${v.location}`, {
        method: 'PATCH',
        headers: {
          'Content-Type': 'application/trickle-ice-sdpfrag',
          Authorization: `Bearer ${token}`,
          'If-Match': '*',
        },
        body,
      });
    const bad = await patch('a=mid:0\r\na=candidate:garbage here\r\n');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_CANDIDATE');
    const good = await patch(
      'a=mid:0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n',
    );
    expect(good.status).toBe(204);
    // The server is unharmed: the session still plays.
    await v.connected;
    await until(() => v.received.video > 20, 15_000, 'video after the bad PATCH');
  });
});
