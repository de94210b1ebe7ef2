/**
 * The internal stream model shared by every protocol adapter (DESIGN §3).
 * Nothing protocol-specific lives here: RTMP, RTSP and WebRTC adapters convert to and from it.
 */

/** Codecs the media plane carries. */
export type Codec = 'h264' | 'aac' | 'opus';

/** H.264 video track description (decoder configuration taken from the SPS/PPS). */
export interface VideoTrack {
  readonly kind: 'video';
  readonly codec: 'h264';
  /** Sequence parameter set NAL unit, without start code. */
  readonly sps: Uint8Array;
  /** Picture parameter set NAL unit, without start code. */
  readonly pps: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** profile_idc, constraint flags, level_idc as in the SPS (e.g. 0x42, 0xc0, 0x1f). */
  readonly profile: number;
  readonly constraints: number;
  readonly level: number;
  /** RTP clock rate, always 90 000. */
  readonly clockRate: 90000;
}

/** Audio track description. */
export interface AudioTrack {
  readonly kind: 'audio';
  readonly codec: 'aac' | 'opus';
  readonly sampleRate: number;
  readonly channels: number;
  /** AAC AudioSpecificConfig; absent for Opus. */
  readonly config?: Uint8Array;
  readonly clockRate: number;
}

export type Track = VideoTrack | AudioTrack;

/**
 * One access unit: a whole video frame (all its NAL units) or one audio frame.
 * Timestamps are in milliseconds on the stream's timeline (monotonic across publisher
 * reconnects; the Stream rebases them).
 */
export interface AccessUnit {
  readonly codec: Codec;
  /** Presentation time, ms. */
  readonly pts: number;
  /** Decode time, ms. Equal to pts for audio and for video without B-frames. */
  readonly dts: number;
  /** True for a video frame that starts a GOP (IDR, SPS in band); always true for audio. */
  readonly key: boolean;
  /** Video: NAL units without start codes. Audio: a single raw frame. */
  readonly data: readonly Uint8Array[];
  /**
   * Per-AU memo for adapters that serialise once per stream and share the result among
   * readers (e.g. the RTP packets of this frame). Keyed by the adapter's own symbol.
   */
  readonly memo: Map<symbol, unknown>;
}

/** Builds an AccessUnit with an empty memo. */
export function accessUnit(
  codec: Codec,
  pts: number,
  dts: number,
  key: boolean,
  data: readonly Uint8Array[],
): AccessUnit {
  return { codec, pts, dts, key, data, memo: new Map() };
}
