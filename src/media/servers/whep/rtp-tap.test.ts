import { describe, expect, it } from 'vitest';
import { H264Depacketizer } from '../../protocol/rtp/h264-packetizer.ts';
import { nalType } from '../../protocol/h264/nal.ts';
import { StreamRegistry } from '../../stream/registry.ts';
import { accessUnit } from '../../stream/types.ts';
import { RtpTap, rtpOf } from './rtp-tap.ts';

const sps = new Uint8Array([0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40]);
const pps = new Uint8Array([0x68, 0xce, 0x3c, 0x80]);
const idr = new Uint8Array(3000).fill(7);
idr[0] = 0x65;
const slice = new Uint8Array([0x41, 1, 2, 3]);

function nalTypesOf(packets: ReturnType<typeof rtpOf>): number[] {
  const d = new H264Depacketizer({ waitForKeyframe: false });
  const out: number[] = [];
  for (const p of packets) {
    for (const au of d.process({ ...p, payload: p.payload })) out.push(...au.nalus.map(nalType));
  }
  return out;
}

describe('RtpTap', () => {
  it('puts SPS/PPS in band before an IDR that lacks them (regression: FLV keeps them out of band, Chromium decoded nothing)', () => {
    const reg = new StreamRegistry({ reconnectGraceMs: 1000 });
    const pub = reg.publish('live/t', { id: 'x', protocol: 'test', remote: '' });
    const tap = new RtpTap(pub.stream);
    pub.setVideo({
      kind: 'video',
      codec: 'h264',
      sps,
      pps,
      width: 1280,
      height: 720,
      profile: 0x42,
      constraints: 0xc0,
      level: 0x1f,
      clockRate: 90000,
    });
    const key = accessUnit('h264', 0, 0, true, [idr]);
    const delta = accessUnit('h264', 33, 33, false, [slice]);
    pub.write(key);
    pub.write(delta);
    const kp = rtpOf(pub.stream.lastGop()[0]!);
    const dp = rtpOf(pub.stream.lastGop()[1]!);
    expect(nalTypesOf(kp)).toEqual([7, 8, 5]);
    expect(kp.at(-1)!.marker).toBe(true);
    expect(nalTypesOf([...kp, ...dp])).toEqual([7, 8, 5, 1]);
    expect(dp[0]!.sequenceNumber).toBe((kp.at(-1)!.sequenceNumber + 1) & 0xffff);
    expect(dp[0]!.timestamp - kp[0]!.timestamp).toBe(33 * 90);
    tap.close();
    reg.close();
  });
});
