/**
 * The recorder's segmenter (DESIGN §3, recording): access units of the stream model in,
 * fragmented-MP4 (CMAF) HLS segments out — remuxed, never re-encoded. A segment starts at a
 * video keyframe and is cut at the first keyframe past `targetMs`; audio samples go to the
 * segment whose time range holds them. A jump in the timeline (a publisher that dropped and came
 * back) cuts a segment and marks the next one as a discontinuity. Pure: `process(au)` returns
 * what is ready, `flush()` the rest; the caller writes files.
 */
import { toAvcc } from '../h264/nal.ts';
import { opusPacketSamples } from '../rtp/opus.ts';
import type { AccessUnit, AudioTrack, VideoTrack } from '../../stream/types.ts';
import { initSegment, mediaSegment, type Fmp4Sample, type Fmp4Track } from '../fmp4/boxes.ts';

/** What the segmenter hands back. */
export type SegmenterOutput =
  | { type: 'init'; data: Uint8Array }
  | {
      type: 'segment';
      /** 1, 2, … in order. */
      sequence: number;
      /** Stream time of the segment's first video frame, ms. */
      startMs: number;
      durationMs: number;
      data: Uint8Array;
      /** The timeline jumped before this segment (EXT-X-DISCONTINUITY). */
      discontinuity: boolean;
    };

export interface SegmenterOptions {
  /** Cut at the first keyframe at least this long after the segment's start, ms (default 2000). */
  targetMs?: number;
  /** A gap between video frames longer than this is a discontinuity, ms (default 1000). */
  gapMs?: number;
}

interface Pending {
  dts: number;
  pts: number;
  key: boolean;
  data: Uint8Array;
}

const VIDEO_TIMESCALE = 90000;

/** Segments one recording (one set of tracks; a track change starts a new segmenter). */
export class HlsSegmenter {
  private readonly video: Fmp4Track;
  private readonly audio: Fmp4Track | undefined;
  private readonly targetMs: number;
  private readonly gapMs: number;
  private initSent = false;
  private sequence = 0;
  private segStart: number | undefined;
  private discontinuity = false;
  private videoSamples: Pending[] = [];
  private audioSamples: Pending[] = [];
  private lastVideoDts: number | undefined;
  private lastDuration = { video: 3000, audio: 1024 };

  constructor(tracks: { video: VideoTrack; audio?: AudioTrack }, opts: SegmenterOptions = {}) {
    this.video = { id: 1, timescale: VIDEO_TIMESCALE, track: tracks.video };
    if (tracks.audio) {
      const rate = tracks.audio.codec === 'opus' ? 48000 : tracks.audio.sampleRate;
      this.audio = { id: 2, timescale: rate, track: tracks.audio };
    }
    this.targetMs = opts.targetMs ?? 2000;
    this.gapMs = opts.gapMs ?? 1000;
  }

  /** The init segment (also the first output of `process`). */
  init(): Uint8Array {
    return initSegment(this.audio ? [this.video, this.audio] : [this.video]);
  }

  /** Takes one access unit; returns the init segment first, then each segment as it closes. */
  process(au: AccessUnit): SegmenterOutput[] {
    const out: SegmenterOutput[] = [];
    if (!this.initSent) {
      this.initSent = true;
      out.push({ type: 'init', data: this.init() });
    }
    if (au.codec === 'h264') {
      if (this.segStart === undefined) {
        if (!au.key) return out; // a recording starts at a keyframe
        this.segStart = au.dts;
      }
      const gap = this.lastVideoDts !== undefined && au.dts - this.lastVideoDts > this.gapMs;
      if (au.key && this.videoSamples.length > 0 && (gap || au.dts - this.segStart >= this.targetMs)) {
        // Across a gap the closing segment ends one frame after its last frame, not at the gap's end.
        const end = gap ? this.lastVideoDts! + this.lastDuration.video / 90 : au.dts;
        out.push(this.cut(end, gap));
        this.segStart = au.dts;
      } else if (gap && !au.key) {
        // A jump without a keyframe: drop until the next one (the segment cannot start here).
        return out;
      }
      this.lastVideoDts = au.dts;
      this.videoSamples.push({ dts: au.dts, pts: au.pts, key: au.key, data: toAvcc(au.data) });
    } else if (this.audio && au.codec === this.audio.track.codec) {
      if (this.segStart === undefined || au.dts < this.segStart) return out;
      for (const d of au.data) this.audioSamples.push({ dts: au.dts, pts: au.pts, key: true, data: d });
    }
    return out;
  }

  /** Closes the open segment (the recording ended). */
  flush(): SegmenterOutput[] {
    if (this.videoSamples.length === 0 || this.segStart === undefined) return [];
    const end = this.videoSamples.at(-1)!.dts + this.lastDuration.video / 90;
    return [this.cut(end, false)];
  }

  /** Emits the segment [segStart, end): every video sample held, the audio before `end`. */
  private cut(end: number, gapNext: boolean): SegmenterOutput {
    const start = this.segStart!;
    const video = this.videoSamples;
    const audio = this.audioSamples.filter((s) => s.dts < end);
    this.audioSamples = this.audioSamples.filter((s) => s.dts >= end);
    this.videoSamples = [];
    const toTicks = (ms: number, scale: number): number => Math.round((ms * scale) / 1000);
    const vSamples: Fmp4Sample[] = video.map((s, i) => {
      const next = i + 1 < video.length ? video[i + 1]!.dts : end;
      const duration = Math.max(1, toTicks(next, VIDEO_TIMESCALE) - toTicks(s.dts, VIDEO_TIMESCALE));
      this.lastDuration.video = duration;
      return {
        data: s.data,
        duration,
        compositionOffset: toTicks(s.pts, VIDEO_TIMESCALE) - toTicks(s.dts, VIDEO_TIMESCALE),
        key: s.key,
      };
    });
    const parts: Parameters<typeof mediaSegment>[1][number][] = [
      { track: this.video, baseDecodeTime: toTicks(start, VIDEO_TIMESCALE), samples: vSamples },
    ];
    if (this.audio && audio.length > 0) {
      const scale = this.audio.timescale;
      const aSamples: Fmp4Sample[] = audio.map((s, i) => {
        let duration: number;
        if (this.audio!.track.codec === 'opus') duration = opusSamples(s.data);
        else if (i + 1 < audio.length) duration = toTicks(audio[i + 1]!.dts, scale) - toTicks(s.dts, scale);
        else duration = 1024;
        if (duration <= 0) duration = this.lastDuration.audio;
        this.lastDuration.audio = duration;
        return { data: s.data, duration, key: true };
      });
      parts.push({ track: this.audio, baseDecodeTime: toTicks(audio[0]!.dts, scale), samples: aSamples });
    }
    const seg: SegmenterOutput = {
      type: 'segment',
      sequence: ++this.sequence,
      startMs: start,
      durationMs: end - start,
      data: mediaSegment(this.sequence, parts),
      discontinuity: this.discontinuity,
    };
    this.discontinuity = gapNext;
    this.segStart = end;
    return seg;
  }
}

function opusSamples(packet: Uint8Array): number {
  try {
    return opusPacketSamples(packet);
  } catch {
    return 960;
  }
}
