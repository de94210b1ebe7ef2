import { Type, type Static } from '@sinclair/typebox';

/** An ICE server as a browser takes it. */
const IceServer = Type.Object(
  {
    urls: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }))]),
    username: Type.Optional(Type.String()),
    credential: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

/**
 * Every configuration key, flat (so that a key reads the same in `airclass.yaml`, in
 * `AIRCLASS_<KEY>` (camelCase → UPPER_SNAKE) and in the CLI). Defaults are in `defaults.ts`.
 */
export const ConfigSchema = Type.Object(
  {
    /** Where keys, the database and recordings live. */
    dataDir: Type.String({ minLength: 1 }),
    /** Address every listener binds to. */
    host: Type.String({ minLength: 1 }),
    /** Host name or address put in printed URLs; empty = first LAN address. */
    publicHost: Type.String(),
    /** Shifts every port (HTTP, RTMP, RTSP, WebRTC UDP range). */
    portOffset: Type.Integer({ minimum: 0, maximum: 20000 }),
    httpPort: Port,
    rtmpPort: Port,
    rtspPort: Port,
    /** WebRTC UDP port range; each viewer takes one port of it. */
    webrtcPortMin: Port,
    webrtcPortMax: Port,
    /** Extra host addresses announced in ICE candidates (a public or NAT address, Docker host). */
    webrtcAnnouncedAddresses: Type.Array(Type.String({ minLength: 1 })),
    /** Announce 127.0.0.1 as a candidate too (browsers on this machine). */
    webrtcAnnounceLoopback: Type.Boolean(),
    /** STUN/TURN servers given to browsers (Link rel="ice-server") and used by the server. */
    iceServers: Type.Array(IceServer),
    /** Most WebRTC viewers this node serves at once (503 past it). */
    maxViewers: Type.Integer({ minimum: 1 }),
    /** Most concurrent ICE/DTLS set-ups (503 with Retry-After past it). */
    maxPendingViewers: Type.Integer({ minimum: 1 }),
    /** Most RTMP connections at once. */
    rtmpMaxConnections: Type.Integer({ minimum: 1 }),
    /** Largest RTMP message accepted, bytes. */
    rtmpMaxMessageSize: Type.Integer({ minimum: 65536 }),
    /** How long viewers wait for a dropped publisher to return, ms. */
    reconnectGraceMs: Type.Integer({ minimum: 0 }),
    /** Largest HTTP body accepted, bytes. */
    httpBodyLimit: Type.Integer({ minimum: 1024 }),
    /** Requests per minute per address on the WHEP endpoints. */
    whepRateLimit: Type.Integer({ minimum: 1 }),
    /** Explicit ffmpeg binary; empty = system ffmpeg, else the npm-shipped one. */
    ffmpegPath: Type.String(),
    /** Turn the AAC → Opus transcoder off (video only for browsers). */
    audioTranscode: Type.Boolean(),
    logLevel: Type.Union([
      Type.Literal('fatal'),
      Type.Literal('error'),
      Type.Literal('warn'),
      Type.Literal('info'),
      Type.Literal('debug'),
      Type.Literal('trace'),
      Type.Literal('silent'),
    ]),
    /** Default lifetime of tokens made by `airclass token`, e.g. "2h". */
    tokenTtl: Type.String({ pattern: '^[0-9]+\\s*(s|m|h|d)$' }),
  },
  { additionalProperties: false },
);

/** The validated, frozen configuration. */
export type Config = Readonly<Static<typeof ConfigSchema>>;

/** Ports after the offset is applied. */
export interface Ports {
  http: number;
  rtmp: number;
  rtsp: number;
  webrtcMin: number;
  webrtcMax: number;
}

/** Applies `portOffset` to every port. */
export function ports(c: Config): Ports {
  const o = c.portOffset;
  return {
    http: c.httpPort + o,
    rtmp: c.rtmpPort + o,
    rtsp: c.rtspPort + o,
    webrtcMin: c.webrtcPortMin + o,
    webrtcMax: c.webrtcPortMax + o,
  };
}
