/**
 * The media side of one WHIP publisher: received RTP → the internal stream model, as
 * rtmp-media.ts does for FLV tags. H.264 RTP (RFC 6184) is reassembled by the project's one
 * depacketizer (protocol/rtp/h264-packetizer.ts, also used by the sub's RTSP pull) into access
 * units; the in-band SPS/PPS become the video track (replaced when the browser changes the
 * picture size); Opus packets (RFC 7587) go into the stream as they are, as the audio track —
 * so viewers get them without the AAC → Opus transcoder and the recorder keeps them.
 *
 * Both tracks are put on one millisecond timeline: each track is anchored at the arrival time
 * of its first packet and then follows its RTP clock, so audio and video start together
 * (the browser's RTP timestamps of the two tracks have random origins).
 */
import type { Logger } from '../../../shared/logger.ts';
import { NAL_PPS, NAL_SPS } from '../../protocol/h264/nal.ts';
import { h264Track } from '../../protocol/h264/track.ts';
import { H264Depacketizer } from '../../protocol/rtp/h264-packetizer.ts';
import { depacketizeOpus, OPUS_CLOCK_RATE } from '../../protocol/rtp/opus.ts';
import type { Publisher } from '../../stream/registry.ts';
import { accessUnit } from '../../stream/types.ts';

/** One received RTP packet as the ingest needs it (werift's RtpPacket fits after mapping). */
export interface WhipRtp {
  payload: Uint8Array;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
}

/** Counters of one WHIP publish. */
export interface WhipMediaStats {
  videoPackets: number;
  audioPackets: number;
  videoFrames: number;
  audioFrames: number;
  keyframes: number;
  /** Packets that could not be used (malformed, or frames before the first SPS/PPS). */
  badPackets: number;
}

/** RTP timestamp → ms on the publish's timeline, anchored at the first packet's arrival. */
class TrackClock {
  private readonly rate: number;
  private anchor: number | undefined;
  private last = 0;
  private ext = 0;

  constructor(rate: number) {
    this.rate = rate;
  }

  ms(ts: number, arrivalMs: number): number {
    if (this.anchor === undefined) {
      this.anchor = arrivalMs;
      this.last = ts;
      return arrivalMs;
    }
    this.ext += (ts - this.last) | 0;
    this.last = ts;
    return this.anchor + (this.ext * 1000) / this.rate;
  }
}

function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Turns one WHIP publisher's RTP into access units of `publisher`. */
export class WhipMedia {
  readonly stats: WhipMediaStats = {
    videoPackets: 0,
    audioPackets: 0,
    videoFrames: 0,
    audioFrames: 0,
    keyframes: 0,
    badPackets: 0,
  };
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly h264 = new H264Depacketizer();
  private readonly videoClock = new TrackClock(90000);
  private readonly audioClock = new TrackClock(OPUS_CLOCK_RATE);
  private readonly origin: number;
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;
  private audioSet = false;
  private lastAudioSeq: number | undefined;
  private warnedNoSps = false;
  /** RTP timestamp of the frame whose packets arrive now, and when its first one came. */
  private frameTs: number | undefined;
  private frameArrival = 0;
  private prevTs: number | undefined;
  private prevArrival = 0;

  /** `origin`: wall-clock ms the publish started (timestamps are ms since then). */
  constructor(publisher: Publisher, log: Logger, origin = Date.now()) {
    this.publisher = publisher;
    this.log = log;
    this.origin = origin;
  }

  /** True while video waits for a keyframe with SPS/PPS: the caller should send a PLI. */
  get needKeyframe(): boolean {
    return this.h264.needKeyframe || this.sps === undefined;
  }

  /** Access units lost to packet loss or bad input (the depacketizer's count). */
  get droppedVideoFrames(): number {
    return this.h264.droppedAccessUnits;
  }

  /** One video RTP packet, received at `arrivalMs` (wall clock). */
  video(pkt: WhipRtp, arrivalMs = Date.now()): void {
    this.stats.videoPackets++;
    // A frame is stamped by its first packet's arrival, not its last: a keyframe is paced out
    // over tens of ms, which would put the video clock's anchor (and so all of the picture)
    // that much behind the audio captured with it.
    // (The depacketizer may hand a frame over only when the next one's first packet comes.)
    if (pkt.timestamp !== this.frameTs) {
      this.prevTs = this.frameTs;
      this.prevArrival = this.frameArrival;
      this.frameTs = pkt.timestamp;
      this.frameArrival = arrivalMs;
    }
    const firstArrival = (ts: number): number =>
      ts === this.frameTs ? this.frameArrival : ts === this.prevTs ? this.prevArrival : arrivalMs;
    let units;
    try {
      units = this.h264.process(pkt);
    } catch {
      this.stats.badPackets++;
      return;
    }
    for (const u of units) {
      const nalus = u.nalus.filter((n) => n.length > 0);
      let sps: Uint8Array | undefined;
      let pps: Uint8Array | undefined;
      for (const n of nalus) {
        const type = n[0]! & 0x1f;
        if (type === NAL_SPS) sps = n;
        else if (type === NAL_PPS) pps = n;
      }
      if ((sps && !same(this.sps, sps)) || (pps && !same(this.pps, pps))) {
        this.setTrack(sps ?? this.sps, pps ?? this.pps);
      }
      const ms = this.videoClock.ms(u.timestamp, firstArrival(u.timestamp)) - this.origin;
      if (!this.sps || !this.pps) {
        this.stats.badPackets++;
        if (!this.warnedNoSps) {
          this.warnedNoSps = true;
          this.log.warn('WHIP video frames before SPS/PPS; waiting for a keyframe');
        }
        continue;
      }
      this.stats.videoFrames++;
      if (u.key) this.stats.keyframes++;
      this.publisher.write(accessUnit('h264', ms, ms, u.key, nalus));
    }
  }

  /** Sets (or replaces, e.g. after a resize) the video track from a keyframe's SPS and PPS. */
  private setTrack(sps: Uint8Array | undefined, pps: Uint8Array | undefined): void {
    if (!sps || !pps) {
      if (sps) this.sps = undefined; // an SPS whose PPS is missing: wait for a whole pair
      return;
    }
    let info;
    try {
      info = h264Track(sps, pps);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'WHIP video: unreadable SPS');
      return;
    }
    this.sps = sps;
    this.pps = pps;
    this.publisher.setVideo(info);
    this.log.info({ width: info.width, height: info.height, profile: info.profile }, 'WHIP video track');
  }

  /**
   * Declares the Opus track before its first packet (the offer had audio), so the recorder and
   * new viewers see both tracks from the first keyframe on.
   */
  announceAudio(): void {
    if (this.audioSet) return;
    this.audioSet = true;
    this.publisher.setAudio({
      kind: 'audio',
      codec: 'opus',
      sampleRate: 48000,
      channels: 2,
      clockRate: 48000,
    });
    this.log.info('WHIP audio track (Opus)');
  }

  /** One Opus RTP packet, received at `arrivalMs`. */
  audio(pkt: WhipRtp, arrivalMs = Date.now()): void {
    this.stats.audioPackets++;
    if (this.lastAudioSeq !== undefined) {
      const d = (pkt.sequenceNumber - this.lastAudioSeq) & 0xffff;
      if (d === 0 || d >= 0x8000) return; // duplicate or late: keep the timeline monotonic
    }
    this.lastAudioSeq = pkt.sequenceNumber;
    let frame: Uint8Array;
    try {
      frame = Uint8Array.from(depacketizeOpus(pkt.payload));
    } catch {
      this.stats.badPackets++;
      return;
    }
    this.announceAudio();
    const ms = this.audioClock.ms(pkt.timestamp, arrivalMs) - this.origin;
    this.stats.audioFrames++;
    this.publisher.write(accessUnit('opus', ms, ms, true, [frame]));
  }
}
