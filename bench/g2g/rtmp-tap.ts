/**
 * A TCP relay between the publisher and the server's RTMP port that notes when each media
 * message has fully crossed it: the time the publisher's ffmpeg put a frame (or a piece of
 * sound) on the wire, so glass to glass can be split into the publisher's share and the rest.
 * Bytes are forwarded as they come (no delay added beyond one socket hop); the client → server
 * direction is parsed with the project's RTMP chunk parser after the handshake (C0+C1+C2).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ChunkParser } from '../../src/media/protocol/rtmp/chunk.ts';
import { HANDSHAKE_SIZE } from '../../src/media/protocol/rtmp/handshake.ts';
import { MessageType } from '../../src/media/protocol/rtmp/messages.ts';
import { unixNow } from './publisher.ts';

export interface RtmpTap {
  /** The port to publish to (rtmp://127.0.0.1:<port>/…). */
  port: number;
  /** Unix ms at which the video message with this RTMP timestamp (ms) had fully arrived. */
  readonly video: Map<number, number>;
  /** The same for audio messages (AAC raw frames only). */
  readonly audio: Map<number, number>;
  close(): Promise<void>;
}

/** Listens on a free loopback port and relays every connection to 127.0.0.1:`target`. */
export async function startRtmpTap(target: number): Promise<RtmpTap> {
  const video = new Map<number, number>();
  const audio = new Map<number, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.on('data', (d: Buffer) => client.write(d));
    const parser = new ChunkParser();
    let skip = 1 + 2 * HANDSHAKE_SIZE; // C0, C1, C2
    let parsing = true;
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      if (!parsing) return;
      const at = unixNow();
      let data: Buffer = d;
      if (skip > 0) {
        const n = Math.min(skip, data.length);
        skip -= n;
        data = data.subarray(n);
        if (data.length === 0) return;
      }
      try {
        for (const m of parser.process(data)) {
          // FLV bodies: [0] codec flags, [1] AVC / AAC packet type, 1 = coded data.
          if (m.payload[1] !== 1) continue;
          if (m.typeId === MessageType.Video) video.set(m.timestamp, at);
          else if (m.typeId === MessageType.Audio) audio.set(m.timestamp, at);
        }
      } catch {
        parsing = false; // keep relaying; stop timing
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    video,
    audio,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The offset ffmpeg put on its RTMP timestamps, ms: with an AAC track it shifts every track by
 * the encoder's priming (1024 samples ≈ 21 ms) so that the first audio packet starts at 0.
 * Found as the shift under which the video timestamps fall on the frame grid (n × 1000 / fps,
 * rounded); assumed smaller than one frame interval.
 */
export function timestampShift(videoTs: Iterable<number>, fps: number): number {
  const ts = [...videoTs].slice(0, 300);
  let best = 0;
  let bestFit = -1;
  for (let s = 0; s < Math.ceil(1000 / fps); s++) {
    let fit = 0;
    for (const t of ts) if (Math.round((Math.round(((t - s) * fps) / 1000) * 1000) / fps) === t - s) fit++;
    if (fit > bestFit) [best, bestFit] = [s, fit];
  }
  return best;
}
