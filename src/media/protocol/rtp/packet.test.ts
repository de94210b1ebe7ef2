import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { RtpHeader, RtpPacket } from './packet.ts';
import { loadRtp } from './testdata/fixtures.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function badMedia(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (e) {
    if (!isAirError(e, 'BAD_MEDIA')) throw e;
    return true;
  }
}

describe.each(['baseline', 'opus'] as const)('RTP captured from ffmpeg (%s)', (name) => {
  const raw = loadRtp(name);

  it('parses and serialises every packet byte for byte', () => {
    for (const b of raw) expect(hex(RtpPacket.parse(b).serialize())).toBe(hex(b));
  });

  it('reads the header fields ffmpeg was told to write', () => {
    const pkts = raw.map((b) => RtpPacket.parse(b));
    const pt = name === 'baseline' ? 96 : 111;
    const ssrc = name === 'baseline' ? 305419896 : 287454020;
    for (const p of pkts) {
      expect([p.payloadType, p.ssrc, p.header.csrc.length, p.header.extension, p.paddingSize]).toEqual([
        pt,
        ssrc,
        0,
        undefined,
        0,
      ]);
    }
    for (let i = 1; i < pkts.length; i++) {
      expect(pkts[i]!.sequenceNumber).toBe((pkts[i - 1]!.sequenceNumber + 1) & 0xffff);
    }
    if (name === 'baseline') {
      expect(pkts[0]!.sequenceNumber).toBe(65500);
      expect(pkts.some((p) => p.sequenceNumber === 0)).toBe(true); // crosses the wrap
      expect(pkts.filter((p) => p.marker).length).toBe(40); // one per frame
    }
  });
});

describe('RtpPacket', () => {
  const header = new RtpHeader({
    marker: true,
    payloadType: 111,
    sequenceNumber: 0xfffe,
    timestamp: 0xfedcba98,
    ssrc: 0x11223344,
    csrc: [0xaabbccdd, 1],
    extension: { profile: 0xbede, data: Uint8Array.of(0x10, 0x2a, 0, 0) },
  });

  it('writes the RFC 3550 layout with CSRCs, extension and padding', () => {
    const pkt = new RtpPacket(header, Uint8Array.of(9, 8, 7), 5);
    const b = pkt.serialize();
    expect(hex(b)).toBe(
      'b2' +
        'ef' +
        'fffe' +
        'fedcba98' +
        '11223344' +
        'aabbccdd' +
        '00000001' +
        'bede0001' +
        '102a0000' +
        '090807' +
        '0000000005',
    );
    const back = RtpPacket.parse(b);
    expect(back).toEqual(pkt);
    expect(hex(back.serialize())).toBe(hex(b));
    expect(back.header.size).toBe(28);
    expect(hex(RtpHeader.parse(b).serialize())).toBe(hex(b.subarray(0, 28)).replace(/^b2/, '92'));
  });

  it('writes a header into a caller buffer', () => {
    const out = new Uint8Array(40);
    expect(header.writeTo(out, 4)).toBe(28);
    expect(hex(out.subarray(4, 32))).toBe(hex(header.serialize()));
  });

  it('rejects malformed packets with BAD_MEDIA', () => {
    const ok = new RtpPacket(header, Uint8Array.of(1, 2, 3), 2).serialize();
    expect(badMedia(() => RtpPacket.parse(ok.subarray(0, 11)))).toBe(true); // shorter than 12
    const v1 = ok.slice();
    v1[0] = (v1[0]! & 0x3f) | 0x40;
    expect(badMedia(() => RtpPacket.parse(v1))).toBe(true); // version 1
    expect(badMedia(() => RtpPacket.parse(ok.subarray(0, 19)))).toBe(true); // CSRC list cut
    expect(badMedia(() => RtpPacket.parse(ok.subarray(0, 26)))).toBe(true); // extension cut
    const pad = ok.slice();
    pad[pad.length - 1] = 6; // more padding than payload + padding
    expect(badMedia(() => RtpPacket.parse(pad))).toBe(true);
    pad[pad.length - 1] = 0;
    expect(badMedia(() => RtpPacket.parse(pad))).toBe(true);
    const longExt = ok.slice();
    longExt[23] = 9; // extension length 9 words
    expect(badMedia(() => RtpPacket.parse(longExt))).toBe(true);
  });

  it('refuses to write what the header cannot express', () => {
    const h = new RtpHeader({ payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3 });
    h.extension = { profile: 1, data: new Uint8Array(3) };
    expect(badMedia(() => h.serialize())).toBe(true);
    h.extension = undefined;
    h.csrc = new Array<number>(16).fill(0);
    expect(badMedia(() => h.serialize())).toBe(true);
    expect(
      badMedia(() => new RtpPacket(new RtpHeader({ ...h, csrc: [] }), new Uint8Array(1), 256).serialize()),
    ).toBe(true);
  });
});
