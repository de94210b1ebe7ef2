import { describe, expect, it } from 'vitest';
import { ffmpegArgs, parseRtp, percentile, Tail } from './transcoder-util.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('parseRtp', () => {
  it('finds the payload behind CSRCs, a header extension and padding', () => {
    // V=2 P=1 X=1 CC=1, PT 111, seq 1, ts 960, SSRC 0x01020304, CSRC, ext (1 word), payload fc aa, 2 pad bytes
    const p = parseRtp(hex('b1 6f 0001 000003c0 01020304 0a0b0c0d bede0001 11223344 fcaa 0002'));
    expect(p?.ssrc).toBe(0x01020304);
    expect(Buffer.from(p!.payload).toString('hex')).toBe('fcaa');
    expect(parseRtp(hex('80 6f 0001 000003c0 81020304 fc'))?.ssrc).toBe(0x81020304);
  });

  it('ignores RTCP, other versions and runts', () => {
    expect(parseRtp(hex('80 c8 0006 01020304 00000000 00000000 00000000 00000000 00000000'))).toBeUndefined();
    expect(parseRtp(hex('40 6f 0001 000003c0 01020304 fc'))).toBeUndefined();
    expect(parseRtp(hex('80 6f 0001 000003c0 01020304'))).toBeUndefined();
    expect(parseRtp(hex('a0 6f 0001 000003c0 01020304 fc 05'))).toBeUndefined(); // padding past the payload
  });
});

describe('helpers', () => {
  it('percentile by nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('keeps the tail of stderr', () => {
    const t = new Tail(8);
    t.push(Buffer.from('0123456789'));
    t.push(Buffer.from('ab'));
    expect(t.text()).toBe('456789ab');
  });

  it('builds the low-delay command line for either encoder', () => {
    const lib = ffmpegArgs({ encoder: 'libopus', bitrate: 64000, port: 5000, ssrc: 42 });
    expect(lib.join(' ')).toContain('-f aac -i pipe:0');
    expect(lib.join(' ')).toContain('-c:a libopus -application lowdelay -frame_duration 20');
    expect(lib).not.toContain('nobuffer'); // it would drop the first AAC frame
    expect(lib.at(-1)).toBe('rtp://127.0.0.1:5000?rtcpport=5000&pkt_size=1200');
    const native = ffmpegArgs({ encoder: 'opus', bitrate: 64000, port: 5000, ssrc: 42 });
    expect(native.join(' ')).toContain('-strict -2 -c:a opus -opus_delay 20');
  });
});
