import { NAL_IDR, NAL_SPS, nalType } from '../../protocol/h264/nal.ts';
import { packetizeH264 } from '../../protocol/rtp/h264-packetizer.ts';
import { RtpSequencer } from '../../protocol/rtp/sequencer.ts';
import type { Stream } from '../../stream/stream.ts';
import type { AccessUnit } from '../../stream/types.ts';

/** One RTP packet as every viewer of a stream sends it (before the per-viewer SSRC/PT/SRTP). */
export interface SharedRtp {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  readonly payload: Buffer;
}

/** Memo key under which an access unit carries its RTP packets. */
export const RTP_MEMO = Symbol('whep.rtp');

/** Payload size that fits a 1280-byte path MTU after IP/UDP/RTP/SRTP overhead. */
const MTU = 1150;

/**
 * Packetises each H.264 and Opus access unit of a stream once, in stream order, so that all
 * viewers share the same payloads and sequence numbers (a viewer replaying the last GOP then
 * continues seamlessly into the live packets). Installed as a stream tap.
 */
export class RtpTap {
  private readonly video = new RtpSequencer(90000);
  private readonly audio = new RtpSequencer(48000);
  private readonly remove: () => void;
  private readonly stream: Stream;

  constructor(stream: Stream) {
    this.stream = stream;
    this.remove = stream.addTap((au) => this.process(au));
  }

  /**
   * The NAL units to send for a video frame. RTMP (FLV) carries SPS/PPS out of band, in the
   * sequence header; a browser needs them in band before an IDR, so they are put in front of
   * every IDR frame that lacks them.
   */
  private videoNalus(au: AccessUnit): readonly Uint8Array[] {
    const v = this.stream.video;
    if (!v || !au.data.some((n) => nalType(n) === NAL_IDR) || au.data.some((n) => nalType(n) === NAL_SPS)) {
      return au.data;
    }
    return [v.sps, v.pps, ...au.data];
  }

  /** Packetises one access unit and hangs the packets on its memo. */
  process(au: AccessUnit): void {
    let seq: RtpSequencer;
    let payloads: { payload: Uint8Array; marker: boolean }[];
    if (au.codec === 'h264') {
      seq = this.video;
      try {
        payloads = packetizeH264(this.videoNalus(au), MTU);
      } catch {
        return;
      }
    } else if (au.codec === 'opus') {
      seq = this.audio;
      payloads = au.data.map((d) => ({ payload: d, marker: false }));
    } else {
      return;
    }
    const packets: SharedRtp[] = seq.next(payloads, au.pts).map((p) => ({
      sequenceNumber: p.header.sequenceNumber,
      timestamp: p.header.timestamp,
      marker: p.header.marker,
      payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength),
    }));
    au.memo.set(RTP_MEMO, packets);
  }

  /** Detaches from the stream. Idempotent. */
  close(): void {
    this.remove();
  }
}

/** The packets an access unit was given by the tap (empty if it was not packetised). */
export function rtpOf(au: AccessUnit): readonly SharedRtp[] {
  return (au.memo.get(RTP_MEMO) as SharedRtp[] | undefined) ?? [];
}
