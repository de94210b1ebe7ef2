import { describe, expect, it, vi } from 'vitest';
import { StreamRegistry } from './registry.ts';
import { STALL_MS } from './stream.ts';
import { accessUnit, type AccessUnit } from './types.ts';

const info = { id: 'p1', protocol: 'test', remote: '127.0.0.1' };
const frame = (dts: number, key = false): AccessUnit =>
  accessUnit('h264', dts, dts, key, [new Uint8Array([0x65])]);
const sound = (t: number): AccessUnit => accessUnit('aac', t, t, true, [new Uint8Array([1, 2])]);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('stream model', () => {
  it('fans out to readers of the codecs they asked for, and replays the last GOP to a new reader', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    pub.write(frame(0, true));
    pub.write(frame(33));
    pub.write(frame(66, true));
    pub.write(sound(70));
    pub.write(frame(100));
    const got: AccessUnit[] = [];
    pub.stream.addReader({ codecs: new Set(['h264']) }, (au) => void got.push(au));
    await tick();
    expect(got.map((a) => a.dts)).toEqual([66, 100]);
    expect(got[0]!.key).toBe(true);
    pub.write(frame(133));
    await tick();
    expect(got.map((a) => a.dts)).toEqual([66, 100, 133]);
    reg.close();
  });

  it('replays only the codecs asked for from the GOP', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    pub.write(frame(0, true));
    pub.write(sound(10));
    pub.write(frame(33));
    const got: string[] = [];
    pub.stream.addReader(
      { codecs: new Set(['h264', 'aac']) },
      (au) => void got.push(`${au.codec}@${au.dts}`),
      new Set(['h264']),
    );
    pub.write(sound(40));
    await tick();
    expect(got).toEqual(['h264@0', 'h264@33', 'aac@40']);
    reg.close();
  });

  it('a reader without GOP replay starts at the next keyframe', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    pub.write(frame(0, true));
    const got: number[] = [];
    pub.stream.addReader({ codecs: new Set(['h264']) }, (au) => void got.push(au.dts), false);
    pub.write(frame(33));
    pub.write(frame(66, true));
    await tick();
    expect(got).toEqual([66]);
    reg.close();
  });

  it('a slow reader drops up to the next keyframe and counts it; the publisher and other readers never wait', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: number[] = [];
    const fast: number[] = [];
    const slowReader = pub.stream.addReader({ codecs: new Set(['h264']), maxQueue: 4 }, async (au) => {
      slow.push(au.dts);
      await gate;
    });
    pub.stream.addReader({ codecs: new Set(['h264']), maxQueue: 100 }, (au) => void fast.push(au.dts));
    pub.write(frame(0, true));
    await tick();
    for (let i = 1; i <= 10; i++) pub.write(frame(i * 10)); // slow one overflows
    pub.write(frame(110, true));
    pub.write(frame(120));
    await tick();
    expect(fast).toHaveLength(13);
    release();
    await tick();
    await tick();
    expect(slowReader.overflows).toBe(1);
    expect(slowReader.dropped).toBeGreaterThan(0);
    expect(slow).toEqual([0, 110, 120]);
    reg.close();
  });

  it('an audio-only reader that overflows resumes with the next audio frame (regression)', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const r = pub.stream.addReader({ codecs: new Set(['aac']), maxQueue: 2 }, async (au) => {
      got.push(au.dts);
      await gate;
    });
    for (let i = 0; i < 6; i++) pub.write(sound(i * 20));
    release();
    await tick();
    pub.write(sound(200));
    await tick();
    await tick();
    expect(r.overflows).toBeGreaterThan(0);
    expect(got.at(-1)).toBe(200);
    reg.close();
  });

  it('refuses a second publisher while one is live', () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    reg.publish('live/a', info);
    expect(() => reg.publish('live/a', info)).toThrow(expect.objectContaining({ code: 'PATH_BUSY' }));
    reg.close();
  });

  it('keeps readers through a publisher reconnect and rebases timestamps onto one timeline', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 5000 });
    const first = reg.publish('live/a', info);
    const got: number[] = [];
    const reader = first.stream.addReader({ codecs: new Set(['h264']) }, (au) => void got.push(au.dts));
    first.write(frame(5000, true));
    first.write(frame(5033));
    first.close();
    expect(first.stream.state).toBe('waiting');
    const second = reg.publish('live/a', info);
    expect(second.stream).toBe(first.stream);
    second.write(frame(0, true)); // a restarted encoder begins at 0 again
    second.write(frame(33));
    await tick();
    expect(got[0]).toBe(0);
    expect(got[1]).toBe(33);
    expect(got[2]).toBeGreaterThan(33);
    expect(got[3]! - got[2]!).toBe(33);
    expect(reader.isClosed).toBe(false);
    reg.close();
  });

  it('goes offline after the grace period and tells its readers', async () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 20 });
    const pub = reg.publish('live/a', info);
    let offline = 0;
    pub.stream.on('offline', () => offline++);
    pub.close();
    pub.close();
    await new Promise((r) => setTimeout(r, 60));
    expect(offline).toBe(1);
    expect(pub.stream.state).toBe('idle');
    reg.close();
  });

  it('warns once, naming the fix, when video has B-frames (pts ≠ dts)', () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/a', info);
    const warnings: string[] = [];
    pub.stream.on('warning', (code, msg) => warnings.push(`${code}: ${msg}`));
    pub.write(accessUnit('h264', 66, 0, true, [new Uint8Array([0x65])]));
    pub.write(accessUnit('h264', 33, 33, false, [new Uint8Array([0x41])]));
    pub.write(accessUnit('h264', 133, 66, false, [new Uint8Array([0x41])]));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^B_FRAMES: .*bframes=0.*-bf 0/);
    reg.close();
  });

  it('reports a connected publisher that stops sending (a frozen encoder) as stalled, and its return', () => {
    vi.useFakeTimers();
    try {
      const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
      const pub = reg.publish('live/a', info);
      const seen: string[] = [];
      pub.stream.on('stalled', () => seen.push('stalled'));
      pub.stream.on('resumed', () => seen.push('resumed'));
      pub.write(frame(0, true));
      // Media keeps coming: never stalled.
      for (let i = 1; i <= 10; i++) {
        vi.advanceTimersByTime(500);
        pub.write(frame(i * 500));
      }
      expect(seen).toEqual([]);
      // The encoder freezes (the TCP connection stays up).
      vi.advanceTimersByTime(STALL_MS + 600);
      expect([seen, pub.stream.stalled]).toEqual([['stalled'], true]);
      pub.write(frame(9000, true));
      expect([seen, pub.stream.stalled]).toEqual([['stalled', 'resumed'], false]);
      // A publisher that left is waiting, not stalled: no more reports.
      pub.close();
      vi.advanceTimersByTime(STALL_MS * 2);
      expect(seen).toEqual(['stalled', 'resumed']);
      reg.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
