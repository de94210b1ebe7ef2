/**
 * Opus over RTP (RFC 7587): the payload is exactly one Opus packet (RFC 6716), the clock is
 * always 48 kHz and the SDP always says `opus/48000/2`, whatever the real channel count.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    TOC        |  (code 3: |v|p|    M      |)  Opus frames ...  |
 * | config  |s| c |                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
import { AirError } from '../../../shared/errors.ts';
import type { RtpPayload } from './packet.ts';

/** RTP clock rate of Opus (RFC 7587 §4.1). */
export const OPUS_CLOCK_RATE = 48000;
/** Channel count written in SDP rtpmap lines (RFC 7587 §7). */
export const OPUS_SDP_CHANNELS = 2;

function bad(what: string): never {
  throw new AirError('BAD_MEDIA', `Opus: ${what}`);
}

/**
 * Wraps one Opus packet in one RTP payload. `talkspurtStart` sets the marker (first packet
 * after a DTX silence, RFC 7587 §4.1); it is false otherwise.
 */
export function packetizeOpus(packet: Uint8Array, talkspurtStart = false): RtpPayload[] {
  opusPacketSamples(packet);
  return [{ payload: packet, marker: talkspurtStart }];
}

/** The Opus packet carried by an RTP payload (validated). */
export function depacketizeOpus(payload: Uint8Array): Uint8Array {
  opusPacketSamples(payload);
  return payload;
}

/** Samples per frame at 48 kHz for each TOC configuration (RFC 6716 §3.1, Table 2). */
function frameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4]!; // SILK 10/20/40/60 ms
  if (config < 16) return [480, 960][config % 2]!; // Hybrid 10/20 ms
  return [120, 240, 480, 960][config % 4]!; // CELT 2.5/5/10/20 ms
}

/**
 * Samples (at 48 kHz) an Opus packet lasts, from its TOC byte and, for code 3, its frame
 * count: the RTP timestamp advances by this much. Throws BAD_MEDIA on an empty or invalid packet.
 */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) bad('empty packet');
  const toc = packet[0]!;
  const per = frameSamples(toc >> 3);
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 1 || code === 2) frames = 2;
  else {
    if (packet.length < 2) bad('code 3 packet without a frame count');
    frames = packet[1]! & 0x3f;
    if (frames === 0) bad('code 3 packet with no frames');
  }
  const samples = per * frames;
  if (samples > 5760) bad(`packet of ${samples / 48} ms (at most 120 ms)`);
  return samples;
}
