/**
 * FLV audio and video tag bodies, as carried in RTMP audio (8) and video (9) messages
 * (FLV spec v10.1 §E.4.2/E.4.3, and Enhanced RTMP v1/v2 for FourCC video and audio).
 *
 * ```
 * Video, legacy:
 *  +--------+--------+  codec 7 (AVC) / 12 (HEVC, non-standard) only:
 *  |Frame(4)|Codec(4)|  +---------------+------------------------------+------
 *  +--------+--------+  | AVCPacketType | CompositionTime (SI24, ms)   | data
 *                       +---------------+------------------------------+------
 *   frame: 1 key, 2 inter, 3 disposable, 4 generated key, 5 command (then one byte, no packet)
 *   AVCPacketType: 0 sequence header (AVCDecoderConfigurationRecord), 1 NAL units (AVCC),
 *   2 end of sequence
 *
 * Video, enhanced (first bit set):
 *  +-+--------+----------+-------------+----------------------------------+------
 *  |1|Frame(3)|PktType(4)| FourCC (32) | CompositionTime (SI24), only for | data
 *  +-+--------+----------+-------------+ CodedFrames of avc1/hvc1         +------
 *   PktType: 0 SequenceStart, 1 CodedFrames, 2 SequenceEnd, 3 CodedFramesX (no CTS), 4 Metadata
 *
 * Audio, legacy:
 *  +-----------+---------+---------+---------+  format 10 (AAC) only:
 *  | Format(4) | Rate(2) | Size(1) | Type(1) |  +---------------+------
 *  +-----------+---------+---------+---------+  | AACPacketType | data   0 AudioSpecificConfig,
 *                                               +---------------+------  1 raw AAC frame
 * Audio, enhanced (format 9):
 *  +-----------+-----------+-------------+------
 *  | 9 (4)     | PktType(4)| FourCC (32) | data   0 SequenceStart, 1 CodedFrames, 2 SequenceEnd
 *  +-----------+-----------+-------------+------
 * ```
 */
import { AirError } from '../../../shared/errors.ts';

/** Legacy video codec ids. */
export const VideoCodecId = { AVC: 7, HEVC: 12 } as const;
/** Legacy AVC packet types, and the normalised kinds of a video tag. */
export const AvcPacketType = { SequenceHeader: 0, Nalu: 1, EndOfSequence: 2 } as const;
/** Enhanced RTMP video packet types. */
export const ExVideoPacketType = {
  SequenceStart: 0,
  CodedFrames: 1,
  SequenceEnd: 2,
  CodedFramesX: 3,
  Metadata: 4,
} as const;
/** Legacy sound formats. */
export const SoundFormat = { MP3: 2, ExHeader: 9, AAC: 10 } as const;

function bad(msg: string): AirError {
  return new AirError('BAD_MEDIA', `FLV: ${msg}`);
}

function fourCC(b: Uint8Array, p: number): string {
  return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
}

function putFourCC(b: Uint8Array, p: number, s: string): void {
  for (let i = 0; i < 4; i++) b[p + i] = s.charCodeAt(i) & 0xff;
}

/** What a video tag carries, independent of legacy or enhanced framing. */
export type VideoTagKind = 'sequence' | 'frames' | 'end' | 'other';

/** One FLV video tag body. */
export class VideoTag {
  frameType: number;
  /** Legacy codec id; `undefined` for an enhanced tag. */
  codecId: number | undefined;
  /** Enhanced RTMP FourCC ('avc1', 'hvc1', 'av01', 'vp09'); `undefined` for a legacy tag. */
  fourCC: string | undefined;
  /** AVCPacketType (legacy AVC/HEVC) or enhanced packet type; `undefined` for other codecs. */
  packetType: number | undefined;
  /** Composition time offset (pts − dts), ms, signed. */
  compositionTime: number;
  data: Uint8Array;

  constructor(init: {
    frameType: number;
    codecId?: number;
    fourCC?: string;
    packetType?: number;
    compositionTime?: number;
    data: Uint8Array;
  }) {
    this.frameType = init.frameType;
    this.codecId = init.codecId;
    this.fourCC = init.fourCC;
    this.packetType = init.packetType;
    this.compositionTime = init.compositionTime ?? 0;
    this.data = init.data;
  }

  /** True for H.264, legacy (codec 7) or enhanced ('avc1'). */
  get isAvc(): boolean {
    return this.codecId === VideoCodecId.AVC || this.fourCC === 'avc1';
  }

  /** Sequence header/start, coded frames, end of sequence, or anything else. */
  get kind(): VideoTagKind {
    const t = this.packetType;
    if (t === undefined) return 'other';
    if (this.fourCC === undefined) {
      return t === 0 ? 'sequence' : t === 1 ? 'frames' : t === 2 ? 'end' : 'other';
    }
    if (t === ExVideoPacketType.SequenceStart) return 'sequence';
    if (t === ExVideoPacketType.CodedFrames || t === ExVideoPacketType.CodedFramesX) return 'frames';
    return t === ExVideoPacketType.SequenceEnd ? 'end' : 'other';
  }

  private get hasCts(): boolean {
    if (this.fourCC === undefined) return this.packetType !== undefined;
    return (
      this.packetType === ExVideoPacketType.CodedFrames && (this.fourCC === 'avc1' || this.fourCC === 'hvc1')
    );
  }

  static parse(b: Uint8Array): VideoTag {
    if (b.length < 1) throw bad('empty video tag');
    if (b[0]! & 0x80) {
      if (b.length < 5) throw bad('truncated enhanced video tag');
      const tag = new VideoTag({
        frameType: (b[0]! >> 4) & 0x07,
        fourCC: fourCC(b, 1),
        packetType: b[0]! & 0x0f,
        data: b.subarray(5),
      });
      if (tag.hasCts) {
        if (b.length < 8) throw bad('truncated enhanced video tag');
        tag.compositionTime = si24(b, 5);
        tag.data = b.subarray(8);
      }
      return tag;
    }
    const frameType = b[0]! >> 4;
    const codecId = b[0]! & 0x0f;
    const framed = (codecId === VideoCodecId.AVC || codecId === VideoCodecId.HEVC) && frameType !== 5;
    if (!framed) return new VideoTag({ frameType, codecId, data: b.subarray(1) });
    if (b.length < 5) throw bad('truncated AVC video tag');
    return new VideoTag({
      frameType,
      codecId,
      packetType: b[1]!,
      compositionTime: si24(b, 2),
      data: b.subarray(5),
    });
  }

  serialize(): Uint8Array {
    let head: Uint8Array;
    if (this.fourCC !== undefined) {
      head = new Uint8Array(this.hasCts ? 8 : 5);
      head[0] = 0x80 | ((this.frameType & 0x07) << 4) | ((this.packetType ?? 0) & 0x0f);
      putFourCC(head, 1, this.fourCC);
      if (this.hasCts) putSi24(head, 5, this.compositionTime);
    } else if (this.packetType !== undefined) {
      head = new Uint8Array(5);
      head[0] = ((this.frameType & 0x0f) << 4) | ((this.codecId ?? 0) & 0x0f);
      head[1] = this.packetType;
      putSi24(head, 2, this.compositionTime);
    } else {
      head = Uint8Array.of(((this.frameType & 0x0f) << 4) | ((this.codecId ?? 0) & 0x0f));
    }
    const out = new Uint8Array(head.length + this.data.length);
    out.set(head);
    out.set(this.data, head.length);
    return out;
  }
}

/** One FLV audio tag body. */
export class AudioTag {
  /** Sound format (10 AAC, 9 enhanced). */
  soundFormat: number;
  /** Legacy rate/size/type bits (low nibble of the first byte); 0 for enhanced. */
  flags: number;
  /** Enhanced RTMP FourCC ('mp4a', 'Opus', …); `undefined` for legacy. */
  fourCC: string | undefined;
  /** AACPacketType (legacy AAC) or enhanced audio packet type; `undefined` otherwise. */
  packetType: number | undefined;
  data: Uint8Array;

  constructor(init: {
    soundFormat: number;
    flags?: number;
    fourCC?: string;
    packetType?: number;
    data: Uint8Array;
  }) {
    this.soundFormat = init.soundFormat;
    this.flags = init.flags ?? 0;
    this.fourCC = init.fourCC;
    this.packetType = init.packetType;
    this.data = init.data;
  }

  /** True for AAC, legacy (format 10) or enhanced ('mp4a'). */
  get isAac(): boolean {
    return this.soundFormat === SoundFormat.AAC || this.fourCC === 'mp4a';
  }

  /** Sequence header (AudioSpecificConfig), coded frames, or anything else. */
  get kind(): 'sequence' | 'frames' | 'other' {
    if (this.packetType === 0) return 'sequence';
    return this.packetType === 1 ? 'frames' : 'other';
  }

  static parse(b: Uint8Array): AudioTag {
    if (b.length < 1) throw bad('empty audio tag');
    const soundFormat = b[0]! >> 4;
    if (soundFormat === SoundFormat.ExHeader) {
      if (b.length < 5) throw bad('truncated enhanced audio tag');
      return new AudioTag({
        soundFormat,
        packetType: b[0]! & 0x0f,
        fourCC: fourCC(b, 1),
        data: b.subarray(5),
      });
    }
    const flags = b[0]! & 0x0f;
    if (soundFormat !== SoundFormat.AAC) return new AudioTag({ soundFormat, flags, data: b.subarray(1) });
    if (b.length < 2) throw bad('truncated AAC audio tag');
    return new AudioTag({ soundFormat, flags, packetType: b[1]!, data: b.subarray(2) });
  }

  serialize(): Uint8Array {
    let head: Uint8Array;
    if (this.fourCC !== undefined) {
      head = new Uint8Array(5);
      head[0] = (SoundFormat.ExHeader << 4) | ((this.packetType ?? 0) & 0x0f);
      putFourCC(head, 1, this.fourCC);
    } else if (this.packetType !== undefined) {
      head = Uint8Array.of((this.soundFormat << 4) | this.flags, this.packetType);
    } else {
      head = Uint8Array.of((this.soundFormat << 4) | this.flags);
    }
    const out = new Uint8Array(head.length + this.data.length);
    out.set(head);
    out.set(this.data, head.length);
    return out;
  }
}

function si24(b: Uint8Array, p: number): number {
  const v = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  return v & 0x800000 ? v - 0x1000000 : v;
}

function putSi24(b: Uint8Array, p: number, v: number): void {
  const u = v < 0 ? v + 0x1000000 : v;
  b[p] = (u >> 16) & 0xff;
  b[p + 1] = (u >> 8) & 0xff;
  b[p + 2] = u & 0xff;
}
