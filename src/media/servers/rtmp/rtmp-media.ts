/**
 * Turns the audio, video and data messages of one RTMP publish into the internal stream model:
 * FLV tags → track descriptions (from the AVC sequence header and the AAC AudioSpecificConfig)
 * and access units on an absolute, monotonic millisecond timeline.
 */
import type { Logger } from '../../../shared/logger.ts';
import { parseAudioSpecificConfig } from '../../protocol/aac/asc.ts';
import type { Amf0Value } from '../../protocol/amf/amf0.ts';
import { AudioTag, VideoTag } from '../../protocol/flv/tags.ts';
import { AvcDecoderConfig } from '../../protocol/h264/avcc.ts';
import { isKeyframe, NAL_AUD, NAL_FILLER, splitAvcc } from '../../protocol/h264/nal.ts';
import { h264Track } from '../../protocol/h264/track.ts';
import { MonotonicClock, TimestampUnwrapper } from '../../protocol/rtmp/timestamp.ts';
import type { Publisher } from '../../stream/registry.ts';
import { accessUnit } from '../../stream/types.ts';
import { AirError } from '../../../shared/errors.ts';

/** Counters of one publish. */
export interface RtmpMediaStats {
  videoFrames: number;
  audioFrames: number;
  /** Frames dropped because they came before their sequence header or in an unsupported codec. */
  dropped: number;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The media side of one RTMP publisher. Throws AirError('BAD_MEDIA') on malformed tags. */
export class RtmpMedia {
  readonly stats: RtmpMediaStats = { videoFrames: 0, audioFrames: 0, dropped: 0 };
  /** The last onMetaData object, as sent. */
  metadata: Record<string, Amf0Value> | undefined;
  private readonly publisher: Publisher;
  private readonly log: Logger;
  private readonly time = new TimestampUnwrapper();
  private readonly videoClock = new MonotonicClock();
  private readonly audioClock = new MonotonicClock();
  private avc: AvcDecoderConfig | undefined;
  private avcRaw: Uint8Array | undefined;
  private ascRaw: Uint8Array | undefined;
  private readonly warned = new Set<string>();

  constructor(publisher: Publisher, log: Logger) {
    this.publisher = publisher;
    this.log = log;
  }

  private warnOnce(key: string, msg: string, extra: Record<string, unknown> = {}): void {
    this.stats.dropped++;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn({ ...extra }, msg);
  }

  /** A video message (type 9) with its RTMP timestamp. */
  video(timestamp: number, payload: Uint8Array): void {
    const t = this.time.unwrap(timestamp);
    const tag = VideoTag.parse(payload);
    if (!tag.isAvc) {
      const codec = tag.fourCC ?? `codec id ${tag.codecId}`;
      this.warnOnce('vcodec', 'RTMP video codec is not H.264; video dropped', { codec });
      return;
    }
    const kind = tag.kind;
    if (kind === 'sequence') return this.sequenceHeader(tag.data);
    if (kind !== 'frames') return;
    if (!this.avc) return this.warnOnce('noavc', 'H.264 frames before the AVC sequence header; dropped');
    const nalus = splitAvcc(tag.data, this.avc.lengthSize).filter((n) => {
      const type = n[0]! & 0x1f;
      return type !== NAL_AUD && type !== NAL_FILLER;
    });
    if (nalus.length === 0) return;
    if (tag.compositionTime !== 0 && !this.warned.has('bframes')) {
      this.warned.add('bframes');
      this.log.warn('RTMP video has B-frames (composition time ≠ 0); WebRTC viewers may stutter');
    }
    const dts = this.videoClock.next(t);
    this.stats.videoFrames++;
    this.publisher.write(accessUnit('h264', dts + tag.compositionTime, dts, isKeyframe(nalus), nalus));
  }

  private sequenceHeader(data: Uint8Array): void {
    if (sameBytes(this.avcRaw, data)) return;
    const config = AvcDecoderConfig.parse(data);
    const sps = config.sps[0];
    const pps = config.pps[0];
    if (!sps || !pps) throw new AirError('BAD_MEDIA', 'AVC sequence header without SPS or PPS');
    const info = h264Track(sps, pps);
    this.avc = config;
    this.avcRaw = new Uint8Array(data);
    this.publisher.setVideo(info);
    this.log.info(
      { width: info.width, height: info.height, profile: info.profile, levelIdc: info.level },
      'RTMP video track',
    );
  }

  /** An audio message (type 8) with its RTMP timestamp. */
  audio(timestamp: number, payload: Uint8Array): void {
    const t = this.time.unwrap(timestamp);
    const tag = AudioTag.parse(payload);
    if (!tag.isAac) {
      const codec = tag.fourCC ?? `sound format ${tag.soundFormat}`;
      this.warnOnce('acodec', 'RTMP audio codec is not AAC; audio dropped', { codec });
      return;
    }
    if (tag.kind === 'sequence') {
      if (sameBytes(this.ascRaw, tag.data)) return;
      const asc = parseAudioSpecificConfig(tag.data);
      this.ascRaw = new Uint8Array(tag.data);
      this.publisher.setAudio({
        kind: 'audio',
        codec: 'aac',
        sampleRate: asc.sampleRate,
        channels: asc.channels,
        config: this.ascRaw,
        clockRate: asc.sampleRate,
      });
      this.log.info(
        { sampleRate: asc.sampleRate, channels: asc.channels, objectType: asc.objectType },
        'RTMP audio track',
      );
      return;
    }
    if (tag.kind !== 'frames' || tag.data.length === 0) return;
    if (!this.ascRaw) return this.warnOnce('noasc', 'AAC frames before the AudioSpecificConfig; dropped');
    const ts = this.audioClock.next(t);
    this.stats.audioFrames++;
    this.publisher.write(accessUnit('aac', ts, ts, true, [tag.data]));
  }

  /** A data message: `@setDataFrame onMetaData {…}` or `onMetaData {…}`. */
  data(values: readonly Amf0Value[]): void {
    const i = values[0] === '@setDataFrame' ? 1 : 0;
    if (values[i] !== 'onMetaData') return;
    const md = values[i + 1];
    if (md === null || typeof md !== 'object' || Array.isArray(md) || md instanceof Date) return;
    this.metadata = md;
    const pick = (k: string): Amf0Value => md[k];
    this.log.info(
      { width: pick('width'), height: pick('height'), fps: pick('framerate'), encoder: pick('encoder') },
      'RTMP metadata',
    );
  }
}
