import type { Config } from './schema.ts';

/** Defaults: what `npm start` runs with when nothing else is said. */
export const DEFAULTS: Config = {
  dataDir: './data',
  host: '0.0.0.0',
  publicHost: '',
  portOffset: 0,
  httpPort: 8000,
  rtmpPort: 1935,
  rtspPort: 8554,
  webrtcPortMin: 40000,
  webrtcPortMax: 40999,
  webrtcAnnouncedAddresses: [],
  webrtcAnnounceLoopback: true,
  iceServers: [],
  maxViewers: 500,
  maxPendingViewers: 50,
  rtmpMaxConnections: 50,
  rtmpMaxMessageSize: 8 * 1024 * 1024,
  reconnectGraceMs: 30_000,
  httpBodyLimit: 1024 * 1024,
  whepRateLimit: 120,
  ffmpegPath: '',
  audioTranscode: true,
  logLevel: 'info',
  tokenTtl: '2h',
};
