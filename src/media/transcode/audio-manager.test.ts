import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StreamRegistry } from '../stream/registry.ts';
import { accessUnit, type AccessUnit, type VideoTrack } from '../stream/types.ts';
import { AUDIO_OFF_NO_FFMPEG, AudioManager } from './audio-manager.ts';
import { locateFfmpeg, type FfmpegLocation } from './ffmpeg-locate.ts';
import { alive, captureLogger, collectOpus, makeAac, play, until, type AacClip } from './test-support.ts';

let clip: AacClip;
let ffmpeg: FfmpegLocation;
let cleanup: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  ffmpeg = await locateFfmpeg();
  clip = await makeAac(4);
});

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function setup(found: FfmpegLocation, graceMs = 3000) {
  const registry = new StreamRegistry({ reconnectGraceMs: graceMs });
  const { logger, lines } = captureLogger();
  const manager = new AudioManager({ registry, logger, ffmpeg: found });
  cleanup.push(
    () => manager.close(),
    () => registry.close(),
  );
  return { registry, manager, lines };
}

const info = { id: 'p1', protocol: 'rtmp', remote: '127.0.0.1:5000' };
const video: VideoTrack = {
  kind: 'video',
  codec: 'h264',
  sps: Uint8Array.of(0x67, 0x42, 0xc0, 0x1f),
  pps: Uint8Array.of(0x68, 0xce, 0x3c, 0x80),
  width: 1280,
  height: 720,
  profile: 0x42,
  constraints: 0xc0,
  level: 0x1f,
  clockRate: 90000,
};

describe('AudioManager', () => {
  it('starts a transcoder for an AAC stream, keeps it across a reconnect, stops it offline', async () => {
    const { registry, manager } = setup(ffmpeg, 400);
    expect(manager.status()).toMatchObject({ available: true, opusEncoder: 'libopus', transcoders: 0 });
    expect(manager.status().path).toMatch(/ffmpeg/);
    expect(manager.status().version).toBeTruthy();

    const pub = registry.publish('live/a', info);
    expect(manager.transcoder('live/a')).toBeUndefined(); // no audio track yet
    pub.setAudio(clip.track);
    const transcoder = manager.transcoder('live/a');
    expect(transcoder).toBeDefined();
    expect(manager.status().transcoders).toBe(1);
    const opus = collectOpus(pub);
    await until(() => pub.stream.opus !== undefined, 3000, 'the Opus track');
    await play(pub, clip, { count: 50 });
    await until(() => opus.length > 45, 3000, 'Opus packets');

    // The publisher drops and returns within the grace period: same stream, same transcoder.
    pub.close();
    const again = registry.publish('live/a', info);
    again.setAudio(clip.track);
    expect(manager.transcoder('live/a')).toBe(transcoder);
    const before = opus.length;
    await play(again, clip, { from: 50, count: 50 });
    await until(() => opus.length > before + 45, 3000, 'Opus packets after the return');
    const d = opus.slice(1).map((au, i) => au.pts - opus[i]!.pts);
    expect(d.every((x) => x > 0)).toBe(true);
    console.log(`manager, across a reconnect: ${JSON.stringify(transcoder!.stats())}`);

    // Gone for good: the transcoder stops and its ffmpeg ends.
    const pid = transcoder!.pid!;
    again.close();
    await until(() => manager.status().transcoders === 0, 3000, 'the transcoder to stop');
    await until(() => !alive(pid), 3000, 'ffmpeg to exit');
    expect(pub.stream.opus).toBeUndefined();
  });

  it('without ffmpeg: reports why, notes "audio off" on the stream, warns once, video flows', async () => {
    const missing = await locateFfmpeg({ path: '/nonexistent/bin/ffmpeg' });
    const { registry, manager, lines } = setup(missing);
    const status = manager.status();
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/\/nonexistent\/bin\/ffmpeg does not run: ENOENT/);

    const pub = registry.publish('live/b', info);
    const got: AccessUnit[] = [];
    pub.stream.addReader({ codecs: new Set(['h264', 'opus']) }, (au) => void got.push(au));
    pub.setVideo(video);
    pub.setAudio(clip.track);
    pub.setAudio(clip.track); // a second tracks event must not warn again
    expect(pub.stream.opus).toBeUndefined();
    expect(pub.stream.audioNote).toBe(AUDIO_OFF_NO_FFMPEG);
    expect(manager.transcoder('live/b')).toBeUndefined();
    expect(lines.filter((l) => l.level === 40 && l.path === 'live/b')).toHaveLength(1);
    pub.write(accessUnit('h264', 0, 0, true, [Uint8Array.of(0x65, 0x88)]));
    pub.write(accessUnit('aac', 0, 0, true, [clip.frames[0]!]));
    await until(() => got.length === 1, 1000, 'the video frame');
    expect(got[0]!.codec).toBe('h264');
  });

  it('leaves Opus-published streams alone and picks up streams that were live before it', async () => {
    const registry = new StreamRegistry({ reconnectGraceMs: 1000 });
    const early = registry.publish('live/early', info);
    early.setAudio(clip.track);
    const whip = registry.publish('live/whip', { ...info, protocol: 'whip' });
    whip.setAudio({ kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, clockRate: 48000 });
    const { logger } = captureLogger();
    const manager = new AudioManager({ registry, logger, ffmpeg });
    cleanup.push(
      () => manager.close(),
      () => registry.close(),
    );
    expect(manager.transcoder('live/early')).toBeDefined();
    expect(manager.transcoder('live/whip')).toBeUndefined();
    // A publisher switching from AAC to Opus loses its transcoder.
    early.setAudio({ kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, clockRate: 48000 });
    expect(manager.transcoder('live/early')).toBeUndefined();
    await manager.close();
    await manager.close();
    expect(manager.status().transcoders).toBe(0);
  });
});
