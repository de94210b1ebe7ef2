import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { OpusEncoder } from './ffmpeg-locate.ts';

/**
 * The ffmpeg command line of the AAC → Opus transcoder, tuned for the lowest delay (measured
 * with ffmpeg 5.1: ≈ 1 ms from the write of the frame that completes a packet):
 * - `-probesize 32 -analyzeduration 0`: start decoding at the first frame. Not `-fflags
 *   nobuffer`: it discards the packets read while probing, i.e. the first AAC frame.
 * - libopus `-application lowdelay` (CELT only, 2.5 ms lookahead), 20 ms frames; the native
 *   encoder needs `-strict -2` and `-opus_delay 20` (its default buffers 360 ms).
 * - RTP to a loopback port, one datagram per packet, `-flush_packets 1`, no RTCP (also aimed
 *   at our own port, so nothing lands on port + 1).
 */
export function ffmpegArgs(o: {
  encoder: OpusEncoder;
  bitrate: number;
  port: number;
  ssrc: number;
}): string[] {
  const encoder =
    o.encoder === 'libopus'
      ? ['-c:a', 'libopus', '-application', 'lowdelay', '-frame_duration', '20']
      : ['-strict', '-2', '-c:a', 'opus', '-opus_delay', '20'];
  return [
    ...['-hide_banner', '-nostats', '-loglevel', 'error'],
    ...['-probesize', '32', '-analyzeduration', '0', '-f', 'aac', '-i', 'pipe:0', '-vn'],
    ...encoder,
    ...['-b:a', String(o.bitrate), '-ar', '48000', '-ac', '2'],
    ...['-f', 'rtp', '-payload_type', '111', '-ssrc', String(o.ssrc), '-rtpflags', 'skip_rtcp'],
    ...['-flush_packets', '1', `rtp://127.0.0.1:${o.port}?rtcpport=${o.port}&pkt_size=1200`],
  ];
}

/**
 * The SSRC and payload of an RTP packet (RFC 3550 §5.1); undefined for RTCP and junk.
 *
 *    0                   1                   2                   3
 *   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *   |                           timestamp                           |
 *   |                             SSRC                              |
 *   |                CSRC list (CC × 32 bits), extension if X       |
 */
export function parseRtp(b: Uint8Array): { ssrc: number; payload: Uint8Array } | undefined {
  if (b.length < 12 || b[0]! >> 6 !== 2) return undefined;
  if (b[1]! >= 200 && b[1]! <= 204) return undefined; // RTCP SR/RR/SDES/BYE/APP
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let offset = 12 + (b[0]! & 0x0f) * 4;
  if (b[0]! & 0x10) {
    if (b.length < offset + 4) return undefined;
    offset += 4 + view.getUint16(offset + 2) * 4;
  }
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  if (end <= offset) return undefined;
  return { ssrc: view.getUint32(8), payload: b.subarray(offset, end) };
}

/** The p-quantile (0–1) of `xs` by nearest rank; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** The last `max` bytes of a child's stderr, for the warning when it dies. */
export class Tail {
  private buf = Buffer.alloc(0);
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > this.max) this.buf = this.buf.subarray(this.buf.length - this.max);
  }
  text(): string {
    return this.buf.toString('utf8').trim();
  }
  clear(): void {
    this.buf = Buffer.alloc(0);
  }
}

/** Ends a child: EOF on stdin (ffmpeg blocked in read() ignores SIGTERM), SIGTERM, then SIGKILL. */
export function killChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/** Appends to a bounded window of figures. */
export function push(window: number[], v: number, max: number): void {
  window.push(v);
  if (window.length > max) window.shift();
}

/**
 * The local UDP ports of the sockets process `pid` holds (Linux /proc), or undefined where
 * /proc cannot tell (another OS, the process gone).
 */
export function udpPortsOf(pid: number): Set<number> | undefined {
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        /* closed meanwhile */
      }
    }
    const ports = new Set<number>();
    for (const table of ['udp', 'udp6']) {
      for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
      }
    }
    return ports;
  } catch {
    return undefined;
  }
}
