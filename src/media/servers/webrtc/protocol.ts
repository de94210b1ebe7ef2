/** Messages between the ingest thread (WhepServer) and the egress worker. */
import type { ParsedOffer } from './offer.ts';
import type { RingBuffers } from './packet-ring.ts';

/** Settings of the egress worker. */
export interface EgressSettings {
  /** The one UDP port all viewers share (ICE UDP mux); 0 with `portRange`. */
  udpPort: number;
  /** Per-viewer ports instead of the mux (the option). */
  portRange?: [number, number];
  /** Address to bind the UDP socket to; all interfaces if absent. */
  bindAddress?: string;
  /** Extra host candidates put in every answer (NAT, Docker, loopback). */
  announcedAddresses: string[];
  iceServers: string[];
  /** Close a viewer that sent no RTCP this long after it connected, ms. */
  rtcpTimeoutMs: number;
  /** Close a viewer whose ICE + DTLS is not up this long after its POST, ms. */
  connectTimeoutMs: number;
  /** Least time between two GOP replays answering PLIs of one viewer, ms. */
  pliIntervalMs: number;
}

export type ToWorker =
  | { op: 'init'; ring: RingBuffers; settings: EgressSettings }
  | { op: 'create'; rid: number; id: string; path: string; offer: string; parsed: ParsedOffer }
  | { op: 'candidates'; rid: number; id: string; mid?: string; candidates: string[] }
  | { op: 'close'; id: string; reason: string }
  | { op: 'shutdown'; rid: number };

/** Figures of one viewer, as the worker reports them each second. */
export interface ViewerFigures {
  id: string;
  videoPackets: number;
  audioPackets: number;
  retransmitted: number;
  nacks: number;
  plis: number;
  sendFailures: number;
  /** From the viewer's last receiver report (video): cumulative lost, jitter in ms. */
  lost: number;
  jitterMs: number;
  /** Round trip from the last report block that echoed our SR, ms. */
  rttMs?: number;
  /** The viewer's REMB estimate, bit/s. */
  rembBps?: number;
}

/** What the worker reports each second. */
export interface EgressFigures {
  viewers: ViewerFigures[];
  /** Packets sent to viewers in the last second (all viewers, both tracks). */
  packetsPerSecond: number;
  /** RTP packets sent to viewers since the egress started (retransmissions included). */
  packetsSent: number;
  /** Bytes of those packets (RTP header and payload, before SRTP). */
  bytesSent: number;
  /** Records the ring dropped (the worker fell behind), total. */
  ringLost: number;
  /** Current audio hold of each path, ms. */
  audioHoldMs: Record<string, number>;
  /** How much later each path's audio arrives than its video of the same media time, ms. */
  audioLagMs: Record<string, number>;
  /** Time the worker spent busy in the last second, ms (event-loop utilisation × 1000). */
  busyMs: number;
}

export type FromWorker =
  | { op: 'ready'; port: number }
  | { op: 'fatal'; message: string }
  | { op: 'reply'; rid: number; ok: true; answer?: string }
  | { op: 'reply'; rid: number; ok: false; code: string; message: string }
  | { op: 'connected'; id: string }
  | { op: 'closed'; id: string; reason: string }
  | { op: 'figures'; figures: EgressFigures };

/** Stream events the ingest writes into the ring (JSON bodies of KIND_EVENT records). */
export type StreamEvent = { e: 'open'; path: string } | { e: 'offline' };
