/**
 * Media figures as Prometheus metrics, read from what the media plane already counts: the
 * stream registry (ingest bytes, frames, bitrate, readers' drops), the WHEP server (sessions,
 * joins, the egress worker's RTP totals) and the audio transcoders (restarts). Gauges are read
 * at scrape time; rates the media plane does not keep (frames per second) and counts held by
 * short-lived objects (a reader's drops, a transcoder's restarts) are sampled each second so
 * that nothing is lost when the object goes away.
 */
import { Counter, Gauge } from 'prom-client';
import type { WhepServer } from '../../media/servers/webrtc/whep-server.ts';
import type { Reader } from '../../media/stream/reader.ts';
import type { StreamRegistry } from '../../media/stream/registry.ts';
import type { Stream } from '../../media/stream/stream.ts';
import { METRIC_PREFIX as P, type Metrics } from './metrics.ts';

/** The transcoders' side, as the AudioManager offers it. */
export interface TranscoderSource {
  stats(): Record<string, { restarts: number }>;
}

/** What {@link watchMedia} reads. */
export interface MediaSources {
  /** This node's name in the cluster ("main", "sub-1", …): the `node` label of viewers. */
  node: string;
  registry: StreamRegistry;
  whep: WhepServer;
  /** The AAC → Opus transcoders (absent on a sub, which runs none). */
  audio?: TranscoderSource;
  /** Sampling period of rates and short-lived counts, ms (default 1000). */
  sampleMs?: number;
}

/** A reader's kind from its label ("record:live/x" → "record"); bounded, never an id. */
function readerKind(r: Reader): string {
  const kind = r.label.split(':')[0] ?? 'reader';
  return /^[a-z][a-z0-9_-]{0,31}$/.test(kind) ? kind : 'other';
}

/** Keeps running totals of counts that live on objects which come and go. */
class Sampler {
  /** Readers seen, with the drops already counted. */
  private readonly readers = new Map<Reader, { path: string; kind: string; counted: number }>();
  /** Dropped access units by "path\0kind". */
  readonly drops = new Map<string, number>();
  /** Transcoder restarts by path (the last figure seen of each path's transcoder). */
  private readonly lastRestarts = new Map<string, number>();
  readonly restarts = new Map<string, number>();
  /** Video frames per second by stream, from the last two samples. */
  private readonly frames = new Map<Stream, { frames: number; at: number; fps: number }>();

  private readonly src: MediaSources;

  constructor(src: MediaSources) {
    this.src = src;
  }

  /** Takes one sample (each period and before each scrape). */
  sample(): void {
    const now = Date.now();
    const live = new Set<Reader>();
    for (const s of this.src.registry.list()) {
      for (const r of s.readers) {
        live.add(r);
        let seen = this.readers.get(r);
        if (!seen) {
          this.readers.set(r, (seen = { path: s.path, kind: readerKind(r), counted: 0 }));
          // The series starts at 0 with the reader (a rate needs its start).
          const key = `${seen.path}\0${seen.kind}`;
          if (!this.drops.has(key)) this.drops.set(key, 0);
        }
        this.addDrops(seen, r.dropped);
      }
      const f = this.frames.get(s);
      const n = s.stats.videoFrames;
      if (!f) this.frames.set(s, { frames: n, at: now, fps: 0 });
      else if (now - f.at >= 900) {
        f.fps = s.state === 'live' ? ((n - f.frames) * 1000) / (now - f.at) : 0;
        f.frames = n;
        f.at = now;
      }
    }
    // A closed reader keeps its last count: take it, then forget the reader.
    for (const [r, seen] of this.readers) {
      if (live.has(r)) continue;
      this.addDrops(seen, r.dropped);
      this.readers.delete(r);
    }
    for (const [path, st] of Object.entries(this.src.audio?.stats() ?? {})) {
      const last = this.lastRestarts.get(path) ?? 0;
      // A smaller figure is a new transcoder of the path: its whole count is new.
      const delta = st.restarts >= last ? st.restarts - last : st.restarts;
      this.lastRestarts.set(path, st.restarts);
      this.restarts.set(path, (this.restarts.get(path) ?? 0) + Math.max(delta, 0));
    }
  }

  private addDrops(seen: { path: string; kind: string; counted: number }, dropped: number): void {
    if (dropped <= seen.counted) return;
    const key = `${seen.path}\0${seen.kind}`;
    this.drops.set(key, (this.drops.get(key) ?? 0) + dropped - seen.counted);
    seen.counted = dropped;
  }

  fps(s: Stream): number {
    return this.frames.get(s)?.fps ?? 0;
  }
}

/** Streams worth a series: published, waiting for their publisher, or watched. */
function activeStreams(registry: StreamRegistry): Stream[] {
  return registry.list().filter((s) => s.state !== 'idle' || s.readers.size > 0);
}

/** Registers the media metrics of one node on `metrics` (sampling stops on `metrics.close()`). */
export function watchMedia(metrics: Metrics, src: MediaSources): void {
  const registers = [metrics.registry];
  const sampler = new Sampler(src);
  const timer = setInterval(() => sampler.sample(), src.sampleMs ?? 1000);
  timer.unref();
  metrics.onClose(() => clearInterval(timer));
  const { registry, whep, node } = src;

  new Gauge({
    name: `${P}viewers`,
    help: 'WebRTC (WHEP) viewer sessions, by path and node.',
    labelNames: ['path', 'node'],
    registers,
    collect() {
      this.reset();
      const paths = new Set(activeStreams(registry).map((s) => s.path));
      for (const path of paths) this.set({ path, node }, whep.viewers(path));
    },
  });
  new Gauge({
    name: `${P}whep_joins`,
    help: 'WHEP joins by state: DTLS handshakes in flight, or queued for a slot.',
    labelNames: ['state'],
    registers,
    collect() {
      const j = whep.joins;
      this.set({ state: 'in_flight' }, j.inFlight);
      this.set({ state: 'queued' }, j.queued);
    },
  });
  new Gauge({
    // Bytes, the base unit (promtool's lint refuses bits): × 8 for the bitrate.
    name: `${P}ingest_bytes_per_second`,
    help: 'Ingest rate of a published path (all tracks as published, last 2 s), bytes per second.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      for (const s of activeStreams(registry))
        this.set({ path: s.path }, s.state === 'live' ? s.bitrate / 8 : 0);
    },
  });
  new Gauge({
    name: `${P}ingest_video_frames_per_second`,
    help: 'Video frames per second published on a path (over the last second).',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      for (const s of activeStreams(registry))
        this.set({ path: s.path }, Math.round(sampler.fps(s) * 10) / 10);
    },
  });
  new Counter({
    name: `${P}ingest_video_frames_total`,
    help: 'Video frames published on a path since it was first published on this node.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      for (const s of registry.list())
        if (s.stats.videoFrames > 0) this.inc({ path: s.path }, s.stats.videoFrames);
    },
  });
  new Counter({
    name: `${P}ingest_bytes_total`,
    help: 'Media bytes published on a path since it was first published on this node.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      for (const s of registry.list()) if (s.stats.bytesIn > 0) this.inc({ path: s.path }, s.stats.bytesIn);
    },
  });
  new Counter({
    name: `${P}reader_dropped_frames_total`,
    help: 'Access units dropped by slow readers (recorder, live HLS, transcoder, RTSP), by path and reader kind.',
    labelNames: ['path', 'reader'],
    registers,
    collect() {
      sampler.sample();
      this.reset();
      for (const [key, n] of sampler.drops) {
        const [path = '', reader = ''] = key.split('\0');
        this.inc({ path, reader }, n);
      }
    },
  });
  new Counter({
    name: `${P}rtp_packets_sent_total`,
    help: 'RTP packets sent to WebRTC viewers (both tracks, retransmissions included).',
    registers,
    collect() {
      this.reset();
      this.inc(whep.figures?.packetsSent ?? 0);
    },
  });
  new Counter({
    name: `${P}rtp_sent_bytes_total`,
    help: 'Bytes of RTP (header and payload, before SRTP) sent to WebRTC viewers.',
    registers,
    collect() {
      this.reset();
      this.inc(whep.figures?.bytesSent ?? 0);
    },
  });
  new Counter({
    name: `${P}transcoder_restarts_total`,
    help: 'Restarts of the AAC → Opus ffmpeg transcoder after it exited, by path.',
    labelNames: ['path'],
    registers,
    collect() {
      sampler.sample();
      this.reset();
      for (const [path, n] of sampler.restarts) this.inc({ path }, n);
    },
  });
}
