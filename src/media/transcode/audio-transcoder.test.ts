import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamRegistry } from '../stream/registry.ts';
import type { AccessUnit } from '../stream/types.ts';
import { AudioTranscoder, type AudioTranscoderStats } from './audio-transcoder.ts';
import { locateFfmpeg, type OpusEncoder } from './ffmpeg-locate.ts';
import {
  alive,
  captureLogger,
  collectOpus,
  makeAac,
  opusVolume,
  play,
  until,
  type AacClip,
} from './test-support.ts';

let clip: AacClip;
let ffmpegPath: string;
let cleanup: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  const found = await locateFfmpeg();
  if (!found.ok) throw new Error(found.reason);
  ffmpegPath = found.path;
  clip = await makeAac(6);
});

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function setup(opts: { encoder?: OpusEncoder; path?: string; clip?: AacClip } = {}) {
  const registry = new StreamRegistry({ reconnectGraceMs: 2000 });
  const pub = registry.publish('live/t', { id: 'p1', protocol: 'test', remote: 'local' });
  pub.setAudio((opts.clip ?? clip).track);
  const { logger, lines } = captureLogger();
  const t = new AudioTranscoder({
    stream: pub.stream,
    ffmpeg: { path: opts.path ?? ffmpegPath, opusEncoder: opts.encoder ?? 'libopus' },
    logger,
    backoff: { min: 100, max: 1000 },
  });
  const opus = collectOpus(pub);
  cleanup.push(
    () => t.close(),
    () => registry.close(),
  );
  return { pub, t, opus, lines };
}

function steps(aus: AccessUnit[]): number[] {
  return aus.slice(1).map((au, i) => au.pts - aus[i]!.pts);
}

function report(label: string, s: AudioTranscoderStats): void {
  console.log(
    `${label}: ${s.framesIn} AAC frames → ${s.packetsOut} Opus packets; latency (AAC frame written → Opus packet) ` +
      `median ${s.processMs.median.toFixed(2)} ms, p95 ${s.processMs.p95.toFixed(2)} ms; ` +
      `from the packet's first sample: median ${s.delayMs.median.toFixed(2)} ms, p95 ${s.delayMs.p95.toFixed(2)} ms; ` +
      `ffmpeg start → first packet ${s.startupMs?.toFixed(0)} ms`,
  );
}

describe('AudioTranscoder (real ffmpeg)', () => {
  it('turns AAC into audible Opus on the stream timeline in 20 ms steps', async () => {
    const { pub, t, opus } = setup();
    await t.start();
    expect(pub.stream.opus).toEqual({
      kind: 'audio',
      codec: 'opus',
      sampleRate: 48000,
      channels: 2,
      clockRate: 48000,
    });
    await play(pub, clip, { count: 188, pts0: 5000 }); // ≈ 4 s
    await until(() => opus.length >= 198, 3000, 'Opus packets');
    // The stream rebases the first AAC frame to 0; the first Opus packet starts 2.5 ms (pre-skip) before.
    expect(opus[0]!.pts).toBeCloseTo(-2.5, 5);
    expect(new Set(steps(opus))).toEqual(new Set([20]));
    expect(opus.every((au) => au.codec === 'opus' && au.key && au.dts === au.pts)).toBe(true);
    const sizes = opus.map((au) => au.data[0]!.length).sort((a, b) => a - b);
    expect(sizes[sizes.length >> 1]).toBeGreaterThan(60); // silence would be a few bytes
    const volume = await opusVolume(opus.map((au) => au.data[0]!));
    console.log(`decoded Opus: mean ${volume.mean} dB, max ${volume.max} dB (the sine is ≈ −21 dB mean)`);
    expect(volume.mean).toBeGreaterThan(-30);
    report('libopus', t.stats());
  });

  it('restarts a killed ffmpeg and keeps the timeline going', async () => {
    const { pub, t, opus, lines } = setup();
    await t.start();
    await play(pub, clip, { count: 60 });
    await until(() => opus.length > 55, 3000, 'first packets');
    const pid = t.pid!;
    process.kill(pid, 'SIGKILL');
    const before = opus.length;
    await play(pub, clip, { from: 60, count: 120 }); // frames keep coming while it is down
    await until(() => opus.length > before + 60, 3000, 'packets after the restart');
    expect(t.pid).toBeDefined();
    expect(t.pid).not.toBe(pid);
    expect(t.stats().restarts).toBe(1);
    expect(t.stats().droppedFrames).toBeGreaterThan(0);
    const warn = lines.find((l) => l.level === 40 && String(l.msg).includes('exited'));
    expect(warn).toMatchObject({ signal: 'SIGKILL', code: null });
    // Strictly increasing; one jump at the restart (the frames lost while it was down), else 20 ms.
    const d = steps(opus);
    expect(d.every((x) => x > 0)).toBe(true);
    expect(d.filter((x) => x !== 20).length).toBeLessThanOrEqual(1);
    const lastIn = Math.round(179 * clip.frameMs);
    expect(Math.abs(opus.at(-1)!.pts - lastIn)).toBeLessThan(60);
    report('after restart', t.stats());
  });

  it('survives bad AAC frames and keeps the output coming', async () => {
    const { pub, t, opus } = setup();
    await t.start();
    const junk = (k: number, f: Uint8Array): Uint8Array => {
      if (k % 10 === 3) return Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + k) & 0xff);
      if (k % 10 === 5) return new Uint8Array(0);
      if (k === 7) return new Uint8Array(9000);
      return f;
    };
    await play(pub, clip, { count: 120, mutate: junk });
    await until(() => opus.length > 90, 3000, 'Opus packets');
    const s = t.stats();
    expect(s.badFrames).toBeGreaterThanOrEqual(13); // the empty and the oversized ones
    expect(s.restarts).toBe(0);
    expect(steps(opus).every((x) => x > 0)).toBe(true);
    const volume = await opusVolume(opus.slice(-40).map((au) => au.data[0]!));
    expect(volume.mean).toBeGreaterThan(-40);
  });

  it('restarts ffmpeg when the AAC config changes (48 kHz stereo → 44.1 kHz mono)', async () => {
    const mono = await makeAac(2, 44100, 1);
    const { pub, t, opus } = setup();
    await t.start();
    await play(pub, clip, { count: 40 });
    await until(() => opus.length > 35, 3000, 'first packets');
    const pid = t.pid;
    pub.setAudio(mono.track); // e.g. the publisher came back with other settings
    const before = opus.length;
    await play(pub, mono, { count: 60, pts0: 40 * clip.frameMs });
    await until(() => opus.length > before + 55, 3000, 'packets after the change');
    expect(t.pid).not.toBe(pid);
    expect(t.stats().restarts).toBe(0); // not a crash
    expect(steps(opus).every((x) => x > 0)).toBe(true);
    expect((await opusVolume(opus.slice(before + 10).map((au) => au.data[0]!))).mean).toBeGreaterThan(-30);
  });

  it('close() is idempotent: ffmpeg ends, the Opus track is withdrawn', async () => {
    const { pub, t } = setup();
    await t.start();
    await play(pub, clip, { count: 20 });
    const pid = t.pid!;
    expect(alive(pid)).toBe(true);
    await Promise.all([t.close(), t.close()]);
    await t.close();
    expect(alive(pid)).toBe(false);
    expect(pub.stream.opus).toBeUndefined();
    expect(pub.stream.readers.size).toBe(1); // only the test's Opus reader is left
  });

  it('works with the native Opus encoder (-strict -2)', async () => {
    const { pub, t, opus } = setup({ encoder: 'opus' });
    await t.start();
    await play(pub, clip, { count: 94 });
    await until(() => opus.length > 90, 3000, 'Opus packets');
    expect(new Set(steps(opus))).toEqual(new Set([20]));
    expect((await opusVolume(opus.map((au) => au.data[0]!))).mean).toBeGreaterThan(-30);
    report('native opus', t.stats());
  });

  it('resamples 44.1 kHz mono and works with the npm-shipped ffmpeg', async () => {
    const npm = await locateFfmpeg({ searchPath: '' });
    const path = npm.ok ? npm.path : ffmpegPath;
    const mono = await makeAac(3, 44100, 1);
    const { pub, t, opus } = setup({ path, clip: mono });
    await t.start();
    await play(pub, mono, { count: 100 });
    await until(() => opus.length > 100, 3000, 'Opus packets');
    expect(new Set(steps(opus))).toEqual(new Set([20]));
    expect(opus[0]!.pts).toBeCloseTo(-2.5, 5);
    expect((await opusVolume(opus.map((au) => au.data[0]!))).mean).toBeGreaterThan(-30);
    report(`44.1 kHz mono, ${npm.ok ? `npm ffmpeg ${npm.version}` : 'system ffmpeg'}`, t.stats());
  });
});

describe('AudioTranscoder input (real ffmpeg)', () => {
  it('takes Opus only from its own ffmpeg: packets another local process sends are dropped', async () => {
    const dgram = await import('node:dgram');
    const { pub, t, opus } = setup();
    await t.start();
    const inner = t as unknown as { socket: import('node:dgram').Socket; ssrc: number };
    const port = inner.socket.address().port;
    // A forged RTP packet with the right SSRC (it is on ffmpeg's command line) and a marked payload.
    const forged = Buffer.alloc(12 + 4);
    forged[0] = 0x80;
    forged[1] = 111;
    forged.writeUInt32BE(inner.ssrc, 8);
    forged.set([0xf8, 0xde, 0xad, 0xbe], 12);
    const attacker = dgram.createSocket('udp4');
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', () => r()));
    const shoot = setInterval(() => attacker.send(forged, port, '127.0.0.1'), 5);
    try {
      await play(pub, clip, { count: 94, pts0: 0 }); // ≈ 2 s
      await until(() => opus.length >= 90, 3000, 'Opus packets');
    } finally {
      clearInterval(shoot);
      attacker.close();
    }
    const forgedPayload = Buffer.from([0xf8, 0xde, 0xad, 0xbe]);
    expect(opus.some((au) => Buffer.from(au.data[0]!).equals(forgedPayload))).toBe(false);
    expect(t.stats().foreignPackets).toBeGreaterThan(0);
    expect(new Set(steps(opus))).toEqual(new Set([20]));
  });
});
