import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import { depacketizeOpus, OPUS_CLOCK_RATE, opusPacketSamples, packetizeOpus } from './opus.ts';
import { RtpPacket } from './packet.ts';
import { RtpSequencer } from './sequencer.ts';
import { loadRtp, loadSdp } from './testdata/fixtures.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Opus over RTP, against ffmpeg (libopus, 20 ms)', () => {
  const pkts = loadRtp('opus').map((b) => RtpPacket.parse(b));

  it('declares 48 kHz, 2 channels', () => {
    expect(loadSdp('opus')).toContain(`opus/${OPUS_CLOCK_RATE}/2`);
  });

  it('advances the timestamp by the duration the TOC announces', () => {
    for (let i = 1; i < pkts.length; i++) {
      const samples = opusPacketSamples(depacketizeOpus(pkts[i - 1]!.payload));
      expect(samples).toBe(960);
      expect((pkts[i]!.timestamp - pkts[i - 1]!.timestamp) >>> 0).toBe(samples);
    }
  });

  it('re-sequences to the same packets', () => {
    const first = pkts[0]!;
    const seq = new RtpSequencer(OPUS_CLOCK_RATE, first.ssrc, {
      payloadType: 111,
      sequenceNumber: first.sequenceNumber,
      timestampOffset: first.timestamp,
    });
    pkts.forEach((p, i) => {
      const [ours] = seq.next(packetizeOpus(depacketizeOpus(p.payload), p.marker), i * 20);
      expect(hex(ours!.serialize())).toBe(hex(p.serialize()));
    });
  });
});

describe('opusPacketSamples', () => {
  it.each([
    [[0 << 3], 480], // SILK NB 10 ms
    [[3 << 3], 2880], // SILK NB 60 ms
    [[(3 << 3) | 1], 5760], // two 60 ms frames
    [[13 << 3], 960], // Hybrid 20 ms
    [[16 << 3], 120], // CELT 2.5 ms
    [[(31 << 3) | 2, 5], 1920], // two 20 ms frames, code 2
    [[(16 << 3) | 3, 48], 5760], // 48 × 2.5 ms frames, code 3
    [[(31 << 3) | 3, 0x83], 2880], // 3 × 20 ms, VBR flag set
  ])('TOC %j lasts %i samples', (bytes, samples) => {
    expect(opusPacketSamples(Uint8Array.from(bytes))).toBe(samples);
  });

  it.each([
    ['empty', []],
    ['code 3 without a count', [(31 << 3) | 3]],
    ['code 3 with zero frames', [(31 << 3) | 3, 0]],
    ['longer than 120 ms', [(31 << 3) | 3, 7]],
  ])('rejects %s with BAD_MEDIA', (_, bytes) => {
    let err: unknown;
    try {
      depacketizeOpus(Uint8Array.from(bytes));
    } catch (e) {
      err = e;
    }
    expect(isAirError(err, 'BAD_MEDIA')).toBe(true);
  });

  it('packetizes one frame per packet, marker only on a talkspurt start', () => {
    const frame = Uint8Array.of(0xfc, 1, 2);
    expect(packetizeOpus(frame)).toEqual([{ payload: frame, marker: false }]);
    expect(packetizeOpus(frame, true)[0]!.marker).toBe(true);
  });
});
