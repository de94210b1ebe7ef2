/**
 * The egress worker: every viewer's WebRTC session (node-datachannel: ICE on one shared UDP
 * port, DTLS, SRTP) lives in this thread, fed by the ingest thread through a ring of packets in
 * shared memory. Per stream it keeps the GOP, a retransmission buffer per track, the clock and
 * the audio pacer (egress-stream.ts); per viewer only a header rewrite (SSRC, payload type,
 * sequence number) and the send. node-datachannel is loaded by this thread only: its wrapper
 * keeps per-process JavaScript references, so one thread of a process may use it.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import ndc from 'node-datachannel';
import { AudioPacer, EgressStream, type StreamPacket } from './egress-stream.ts';
import { announceCandidates, type ParsedOffer } from './offer.ts';
import {
  FLAG_KEY_START,
  FLAG_MARKER,
  FLAG_VIDEO,
  KIND_EVENT,
  KIND_RTP,
  RingReader,
  type RingRecord,
} from './packet-ring.ts';
import type {
  EgressFigures,
  EgressSettings,
  FromWorker,
  StreamEvent,
  ToWorker,
  ViewerFigures,
} from './protocol.ts';
import { guard, sendSafely } from './ndc-safe.ts';
import { ntpMiddle, ntpOf, parseRtcp, writeSenderReport } from './rtcp.ts';

const port = parentPort;
if (!port) throw new Error('egress-worker runs as a worker thread');
const post = (tenant: number, m: FromWorker): void => port.postMessage({ ...m, tenant });
const wall = (): number => performance.timeOrigin + performance.now();

const MAP_SIZE = 4096;
const MAP_MASK = MAP_SIZE - 1;
/** Largest RTP packet the ingest makes (1150 payload + header), with room to spare. */
const scratch = Buffer.alloc(2048);

/** Sequence numbers a viewer got, mapped back to the stream's, for NACKs. */
class SeqMap {
  private readonly viewer = new Int32Array(MAP_SIZE).fill(-1);
  private readonly stream = new Uint16Array(MAP_SIZE);
  set(viewerSeq: number, streamSeq: number): void {
    this.viewer[viewerSeq & MAP_MASK] = viewerSeq;
    this.stream[viewerSeq & MAP_MASK] = streamSeq;
  }
  get(viewerSeq: number): number | undefined {
    return this.viewer[viewerSeq & MAP_MASK] === viewerSeq ? this.stream[viewerSeq & MAP_MASK] : undefined;
  }
}

/** Packets sent by an egress: in the current second, and in total (packets, bytes). */
interface EgressCounter {
  sent: number;
  packets: number;
  bytes: number;
}

/** One sending track of a viewer. */
class Sender {
  track!: ndc.Track;
  readonly ssrc = randomInt(1, 0xffff_ffff);
  readonly pt: number;
  seq = randomInt(0, 0x10000);
  packets = 0;
  octets = 0;
  readonly map = new SeqMap();
  /** Middle 32 bits of the NTP time of our last SR (RTT from report blocks). */
  lastSr = 0;

  private readonly counter: EgressCounter;

  constructor(pt: number, counter: EgressCounter) {
    this.pt = pt;
    this.counter = counter;
  }

  /** Writes the per-viewer header in front of the shared payload and sends. */
  send(p: StreamPacket, seq: number): boolean {
    const n = 12 + p.payload.length;
    scratch[0] = 0x80;
    scratch[1] = (p.marker ? 0x80 : 0) | this.pt;
    scratch.writeUInt16BE(seq, 2);
    scratch.writeUInt32BE(p.timestamp, 4);
    scratch.writeUInt32BE(this.ssrc, 8);
    p.payload.copy(scratch, 12);
    this.counter.sent++;
    this.counter.packets++;
    this.counter.bytes += n;
    return sendSafely(this.track, scratch.subarray(0, n));
  }

  /** Sends a stream packet as the next one of this track. */
  next(p: StreamPacket): boolean {
    const seq = this.seq;
    this.seq = (seq + 1) & 0xffff;
    this.map.set(seq, p.seq);
    this.packets++;
    this.octets += p.payload.length;
    return this.send(p, seq);
  }
}

type Figures = Omit<ViewerFigures, 'id' | 'videoPackets' | 'audioPackets'>;

class Viewer {
  readonly id: string;
  readonly path: string;
  readonly streamIdx: number;
  readonly pc: ndc.PeerConnection;
  readonly video: Sender;
  readonly audio?: Sender;
  readonly createdAt = Date.now();
  connected = false;
  /** Media flows (the video track is open). */
  playing = false;
  /** Video waits for the next keyframe (the stream lost packets, or no GOP yet). */
  waitingKey = false;
  lastRtcp = 0;
  lastPliReplay = 0;
  closed = false;
  readonly f: Figures = { retransmitted: 0, nacks: 0, plis: 0, sendFailures: 0, lost: 0, jitterMs: 0 };

  readonly e: Engine;

  constructor(e: Engine, id: string, path: string, streamIdx: number, offer: ParsedOffer) {
    this.e = e;
    const settings = e.settings;
    this.id = id;
    this.path = path;
    this.streamIdx = streamIdx;
    const cfg: ndc.RtcConfig = { iceServers: settings.iceServers };
    if (settings.portRange) {
      cfg.portRangeBegin = settings.portRange[0];
      cfg.portRangeEnd = settings.portRange[1];
    } else {
      cfg.enableIceUdpMux = true;
      cfg.portRangeBegin = settings.udpPort;
      cfg.portRangeEnd = settings.udpPort;
    }
    if (settings.bindAddress) cfg.bindAddress = settings.bindAddress;
    this.pc = new ndc.PeerConnection(id.slice(0, 8), cfg);
    const msid = `airclass-${id.slice(0, 8)}`;
    this.video = new Sender(offer.video.payloadType, e.counter);
    const v = new ndc.Video(offer.video.mid, 'SendOnly');
    v.addH264Codec(offer.video.payloadType, offer.video.fmtp);
    v.addSSRC(this.video.ssrc, 'airclass', msid, `${msid}-v`);
    this.video.track = this.pc.addTrack(v);
    if (offer.audio) {
      const audio = new Sender(offer.audio.payloadType, e.counter);
      const a = new ndc.Audio(offer.audio.mid, 'SendOnly');
      a.addOpusCodec(offer.audio.payloadType, offer.audio.fmtp);
      a.addSSRC(audio.ssrc, 'airclass', msid, `${msid}-a`);
      audio.track = this.pc.addTrack(a);
      this.audio = audio;
    }
    this.pc.onStateChange(guard((st) => this.onState(st)));
    this.video.track.onOpen(guard(() => this.start()));
    this.video.track.onMessage(guard((m) => this.rtcp(m, this.video)));
    this.audio?.track.onMessage(guard((m) => this.rtcp(m, this.audio!)));
  }

  /** Negotiates from the offer; resolves with the answer. */
  async answer(offer: string): Promise<string> {
    const gathered = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      this.pc.onGatheringStateChange(
        guard((st) => {
          if (st === 'complete') {
            clearTimeout(t);
            resolve();
          }
        }),
      );
    });
    this.pc.setRemoteDescription(offer, 'offer');
    await gathered;
    const local = this.pc.localDescription();
    if (!local?.sdp) throw new Error('no local description');
    const m = /^a=candidate:\S+ \d+ udp \d+ \S+ (\d+) typ host/im.exec(local.sdp);
    return announceCandidates(
      local.sdp,
      this.e.settings.announcedAddresses,
      m ? Number(m[1]) : this.e.settings.udpPort,
    );
  }

  private onState(st: string): void {
    if (this.closed) return;
    if (st === 'connected' && !this.connected) {
      this.connected = true;
      this.lastRtcp = Date.now();
      this.e.post({ op: 'connected', id: this.id });
    } else if (st === 'failed' || st === 'closed') {
      this.e.closeViewer(this, `connection ${st}`);
    }
  }

  /** Media starts: the last GOP first, so the picture appears at once; audio joins live. */
  private start(): void {
    if (this.closed || this.playing) return;
    this.playing = true;
    this.lastRtcp = Date.now();
    let set = this.e.audience.get(this.streamIdx);
    if (!set) this.e.audience.set(this.streamIdx, (set = new Set()));
    set.add(this);
    this.replay();
  }

  /** Sends the stream's cached GOP (or waits for the next keyframe if there is none). */
  replay(): void {
    const s = this.e.streams.get(this.streamIdx);
    if (!s || !s.whole || s.gop.length === 0) {
      this.waitingKey = true;
      return;
    }
    this.waitingKey = false;
    for (const p of s.gop) if (!this.video.next(p)) this.f.sendFailures++;
  }

  sendVideo(p: StreamPacket): void {
    if (this.waitingKey) {
      if (!p.keyStart) return;
      this.waitingKey = false;
    }
    if (!this.video.next(p)) this.f.sendFailures++;
  }

  sendAudio(p: StreamPacket): void {
    if (this.audio && !this.audio.next(p)) this.f.sendFailures++;
  }

  /** RTCP from the viewer: receiver reports, NACK (answered from the stream's buffer), PLI. */
  private rtcp(msg: Buffer, sender: Sender): void {
    if (this.closed) return;
    this.lastRtcp = Date.now();
    const s = this.e.streams.get(this.streamIdx);
    for (const p of parseRtcp(msg)) {
      if (p.type === 'rr' || p.type === 'sr') {
        for (const r of p.reports) {
          if (r.ssrc !== sender.ssrc) continue;
          if (sender === this.video) {
            this.f.lost = r.packetsLost;
            this.f.jitterMs = r.jitter / 90;
          }
          if (r.lsr !== 0 && r.lsr === sender.lastSr) {
            const now = ntpOf(wall());
            const rtt = ((ntpMiddle(now.sec, now.frac) - r.lsr - r.dlsr) >>> 0) / 65.536;
            if (rtt < 10_000) this.f.rttMs = rtt;
          }
        }
      } else if (p.type === 'nack' && p.mediaSsrc === sender.ssrc && s) {
        this.f.nacks++;
        const buf = sender === this.video ? s.video : s.audio;
        for (const seq of p.lost.slice(0, 256)) {
          const streamSeq = sender.map.get(seq);
          const pkt = streamSeq === undefined ? undefined : buf.get(streamSeq);
          if (pkt && sender.send(pkt, seq)) this.f.retransmitted++;
        }
      } else if (p.type === 'pli' && p.mediaSsrc === this.video.ssrc) {
        this.f.plis++;
        const now = Date.now();
        // Only while video flows: a PLI sent because the teacher paused (Chromium asks for a
        // keyframe after ~3 s without frames) must not loop the last GOP on the screen.
        const flowing = s !== undefined && wall() - s.lastVideoArrival < 500;
        if (this.playing && flowing && now - this.lastPliReplay >= this.e.settings.pliIntervalMs) {
          this.lastPliReplay = now;
          this.replay();
        }
      } else if (p.type === 'remb') {
        this.f.rembBps = p.bitrate;
      }
    }
  }

  /** Sender reports for both tracks, from the stream's one clock. */
  report(now: number): void {
    const s = this.e.streams.get(this.streamIdx);
    if (!s || !this.playing) return;
    for (const [sender, video] of [
      [this.video, true],
      [this.audio, false],
    ] as const) {
      if (!sender || sender.packets === 0) continue;
      const rtp = s.clock.rtpAt(video, now);
      if (rtp === undefined) continue;
      const n = writeSenderReport(scratch, {
        ssrc: sender.ssrc,
        unixMs: now,
        rtpTimestamp: rtp,
        packetCount: sender.packets,
        octetCount: sender.octets,
      });
      const ntp = ntpOf(now);
      sender.lastSr = ntpMiddle(ntp.sec, ntp.frac);
      sendSafely(sender.track, scratch.subarray(0, n));
    }
  }

  figures(): ViewerFigures {
    return {
      id: this.id,
      videoPackets: this.video.packets,
      audioPackets: this.audio?.packets ?? 0,
      ...this.f,
    };
  }
}

/**
 * The egress of one node (one WhepServer): its ring, its UDP port, its streams and viewers.
 * One worker thread serves every node of the process (tests build many), since node-datachannel
 * may be used by one thread of a process only.
 */
class Engine {
  readonly tenant: number;
  readonly settings: EgressSettings;
  readonly ring: RingReader;
  readonly streams = new Map<number, EgressStream>();
  readonly byPath = new Map<string, number>();
  readonly pacers = new Map<number, AudioPacer>();
  readonly viewers = new Map<string, Viewer>();
  /** The viewers of each stream that media flows to. */
  readonly audience = new Map<number, Set<Viewer>>();
  readonly counter: EgressCounter = { sent: 0, packets: 0, bytes: 0 };
  closing = false;
  muxListener?: ndc.IceUdpMuxListener;
  private readonly timers: NodeJS.Timeout[] = [];
  private ticks = 0;
  private lastElu = performance.eventLoopUtilization();

  constructor(tenant: number, settings: EgressSettings, ring: RingReader) {
    this.tenant = tenant;
    this.settings = settings;
    this.ring = ring;
  }

  post(m: FromWorker): void {
    post(this.tenant, m);
  }

  /** Binds the shared port (when not a range) and starts reading the ring. */
  start(): void {
    if (!this.settings.portRange) {
      // The mux listener holds the port from the start (a taken port is reported at once); the
      // peer connections on the same port share it.
      this.muxListener = new ndc.IceUdpMuxListener(this.settings.udpPort, this.settings.bindAddress);
      this.muxListener.onUnhandledStunRequest(() => undefined);
    }
    this.timers.push(
      setInterval(() => this.tick(), 500),
      setInterval(() => this.figures(), 1000),
    );
    void this.pump();
  }

  closeViewer(v: Viewer, reason: string): void {
    if (v.closed) return;
    v.closed = true;
    this.viewers.delete(v.id);
    this.audience.get(v.streamIdx)?.delete(v);
    this.post({ op: 'closed', id: v.id, reason });
    // Not from inside one of its own callbacks.
    setImmediate(() => {
      try {
        v.pc.close();
      } catch {
        /* already closed */
      }
    });
  }

  private onEvent(idx: number, ev: StreamEvent): void {
    if (ev.e === 'open') {
      const s = new EgressStream(ev.path);
      this.streams.set(idx, s);
      this.byPath.set(ev.path, idx);
      const pacer = new AudioPacer(
        s.clock,
        (p) => {
          for (const v of this.audience.get(idx) ?? []) v.sendAudio(p);
        },
        wall,
      );
      this.pacers.set(idx, pacer);
    } else {
      const s = this.streams.get(idx);
      for (const v of [...this.viewers.values()])
        if (v.streamIdx === idx) this.closeViewer(v, 'stream offline');
      this.pacers.get(idx)?.close();
      this.pacers.delete(idx);
      this.audience.delete(idx);
      this.streams.delete(idx);
      if (s && this.byPath.get(s.path) === idx) this.byPath.delete(s.path);
    }
  }

  private onRecord(r: RingRecord): void {
    if (r.kind === KIND_EVENT) {
      this.onEvent(r.stream, JSON.parse(r.body.toString('utf8')) as StreamEvent);
      return;
    }
    if (r.kind !== KIND_RTP) return;
    const s = this.streams.get(r.stream);
    if (!s) return;
    const p: StreamPacket = {
      seq: r.seq,
      timestamp: r.timestamp,
      marker: (r.flags & FLAG_MARKER) !== 0,
      video: (r.flags & FLAG_VIDEO) !== 0,
      keyStart: (r.flags & FLAG_KEY_START) !== 0,
      payload: r.body,
      pts: r.pts,
      arrival: r.arrival,
    };
    s.keep(p);
    if (p.video) {
      for (const v of this.audience.get(r.stream) ?? []) v.sendVideo(p);
    } else {
      this.pacers.get(r.stream)?.push(p);
    }
  }

  /** Reads what the ingest wrote; after a loss, every viewer waits for the next keyframe. */
  drain(): void {
    if (this.ring.takeLost() > 0) {
      for (const s of this.streams.values()) s.whole = false;
      for (const v of this.viewers.values()) v.waitingKey = true;
    }
    this.ring.drain((r) => this.onRecord(r));
  }

  private async pump(): Promise<void> {
    while (!this.closing) {
      const seen = this.ring.written;
      try {
        this.drain();
      } catch (e) {
        console.error(`egress: error while sending: ${(e as Error).message}`);
      }
      await this.ring.wait(seen, 1000);
    }
  }

  async create(m: Extract<ToWorker, { op: 'create' }>): Promise<string> {
    this.drain();
    const idx = this.byPath.get(m.path);
    if (idx === undefined) {
      throw Object.assign(new Error(`Nothing is published on ${m.path}.`), { code: 'STREAM_NOT_LIVE' });
    }
    const v = new Viewer(this, m.id, m.path, idx, m.parsed);
    this.viewers.set(v.id, v);
    try {
      return await v.answer(m.offer);
    } catch (e) {
      this.closeViewer(v, 'negotiation failed');
      throw Object.assign(new Error(`The offer could not be negotiated: ${(e as Error).message}`), {
        code: 'BAD_SDP',
      });
    }
  }

  /** Every 500 ms: timeouts; every second: sender reports. */
  private tick(): void {
    const now = Date.now();
    const w = wall();
    const report = this.ticks++ % 2 === 0;
    for (const v of [...this.viewers.values()]) {
      if (!v.connected && now - v.createdAt > this.settings.connectTimeoutMs)
        this.closeViewer(v, 'connect timeout');
      else if (v.connected && now - v.lastRtcp > this.settings.rtcpTimeoutMs) {
        this.closeViewer(v, 'no RTCP from the viewer');
      } else if (report) v.report(w);
    }
  }

  private figures(): void {
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const audioHoldMs: Record<string, number> = {};
    const audioLagMs: Record<string, number> = {};
    for (const [idx, p] of this.pacers) {
      const s = this.streams.get(idx);
      if (s) audioHoldMs[s.path] = p.holdMs;
      const lag = s?.clock.audioLagMs;
      if (s && lag !== undefined) audioLagMs[s.path] = Math.round(lag);
    }
    const f: EgressFigures = {
      viewers: [...this.viewers.values()].map((v) => v.figures()),
      packetsPerSecond: this.counter.sent,
      packetsSent: this.counter.packets,
      bytesSent: this.counter.bytes,
      ringLost: 0,
      audioHoldMs,
      audioLagMs,
      busyMs: elu.active,
    };
    this.counter.sent = 0;
    this.post({ op: 'figures', figures: f });
  }

  /** Closes every viewer and the port; the thread stays for the process's other nodes. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    for (const v of [...this.viewers.values()]) this.closeViewer(v, 'server closing');
    for (const p of this.pacers.values()) p.close();
    await new Promise((r) => setTimeout(r, 50));
    this.muxListener?.stop();
  }
}

const engines = new Map<number, Engine>();

port.on('message', (m: ToWorker & { tenant: number }) => {
  void handle(m);
});

async function handle(m: ToWorker & { tenant: number }): Promise<void> {
  if (m.op === 'init') {
    const e = new Engine(m.tenant, m.settings, new RingReader(m.ring));
    try {
      e.start();
    } catch (err) {
      post(m.tenant, { op: 'fatal', message: `UDP port ${m.settings.udpPort}: ${(err as Error).message}` });
      return;
    }
    engines.set(m.tenant, e);
    post(m.tenant, { op: 'ready', port: m.settings.udpPort });
    return;
  }
  const e = engines.get(m.tenant);
  if (!e) {
    if ('rid' in m) post(m.tenant, { op: 'reply', rid: m.rid, ok: true });
    return;
  }
  if (m.op === 'create') {
    try {
      e.post({ op: 'reply', rid: m.rid, ok: true, answer: await e.create(m) });
    } catch (err) {
      const x = err as Error & { code?: string };
      e.post({ op: 'reply', rid: m.rid, ok: false, code: x.code ?? 'BAD_SDP', message: x.message });
    }
  } else if (m.op === 'candidates') {
    const v = e.viewers.get(m.id);
    if (!v) {
      e.post({
        op: 'reply',
        rid: m.rid,
        ok: false,
        code: 'SESSION_NOT_FOUND',
        message: 'Unknown WHEP session.',
      });
      return;
    }
    try {
      for (const c of m.candidates) v.pc.addRemoteCandidate(c, m.mid ?? v.video.track.mid());
      e.post({ op: 'reply', rid: m.rid, ok: true });
    } catch (err) {
      e.post({ op: 'reply', rid: m.rid, ok: false, code: 'BAD_CANDIDATE', message: (err as Error).message });
    }
  } else if (m.op === 'close') {
    const v = e.viewers.get(m.id);
    if (v) e.closeViewer(v, m.reason);
  } else if (m.op === 'shutdown') {
    engines.delete(m.tenant);
    await e.shutdown();
    // With no node left, let libdatachannel stop its threads, so the process can exit cleanly.
    if (engines.size === 0) ndc.cleanup();
    post(m.tenant, { op: 'reply', rid: m.rid, ok: true });
  }
}
