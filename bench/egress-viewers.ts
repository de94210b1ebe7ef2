/**
 * The viewer side of `npm run bench:egress`: N werift WHEP viewers in one process, so that
 * their CPU is not the server's. Forked by bench/egress.ts (IPC); by hand it prints JSON lines:
 *   node bench/egress-viewers.ts --url http://127.0.0.1:8000/live/bench/whep --token JWT --count 25
 * Each viewer offers recvonly H.264 + Opus, uses only 127.0.0.1 candidates (all on loopback),
 * retries 409/503 after Retry-After, and counts RTP per stream: packets, distinct sequence
 * numbers and the expected range, so a loss is a packet that never arrived.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

// Before werift loads (it binds these): 2 MB UDP receive buffers (Linux's 208 kB can overflow
// on a keyframe while one loop serves many viewers), and no lookup of werift's default STUN
// server, stun.l.google.com, which it queries even with iceServers: [] (it took 5 s at times).
const createSocket = dgram.createSocket as (...a: unknown[]) => dgram.Socket;
dgram.createSocket = ((...a: unknown[]) => {
  const s = createSocket(...a);
  return s.once('listening', () => s.setRecvBufferSize(2 << 20));
}) as typeof dgram.createSocket;
const lookup = dns.promises.lookup as (...a: unknown[]) => Promise<unknown>;
(dns.promises as { lookup: unknown }).lookup = (host: string, ...a: unknown[]) =>
  host === 'stun.l.google.com' ? Promise.reject(new Error('no public STUN')) : lookup(host, ...a);
syncBuiltinESMExports();
const {
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtcpReceiverInfo,
  RtcpRrPacket,
  isMedia,
  isRtcp,
} = await import('werift');

/** RTP counters of one SSRC at one moment. */
export interface SeqSnapshot {
  packets: number; // received, retransmissions and duplicates included
  unique: number; // distinct sequence numbers received
  expected: number; // highest extended sequence number − first + 1
  bytes: number; // RTP header + payload
}

/** RTP sequence numbers of one stream, extended over wraps; a late retransmission fills its gap. */
class SeqCounter {
  packets = 0;
  bytes = 0;
  private unique = 0;
  private base = -1;
  private maxExt = -1;
  private seen = new Uint8Array(65536);

  add(seq: number, bytes: number): void {
    this.packets++;
    this.bytes += bytes;
    if (this.base < 0) this.base = this.maxExt = seq;
    let delta = (seq - (this.maxExt & 0xffff)) & 0xffff;
    if (delta >= 0x8000) delta -= 0x10000;
    const ext = this.maxExt + delta;
    if (ext > this.maxExt) this.maxExt = ext;
    const i = ext - this.base;
    if (i < 0) return;
    if (i >= this.seen.length) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, i + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (!this.seen[i]) this.unique += this.seen[i] = 1;
  }

  snapshot(): SeqSnapshot {
    const expected = this.base < 0 ? 0 : this.maxExt - this.base + 1;
    return { packets: this.packets, unique: this.unique, expected, bytes: this.bytes };
  }
}

/** One viewer's counters as sent to the parent. */
export type ViewerStats = ReturnType<Viewer['stats']>;

/** Messages from this process to bench/egress.ts. */
export type ViewerMessage =
  | { type: 'progress'; connected: number; receiving: number; failed: number; errors: string[] }
  | { type: 'stats'; viewers: ViewerStats[]; loopDelayP99Ms: number }
  | { type: 'closed' };

/** Messages from bench/egress.ts to this process. */
export type ParentMessage = { type: 'stats' } | { type: 'close' };

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    count: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    'deadline-s': { type: 'string', default: '120' },
    receiver: { type: 'string', default: 'light' },
  },
});
const { url = '', token = '' } = values;
if (!url || !token) throw new Error('usage: egress-viewers.ts --url <whep url> --token <jwt> --count N');
const count = Number(values.count);
const deadline = Date.now() + Number(values['deadline-s']) * 1000;

const send = (m: ViewerMessage): unknown =>
  process.send?.(m) ?? process.stdout.write(JSON.stringify(m) + '\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
type DtlsTransport = InstanceType<typeof RTCDtlsTransport>;

// --receiver light (default): count SRTP packets by their clear RTP header instead of werift's
// decrypt, parse, routing and NACK per packet, which cost more than the server's send side (one
// process could not keep 100 full viewers). Same ICE, DTLS, media; no NACKs. An empty receiver
// report goes out every second, as a browser's would: the server closes a viewer without RTCP.
if (values.receiver === 'light') {
  RTCDtlsTransport.prototype.startSrtp = function (this: DtlsTransport): void {
    if (this.srtpStarted) return;
    this.srtpStarted = true;
    this.updateSrtpSession();
    // The report block names the server's SSRC: that is how the server routes it to the track.
    const heard = new Map<number, number>(); // SSRC → last sequence number
    const rr = setInterval(() => {
      if (this.state === 'closed') return clearInterval(rr);
      const reports = [...heard].map(
        ([ssrc, seq]) =>
          new RtcpReceiverInfo({
            ssrc,
            fractionLost: 0,
            packetsLost: 0,
            highestSequence: seq,
            jitter: 0,
            lsr: 0,
            dlsr: 0,
          }),
      );
      if (reports.length) void this.sendRtcp([new RtcpRrPacket({ ssrc: 1, reports })]).catch(() => undefined);
    }, 1000);
    rr.unref();
    const tag = this.srtp.config.profile === 7 ? 16 : 10; // AEAD_AES_128_GCM or AES_CM + HMAC
    let viewer: Viewer | undefined;
    this.iceTransport.connection.onData.subscribe((data: Buffer) => {
      if (!isMedia(data) || isRtcp(data)) return;
      heard.set(data.readUInt32BE(8), data.readUInt16BE(2));
      viewer ??= viewers.find((v) => v.pc.getTransceivers()[0]?.dtlsTransport === this);
      const video = (data[1] ?? 0) % 128 === viewer?.pc.getTransceivers()[0]?.codecs[0]?.payloadType;
      (video ? viewer?.video : viewer?.audio)?.add(data.readUInt16BE(2), data.length - tag);
    });
  };
}

/** One werift viewer. */
class Viewer {
  readonly video = new SeqCounter();
  readonly audio = new SeqCounter();
  readonly pc: InstanceType<typeof RTCPeerConnection>;
  location: string | null = null;
  connectMs: number | null = null;
  answerMs: number | null = null; // POST → 201, retries included
  connected = false;
  failed = false;

  constructor() {
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (p) =>
        p.remoteCandidate.host === '127.0.0.1' && p.protocol.localCandidate?.host === '127.0.0.1',
      bundlePolicy: 'max-bundle',
      codecs: {
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
          }),
        ],
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
      },
    });
    for (const [kind, counter] of [
      ['video', this.video],
      ['audio', this.audio],
    ] as const) {
      const t = this.pc.addTransceiver(kind, { direction: 'recvonly' });
      t.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) =>
          counter.add(rtp.header.sequenceNumber, rtp.header.serializeSize + rtp.payload.length),
        ),
      );
    }
    this.pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') this.connected = true;
      if (s === 'failed' || s === 'closed') this.connected = false;
    });
  }

  /** Offer, POST (retrying 409/503 until the deadline), answer, then wait for "connected". */
  async connect(): Promise<void> {
    const t0 = performance.now();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    while (this.pc.iceGatheringState !== 'complete') {
      await this.pc.iceGatheringStateChange
        .watch((s) => s === 'complete', 10_000)
        .catch(() => {
          throw new Error('ICE gathering not complete after 10 s');
        });
    }
    const sdp = (this.pc.localDescription?.sdp ?? '')
      .split('\r\n')
      .filter((l) => !l.startsWith('a=candidate:') || / 127\.0\.0\.1 /.test(l))
      .join('\r\n');
    const t1 = performance.now();
    for (;;) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' },
        body: sdp,
      });
      if (res.status === 201) {
        this.location = new URL(res.headers.get('location') ?? '', url).href;
        const answer = await res.text();
        if (!/ 127\.0\.0\.1 \d+ typ host/.test(answer)) throw new Error('answer has no 127.0.0.1 candidate');
        this.answerMs = performance.now() - t1;
        await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
        break;
      }
      const body = await res.text();
      if ((res.status !== 409 && res.status !== 503 && res.status !== 429) || Date.now() > deadline) {
        throw new Error(`POST ${res.status}: ${body.slice(0, 200)}`);
      }
      await sleep(Math.min(Number(res.headers.get('retry-after') ?? 1), 5) * 1000);
    }
    const done = (s: string): boolean => s === 'connected' || s === 'failed';
    if (!done(this.pc.connectionState)) {
      await this.pc.connectionStateChange.watch(done, 30_000).catch(() => {
        throw new Error(`still ${this.pc.connectionState} 30 s after the answer`);
      });
    }
    if (this.pc.connectionState !== 'connected') throw new Error(`connection ${this.pc.connectionState}`);
    this.connectMs = performance.now() - t0;
  }

  stats() {
    return {
      connected: this.connected,
      connectMs: this.connectMs,
      answerMs: this.answerMs,
      video: this.video.snapshot(),
      audio: this.audio.snapshot(),
    };
  }

  /** DELETE the session (so the server frees it at once), then close the connection. */
  async close(): Promise<void> {
    const headers = { Authorization: `Bearer ${token}` };
    if (this.location) await fetch(this.location, { method: 'DELETE', headers }).catch(() => undefined);
    await this.pc.close().catch(() => undefined);
  }
}

const viewers: Viewer[] = [];
const errors: string[] = [];
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function progress(): void {
  send({
    type: 'progress',
    connected: viewers.filter((v) => v.connected).length,
    receiving: viewers.filter((v) => v.connected && v.video.packets > 0 && v.audio.packets > 0).length,
    failed: viewers.filter((v) => v.failed).length,
    errors: [...new Set(errors)].map((m) => `${errors.filter((e) => e === m).length}× ${m}`),
  });
}

async function connectAll(): Promise<void> {
  for (let i = 0; i < count; i++) viewers.push(new Viewer());
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < viewers.length) {
      const v = viewers[next++] as Viewer;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('not connected after 90 s')), 90_000);
      });
      try {
        await Promise.race([v.connect(), timeout]);
      } catch (e) {
        v.failed = true;
        errors.push(e instanceof Error ? e.message : String(e));
        await v.close();
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Number(values.concurrency), count) }, worker));
}

let closing = false;
async function closeAll(): Promise<void> {
  if (closing) return;
  closing = true;
  clearInterval(ticker);
  await Promise.all(viewers.map((v) => v.close()));
  send({ type: 'closed' });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 200).unref();
}

const ticker = setInterval(progress, 500);
process.on('message', (m: ParentMessage) => {
  if (m.type === 'stats') {
    send({
      type: 'stats',
      viewers: viewers.map((v) => v.stats()),
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    });
    loopDelay.reset();
  } else if (m.type === 'close') void closeAll();
});
process.on('disconnect', () => void closeAll());
process.on('SIGTERM', () => void closeAll());
process.on('SIGINT', () => void closeAll());
void connectAll().then(progress);
