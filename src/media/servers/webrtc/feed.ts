import { withParameterSets } from '../../protocol/h264/nal.ts';
import { packetizeH264 } from '../../protocol/rtp/h264-packetizer.ts';
import { RtpSequencer } from '../../protocol/rtp/sequencer.ts';
import type { Stream } from '../../stream/stream.ts';
import type { AccessUnit } from '../../stream/types.ts';
import {
  FLAG_KEY_START,
  FLAG_MARKER,
  FLAG_VIDEO,
  KIND_EVENT,
  KIND_RTP,
  type RingWriter,
} from './packet-ring.ts';
import type { StreamEvent } from './protocol.ts';

/** Payload size that fits a 1280-byte path MTU after IP/UDP/RTP/SRTP overhead. */
export const RTP_MTU = 1150;

/**
 * The one RTP model of a stream: its H.264 and Opus access units packetised once, in stream
 * order (the project's own packetizer), with one sequence space per track, and written into the
 * egress ring. Every viewer then only rewrites SSRC, payload type and sequence number. Installed
 * as a stream tap, so it sees every access unit before any reader.
 */
export class StreamFeed {
  private readonly video = new RtpSequencer(90000);
  private readonly audio = new RtpSequencer(48000);
  private readonly remove: () => void;
  private readonly stream: Stream;
  private readonly ring: RingWriter;
  readonly index: number;
  private readonly now: () => number;

  constructor(stream: Stream, index: number, ring: RingWriter, now: () => number) {
    this.stream = stream;
    this.index = index;
    this.ring = ring;
    this.now = now;
    this.event({ e: 'open', path: stream.path });
    this.remove = stream.addTap((au) => this.process(au));
  }

  private event(ev: StreamEvent): void {
    this.ring.write(KIND_EVENT, 0, this.index, 0, 0, 0, 0, Buffer.from(JSON.stringify(ev)));
    this.ring.flush();
  }

  /** Packetises one access unit and writes its packets to the ring. */
  process(au: AccessUnit): void {
    const arrival = this.now();
    if (au.codec === 'h264') {
      let payloads: { payload: Uint8Array; marker: boolean }[];
      try {
        payloads = packetizeH264(
          withParameterSets(au.data, this.stream.video?.sps, this.stream.video?.pps),
          RTP_MTU,
        );
      } catch {
        return;
      }
      const packets = this.video.next(payloads, au.pts);
      packets.forEach((p, i) => {
        const flags =
          FLAG_VIDEO | (p.header.marker ? FLAG_MARKER : 0) | (i === 0 && au.key ? FLAG_KEY_START : 0);
        this.ring.write(
          KIND_RTP,
          flags,
          this.index,
          p.header.sequenceNumber,
          p.header.timestamp,
          au.pts,
          arrival,
          p.payload,
        );
      });
    } else if (au.codec === 'opus') {
      const packets = this.audio.next(
        au.data.map((d) => ({ payload: d, marker: false })),
        au.pts,
      );
      for (const p of packets) {
        this.ring.write(
          KIND_RTP,
          0,
          this.index,
          p.header.sequenceNumber,
          p.header.timestamp,
          au.pts,
          arrival,
          p.payload,
        );
      }
    } else {
      return;
    }
    this.ring.flush();
  }

  /** Detaches from the stream and tells the egress it is offline. Idempotent. */
  close(): void {
    this.remove();
    this.event({ e: 'offline' });
  }
}
