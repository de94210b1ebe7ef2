import type { Logger } from '../../shared/logger.ts';
import type { StreamRegistry } from '../stream/registry.ts';
import type { Stream } from '../stream/stream.ts';
import { AudioTranscoder, type AudioTranscoderStats } from './audio-transcoder.ts';
import type { FfmpegLocation } from './ffmpeg-locate.ts';

/** Dependencies of the audio manager. */
export interface AudioManagerOptions {
  registry: StreamRegistry;
  logger: Logger;
  /** What `locateFfmpeg` found (or why nothing). */
  ffmpeg: FfmpegLocation;
  /** Opus bitrate, bits/s (default 64 000). */
  bitrate?: number;
}

/** Transcoder availability, as /health reports it. */
export interface AudioManagerStatus {
  available: boolean;
  reason?: string;
  path?: string;
  version?: string;
  opusEncoder?: string;
  source?: string;
  /** Transcoders running now. */
  transcoders: number;
}

/** The note streams get when browsers cannot hear AAC because there is no ffmpeg. */
export const AUDIO_OFF_NO_FFMPEG = 'audio off: ffmpeg not found (install ffmpeg)';

interface Entry {
  onTracks: () => void;
  transcoder?: AudioTranscoder;
  warned: boolean;
}

/**
 * Runs one AAC → Opus transcoder per stream whose published audio is AAC (DESIGN §3), from the
 * moment the stream announces that track until it goes offline. A publisher that drops and
 * returns within the grace period keeps its transcoder (the stream is the same object). With
 * no ffmpeg, streams get an "audio off" note instead and video flows on.
 */
export class AudioManager {
  private readonly registry: StreamRegistry;
  private readonly log: Logger;
  private readonly ffmpeg: FfmpegLocation;
  private readonly bitrate?: number;
  private readonly entries = new Map<Stream, Entry>();
  private closed = false;
  private closing?: Promise<void>;
  private readonly onPublish = (s: Stream) => this.watch(s);
  private readonly onOffline = (s: Stream) => void this.unwatch(s);

  constructor(opts: AudioManagerOptions) {
    this.registry = opts.registry;
    this.log = opts.logger;
    this.ffmpeg = opts.ffmpeg;
    this.bitrate = opts.bitrate;
    this.registry.on('publish', this.onPublish);
    this.registry.on('offline', this.onOffline);
    for (const s of this.registry.list()) if (s.state !== 'idle') this.watch(s);
  }

  /** Whether browser audio can be made, with the ffmpeg in use or the reason it cannot. */
  status(): AudioManagerStatus {
    let transcoders = 0;
    for (const e of this.entries.values()) if (e.transcoder) transcoders++;
    if (!this.ffmpeg.ok) return { available: false, reason: this.ffmpeg.reason, transcoders };
    const { path, version, opusEncoder, source } = this.ffmpeg;
    return { available: true, path, version, opusEncoder, source, transcoders };
  }

  /** The transcoder of `path`, if one runs (stats, tests). */
  transcoder(path: string): AudioTranscoder | undefined {
    for (const [s, e] of this.entries) if (s.path === path) return e.transcoder;
    return undefined;
  }

  /** Per-path transcoder figures. */
  stats(): Record<string, AudioTranscoderStats> {
    const out: Record<string, AudioTranscoderStats> = {};
    for (const [s, e] of this.entries) if (e.transcoder) out[s.path] = e.transcoder.stats();
    return out;
  }

  private watch(stream: Stream): void {
    if (this.closed || this.entries.has(stream)) return;
    const entry: Entry = { onTracks: () => this.sync(stream, entry), warned: false };
    this.entries.set(stream, entry);
    stream.on('tracks', entry.onTracks);
    this.sync(stream, entry);
  }

  /** Brings the stream's transcoder in line with its published audio. Re-entrant safe. */
  private sync(stream: Stream, entry: Entry): void {
    if (this.closed) return;
    const aac = stream.audio?.codec === 'aac';
    if (!aac) {
      if (entry.transcoder) {
        const t = entry.transcoder;
        entry.transcoder = undefined;
        this.log.info({ path: stream.path }, 'published audio is no longer AAC; transcoder stopped');
        void t.close();
      }
      return;
    }
    if (entry.transcoder) return;
    if (!this.ffmpeg.ok) {
      if (stream.audioNote !== AUDIO_OFF_NO_FFMPEG || stream.opus)
        stream.setOpus(undefined, AUDIO_OFF_NO_FFMPEG);
      if (!entry.warned) {
        entry.warned = true;
        this.log.warn(
          { path: stream.path, reason: this.ffmpeg.reason },
          'browsers will not hear this AAC stream',
        );
      }
      return;
    }
    const transcoder = new AudioTranscoder({
      stream,
      ffmpeg: this.ffmpeg,
      logger: this.log,
      ...(this.bitrate ? { bitrate: this.bitrate } : {}),
    });
    entry.transcoder = transcoder;
    this.log.info({ path: stream.path, ffmpeg: this.ffmpeg.path }, 'AAC → Opus transcoder started');
    transcoder.start().catch((err: unknown) => {
      this.log.error({ err, path: stream.path }, 'transcoder failed to start');
      if (entry.transcoder === transcoder) entry.transcoder = undefined;
      void transcoder.close();
    });
  }

  private async unwatch(stream: Stream): Promise<void> {
    const entry = this.entries.get(stream);
    if (!entry) return;
    this.entries.delete(stream);
    stream.off('tracks', entry.onTracks);
    if (entry.transcoder) {
      this.log.info({ path: stream.path, ...entry.transcoder.stats() }, 'AAC → Opus transcoder stopped');
      await entry.transcoder.close();
    }
  }

  /** Stops every transcoder and stops listening. Idempotent; resolves when ffmpegs have exited. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.registry.off('publish', this.onPublish);
    this.registry.off('offline', this.onOffline);
    const all = [...this.entries.keys()].map((s) => this.unwatch(s));
    this.closed = true;
    this.closing = Promise.all(all).then(() => undefined);
    return this.closing;
  }
}
