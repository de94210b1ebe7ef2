/**
 * TURN: a real coturn, run with the turnserver.conf that `airclass turn-config` prints (the test
 * only moves it to free ports on 127.0.0.1), a real `airclass start` with turnUrls + turnSecret,
 * real ffmpeg, and Chromium that may only use relayed candidates (iceTransportPolicy 'relay',
 * forced by an init script): the page must play — frames advance, the tone is heard — over a
 * relay candidate, and coturn logs the viewer's time-limited username. A viewer with no UDP at
 * all plays over TURN TCP (through the node's TURN shim, libjuice#355, see that test). A node
 * with the wrong secret: coturn answers 401 and the page never connects over WebRTC.
 *
 * Also, in process: the join answer's iceServers and the WHEP OPTIONS Link headers carry the
 * viewer's credential, and never the secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './helpers/chromium.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { CLI, NODE_BIN, REPO_ROOT, startServer, type TestServer } from './helpers/server.ts';
import { startTestApi, type TestApi } from './helpers/api.ts';
import { turnCredential } from '../src/control/turn/credentials.ts';

const execFileP = promisify(execFile);
const TURNSERVER = process.env.TURNSERVER_PATH ?? '/usr/bin/turnserver';
const WAIT = { timeout: 30_000 };

/** A port free for TCP and UDP on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((done, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => done(p));
      });
    });
    const udpFree = await new Promise<boolean>((done) => {
      const u = createSocket('udp4');
      u.once('error', () => done(false));
      u.bind(port, '127.0.0.1', () => u.close(() => done(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free TCP+UDP port');
}

/** This machine's first non-loopback IPv4 address (the relay's and the node's). */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('this test needs a non-loopback IPv4 address');
}

/** A real coturn on 127.0.0.1, from `airclass turn-config`'s file; its log kept in memory. */
interface Coturn {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

async function startCoturn(dir: string, secret: string): Promise<Coturn> {
  const port = await freePort();
  // The config an operator would install, made by the CLI for this secret.
  const { stdout: conf } = await execFileP(
    NODE_BIN,
    [
      CLI,
      'turn-config',
      '--data-dir',
      join(dir, 'cli-data'),
      '--turn-host',
      '127.0.0.1',
      '--turn-port',
      String(port),
    ],
    { cwd: REPO_ROOT, env: { ...process.env, AIRCLASS_TURN_SECRET: secret }, timeout: 60_000 },
  );
  expect(conf).toContain(`static-auth-secret=${secret}`);
  const file = join(dir, 'turnserver.conf');
  await writeFile(file, conf);
  const logFile = join(dir, `turnserver-${port}.log`);
  const relayBase = 30_000 + Math.floor(Math.random() * 300) * 100;
  const proc: ChildProcess = spawn(
    TURNSERVER,
    [
      '-c',
      file,
      // The test's own: this machine only, free ports, plain TCP/UDP, the node on loopback.
      '--listening-ip=127.0.0.1',
      `--listening-port=${port}`,
      // Relay from this machine's LAN address: a relay on 127.0.0.1 would hear the node answer
      // from 127.0.0.1 even when asked on the LAN address (an artefact of one host), and drop it.
      `--relay-ip=${lanAddress()}`,
      `--min-port=${relayBase}`,
      `--max-port=${relayBase + 99}`,
      '--realm=airclass.test',
      '--no-tls',
      '--no-dtls',
      '--verbose', // session lines: allocations, usernames, 401s
      // A file (coturn's stdout to a pipe is block-buffered), one name (--simple-log).
      `--log-file=${logFile}`,
      '--simple-log',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return out;
    }
  };
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  // Ready when its TCP listener accepts.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = createServer();
      s.once('error', () => done(true)); // in use: coturn has it
      s.listen(port, '127.0.0.1', () => s.close(() => done(false)));
    });
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`coturn did not start:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopping: Promise<void> | undefined;
  return {
    port,
    log,
    stop: () =>
      (stopping ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const killer = setTimeout(() => proc.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killer);
        }
      })()),
  };
}

/**
 * Runs before the page's scripts: every RTCPeerConnection may use relayed candidates only,
 * and the page's connections are kept for getStats. (The player's setConfiguration must keep
 * the policy: it passes the rest of the configuration on.)
 */
const RELAY_ONLY = `(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  class RelayOnly extends Native {
    constructor(cfg) {
      super({ ...(cfg || {}), iceTransportPolicy: 'relay' });
      window.__pcs.push(this);
    }
  }
  window.RTCPeerConnection = RelayOnly;
})();`;

/** The selected candidate pair's local candidate of the page's newest connected connection. */
async function selectedLocal(
  page: Page,
): Promise<{ type: string; relayProtocol?: string; policy: string } | null> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    for (const pc of [...pcs].reverse()) {
      if (pc.connectionState !== 'connected') continue;
      const stats: Record<string, unknown>[] = [];
      (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.push(s));
      const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
      const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
      const local = stats.find((s) => s.id === pair?.localCandidateId);
      if (!local) continue;
      return {
        type: String(local.candidateType),
        relayProtocol: local.relayProtocol as string | undefined,
        policy: String(pc.getConfiguration().iceTransportPolicy),
      };
    }
    return null;
  });
}

/** The answer's TURN-shim candidates have priorities below this (type preference 0). */
const SHIM_PRIORITY_MAX = 1 << 16;

/** The priority of the selected pair's remote candidate of the page's newest connected connection. */
async function selectedRemotePriority(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected');
    if (!pc) return NaN;
    const stats: Record<string, unknown>[] = [];
    (await pc.getStats()).forEach((s: Record<string, unknown>) => stats.push(s));
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = stats.find((s) => s.id === transport?.selectedCandidatePairId);
    return Number(stats.find((s) => s.id === pair?.remoteCandidateId)?.priority);
  });
}

/** Waits until the page plays: frames advance and the tone is heard. */
async function waitPlaying(page: Page): Promise<void> {
  await page.waitForFunction(
    () => window.airclass?.state === 'live' && window.airclass.framesDecoded() > 0,
    null,
    WAIT,
  );
  const before = await page.evaluate(() => window.airclass!.framesDecoded());
  await page.waitForFunction((n) => window.airclass!.framesDecoded() > n + 20, before, WAIT);
  // A 440 Hz sine at ffmpeg's default amplitude has an RMS near 0.09; silence is ~0.
  await page.waitForFunction(() => window.airclass!.audioLevel() > 0.01, null, WAIT);
  expect(await page.evaluate(() => window.airclass!.transport ?? 'webrtc')).toBe('webrtc');
}

describe('TURN: viewers that can only use the relay play through coturn', () => {
  const secret = randomBytes(24).toString('hex');
  let dir: string;
  let coturn: Coturn;
  let server: TestServer;
  let browser: TestBrowser;
  const others: { close(): Promise<void> }[] = [];
  const publishers: Publisher[] = [];
  const pages: Page[] = [];

  /** The node's TURN settings: the relay over UDP and over TCP, as `airclass turn-config` suggests. */
  const nodeEnv = (turnSecret: string) => ({
    AIRCLASS_TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp,turn:127.0.0.1:${coturn.port}?transport=tcp`,
    AIRCLASS_TURN_SECRET: turnSecret,
  });

  /** Opens the watch page relay-only; resolves with it and the Link header of its first 201. */
  async function openRelayOnly(
    b: TestBrowser,
    s: TestServer,
    path: string,
    jwt: string,
  ): Promise<{ page: Page; postLink: Promise<string> }> {
    const page = await b.newPage();
    pages.push(page);
    await page.addInitScript(RELAY_ONLY);
    const postLink = page
      .waitForResponse(
        (r) => r.request().method() === 'POST' && r.url().includes(`/${path}/whep`) && r.status() === 201,
        WAIT,
      )
      .then((r) => r.headers().link ?? '');
    postLink.catch(() => {});
    await page.goto(`${s.httpUrl}/watch/${path}?lang=en&jwt=${jwt}`);
    return { page, postLink };
  }

  /** Starts a publisher on `path` of `s` and returns a read token for it. */
  async function live(s: TestServer, path: string): Promise<string> {
    const [pub, read] = await Promise.all([
      s.token('teacher', path, 'publish'),
      s.token('student', path, 'read', '2h'),
    ]);
    publishers.push(publishTestPattern({ url: `${s.rtmpUrl}/${path}?token=${pub}`, size: '640x360' }));
    return read;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airclass-turn-'));
    coturn = await startCoturn(dir, secret);
    [server, browser] = await Promise.all([
      startServer({ env: nodeEnv(secret) }),
      launchBrowser({ onConsole: (l) => process.env.TURN_E2E_DEBUG && console.log(l) }),
    ]);
  }, 150_000);

  afterAll(async () => {
    await Promise.all(pages.map((p) => p.close().catch(() => {})));
    await Promise.all(publishers.map((p) => p.stop()));
    await browser?.close();
    for (const o of others) await o.close();
    await server?.stop();
    await coturn?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('a relay-only viewer plays (frames advance, the tone is heard) over a relay candidate', async () => {
    const read = await live(server, 'live/turn');
    const { page, postLink } = await openRelayOnly(browser, server, 'live/turn', read);
    // The POST answer's Link headers carry this viewer's credential (static servers first, none here).
    expect(await postLink).toMatch(
      /^<turn:127\.0\.0\.1:\d+\?transport=udp>; rel="ice-server"; username="\d+:[^"]+@turn"; credential="[A-Za-z0-9+/=]{28}"; credential-type="password", <turn:127\.0\.0\.1:\d+\?transport=tcp>; rel="ice-server"; /,
    );
    await waitPlaying(page);
    expect(await selectedLocal(page)).toMatchObject({ type: 'relay', policy: 'relay' });
    // Over TURN UDP the normal candidate works: the TURN shim's lowest-priority one is not used.
    expect(await selectedRemotePriority(page)).toBeGreaterThan(SHIM_PRIORITY_MAX);

    // coturn saw this viewer's time-limited username (<expiry>:<viewer>@<class>) and relayed.
    const log = coturn.log();
    expect(log).toMatch(/user <\d{10,}:student-[^>]*@turn>: incoming packet ALLOCATE processed, success/);
    expect(log).toMatch(
      /user <\d{10,}:student-[^>]*@turn>: incoming packet CREATE_PERMISSION processed, success/,
    );
    // The node never logs the secret.
    expect(server.logTail()).not.toContain(secret);
  });

  // Over TURN *TCP* Chromium 156 sends its connectivity checks with ICE-CONTROLLING = 0, and
  // libjuice (node-datachannel 0.33.4) answers every such check 400 ("Controlling and controlled
  // attributes mismatch": 0 == absent, libjuice#355), so checks to the normal candidate fail.
  // The node's TURN shim (stun-shim.ts: a second UDP port, announced as the lowest-priority
  // candidate) sets the tiebreaker to 1 and signs the check again: the viewer plays through it.
  it('a viewer whose UDP is blocked (no UDP at all) plays over TURN TCP', async () => {
    const noUdp = await launchBrowser({
      prefs: { webrtc: { ip_handling_policy: 'disable_non_proxied_udp' } },
      onConsole: (l) => process.env.TURN_E2E_DEBUG && console.log(l),
    });
    others.push(noUdp);
    const read = await live(server, 'live/tcp');
    const { page } = await openRelayOnly(noUdp, server, 'live/tcp', read);
    // The credential is good: coturn allocates for this viewer over TCP.
    await expect
      .poll(
        () => /user <\d+:student-[^>]*@tcp>: incoming packet ALLOCATE processed, success/.test(coturn.log()),
        {
          timeout: 20_000,
        },
      )
      .toBe(true);
    await waitPlaying(page);
    expect(await selectedLocal(page)).toEqual({ type: 'relay', relayProtocol: 'tcp', policy: 'relay' });
    // Through the TURN shim: the selected remote candidate is one of its lowest-priority ones.
    expect(await selectedRemotePriority(page)).toBeLessThan(SHIM_PRIORITY_MAX);
  }, 90_000);

  it('with the wrong secret on the node, coturn refuses (401) and the page never connects over WebRTC', async () => {
    const wrong = await startServer({ env: nodeEnv(randomBytes(24).toString('hex')) });
    others.push({ close: () => wrong.stop() });
    const read = await live(wrong, 'live/wrong');
    const { page, postLink } = await openRelayOnly(browser, wrong, 'live/wrong', read);
    // A 201 from the node with a credential coturn cannot verify: it answers 401 to that user.
    expect(await postLink).toContain('@wrong"');
    await expect
      .poll(
        () =>
          /user <\d+:student-[^>]*@wrong>: incoming packet message processed, error 401: Unauthorized/.test(
            coturn.log(),
          ),
        { timeout: 20_000 },
      )
      .toBe(true);
    expect(coturn.log()).not.toMatch(/user <\d+:[^>]*@wrong>: incoming packet ALLOCATE processed, success/);
    await page.waitForTimeout(3000);
    expect(await selectedLocal(page)).toBeNull();
    expect(await page.evaluate(() => window.airclass!.connectedAt)).toBeNull();
  }, 90_000);
});

describe('TURN credentials in the join answer and the WHEP Link headers', () => {
  const secret = randomBytes(24).toString('hex');
  const url = 'turn:turn.class.test:3478?transport=tcp';
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi({
      turnUrls: [url],
      turnSecret: secret,
      turnTtl: '1h',
      iceServers: [{ urls: 'stun:stun.class.test:3478' }],
    });
  });
  afterAll(() => t?.close());

  it('gives each student its own credential: join answer, OPTIONS with the token', async () => {
    const teacher = await t.user('teacher');
    const c = await t.createClass(await t.session(teacher), 'TURN class');
    const res = await t.call({
      method: 'POST',
      url: '/api/join',
      payload: { code: c.joinCode, name: '민지' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(secret);
    const joined = res.json() as {
      token: string;
      participantId: string;
      iceServers: { urls: string | string[]; username?: string; credential?: string }[];
    };
    expect(joined.iceServers[0]).toEqual({ urls: 'stun:stun.class.test:3478' });
    const turn = joined.iceServers[1]!;
    expect(turn.urls).toEqual([url]);
    const [expiry, id] = turn.username!.split(/:(.*)/s);
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(3500);
    expect(Number(expiry) - Date.now() / 1000).toBeLessThanOrEqual(3600);
    expect(id).toBe(`${joined.participantId}@${c.id}`);
    expect(turn.credential).toBe(turnCredential(secret, turn.username!));

    // OPTIONS with the student's token (the player asks before its first offer): the same kind.
    const opts = await t.call({ method: 'OPTIONS', url: `/live/${c.id}/whep`, token: joined.token });
    expect(opts.statusCode).toBe(204);
    const links = ([] as string[]).concat(opts.headers.link as string | string[]);
    expect(links[0]).toBe('<stun:stun.class.test:3478>; rel="ice-server"');
    expect(links[1]).toMatch(
      new RegExp(
        `^<${url.replace(/[?.]/g, '\\$&')}>; rel="ice-server"; username="\\d+:${joined.participantId}@${c.id}"; credential="[A-Za-z0-9+/=]{28}"; credential-type="password"$`,
      ),
    );
    expect(JSON.stringify(opts.headers)).not.toContain(secret);

    // Without a token (a CORS preflight) or with a bad one: the static servers only.
    for (const token of [undefined, 'not-a-token']) {
      const o = await t.call({ method: 'OPTIONS', url: `/live/${c.id}/whep`, ...(token ? { token } : {}) });
      expect(o.statusCode).toBe(204);
      expect(([] as string[]).concat(o.headers.link as string | string[])).toEqual([
        '<stun:stun.class.test:3478>; rel="ice-server"',
      ]);
    }
  });
});
