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
/** A lifetime such as "30m", "12h" or "7d". */
const Ttl = Type.String({ pattern: '^[0-9]+\\s*(s|m|h|d)$' });

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
    /** HTTP port (pages, API, WebSocket, WHEP, /metrics); shifted by portOffset. */
    httpPort: Port,
    /** HTTPS port (the same app as HTTP, with TLS; WebSocket as WSS); shifted by portOffset; 0 = any. */
    httpsPort: Port,
    /**
     * Serve HTTPS too, with tlsCert/tlsKey or else the local CA's certificate (`<dataDir>/tls/`);
     * a sub node without tlsCert gets its certificate from the main's local CA.
     */
    https: Type.Boolean(),
    /** PEM certificate (chain) of a real certificate for HTTPS; empty = the local CA's. */
    tlsCert: Type.String(),
    /** PEM private key of tlsCert; empty = the local CA's server key. */
    tlsKey: Type.String(),
    /**
     * Plain HTTP answers 308 to the HTTPS URL, except /tls/ca.pem, /tls/ca.crt, /tls, /health,
     * /ready and /metrics (a device must fetch the CA before it trusts HTTPS).
     */
    httpRedirect: Type.Boolean(),
    /** RTMP ingest port (teachers' apps, OBS, ffmpeg publish here); shifted by portOffset. */
    rtmpPort: Port,
    /** RTSP port sub nodes (and VLC, ffplay) read streams from; shifted by portOffset; 0 = any. */
    rtspPort: Port,
    /** The one UDP port all WebRTC viewers share (ICE UDP mux), like MediaMTX's 8189; 0 = any free port. */
    webrtcUdpPort: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** false: each viewer takes its own port from webrtcPortMin…webrtcPortMax instead. */
    webrtcUdpMux: Type.Boolean(),
    /** WebRTC UDP port range, used only with webrtcUdpMux: false. */
    webrtcPortMin: Port,
    /** Last port of the WebRTC UDP range (webrtcPortMin…webrtcPortMax), with webrtcUdpMux: false. */
    webrtcPortMax: Port,
    /** Address the WebRTC UDP socket binds to; empty = all interfaces. */
    webrtcBindAddress: Type.String(),
    /** Close a viewer that sends no RTCP this long, ms (a viewer killed without DELETE). */
    webrtcRtcpTimeoutMs: Type.Integer({ minimum: 1000 }),
    /** Extra host addresses announced in ICE candidates (a public or NAT address, Docker host). */
    webrtcAnnouncedAddresses: Type.Array(Type.String({ minLength: 1 })),
    /** Announce 127.0.0.1 as a candidate too (browsers on this machine). */
    webrtcAnnounceLoopback: Type.Boolean(),
    /**
     * UDP port of the TURN/TCP interop shim, shifted by portOffset; 0 = any free port. Runs only
     * when turnUrls is set: a second entry to the WebRTC port, announced as a lowest-priority
     * candidate, that fixes the zero ICE tiebreaker Chromium sends over TURN/TCP (libjuice #355).
     * Not with webrtcUdpMux: false. Set a fixed port if a firewall sits between TURN and the node.
     */
    webrtcTurnShimPort: Port,
    /**
     * UDP ports of WHIP publishers (browser screen sharing), one port each, shifted by portOffset;
     * both 0 = any free port. Open this range in a firewall between teachers and the server.
     */
    whipPortMin: Port,
    /** Last UDP port of WHIP publishers (whipPortMin…whipPortMax); shifted by portOffset. */
    whipPortMax: Port,
    /** STUN/TURN servers given to browsers (Link rel="ice-server") and used by the server. */
    iceServers: Type.Array(IceServer),
    /**
     * TURN servers every viewer gets a time-limited credential for (coturn `use-auth-secret`),
     * e.g. ["turn:turn.school.kr:3478?transport=udp", "turn:turn.school.kr:3478?transport=tcp"]:
     * students whose network cannot reach this node's UDP port relay through them. Empty = none.
     * `airclass turn-config` prints a matching turnserver.conf.
     */
    turnUrls: Type.Array(Type.String({ pattern: '^turns?:[^\\s]+$' })),
    /** The TURN server's `static-auth-secret`, shared with it; a secret, never logged or returned. */
    turnSecret: Type.String(),
    /** Lifetime of a viewer's TURN credential (longer than a lesson: a relay dies when it expires). */
    turnTtl: Ttl,
    /** Most WebRTC viewers this node serves at once (503 past it). */
    maxViewers: Type.Integer({ minimum: 1 }),
    /** Most concurrent ICE/DTLS set-ups; further joins wait in the join queue. */
    maxPendingViewers: Type.Integer({ minimum: 1 }),
    /** Joins waiting for a set-up slot; 503 with Retry-After past it. */
    joinQueueSize: Type.Integer({ minimum: 0 }),
    /** Longest wait in the join queue, ms; then 503 with Retry-After. */
    joinQueueWaitMs: Type.Integer({ minimum: 100 }),
    /** Pending (queued or setting up) viewer sessions of one token (503 past it): one student cannot hold the slots others need. */
    maxPendingPerToken: Type.Integer({ minimum: 1 }),
    /** Pending viewer sessions from one address (a school's NAT puts a classroom behind one). */
    maxPendingPerAddress: Type.Integer({ minimum: 1 }),
    /** Most RTMP connections at once. */
    rtmpMaxConnections: Type.Integer({ minimum: 1 }),
    /** RTMP connections not (yet) publishing (handshake, connect, token check), from one address; before its publish is authorised a connection may send messages of at most 64 KiB. */
    rtmpMaxPendingPerAddress: Type.Integer({ minimum: 1 }),
    /** RTMP connections not (yet) publishing, in all (the rest stays for publishers). */
    rtmpMaxPending: Type.Integer({ minimum: 1 }),
    /** Largest RTMP message accepted, bytes; a larger one closes that connection (RTMP_TOO_LARGE). */
    rtmpMaxMessageSize: Type.Integer({ minimum: 65536 }),
    /** How long viewers wait for a dropped publisher to return, ms. */
    reconnectGraceMs: Type.Integer({ minimum: 0 }),
    /** Largest HTTP body accepted, bytes. */
    httpBodyLimit: Type.Integer({ minimum: 1024 }),
    /** Requests per minute per address on the WHEP endpoints (a waiting page polls every 2 s; a whole school behind one NAT address shares this). */
    whepRateLimit: Type.Integer({ minimum: 1 }),
    /** Explicit ffmpeg binary; empty = system ffmpeg, else the npm-shipped one. */
    ffmpegPath: Type.String(),
    /** Turn the AAC → Opus transcoder off (video only for browsers). */
    audioTranscode: Type.Boolean(),
    /** Log level of the node's JSON log on stderr (pino). */
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
    /**
     * PostgreSQL server, e.g. "postgres://user:pass@host:5432/airclass"; empty = embedded PGlite
     * in `<dataDir>/db`. Also read from DATABASE_URL (see load.ts for the precedence).
     */
    databaseUrl: Type.Union([Type.Literal(''), Type.String({ pattern: '^postgres(ql)?://' })]),
    /**
     * Public base URL of the HTTP server as browsers reach it (join links, QR codes, WHEP and
     * WebSocket URLs), e.g. "https://class.school.kr"; empty = http://<publicHost>:<httpPort>.
     */
    publicUrl: Type.Union([Type.Literal(''), Type.String({ pattern: '^https?://[^/?#]+/?$' })]),
    /** Email of the admin account made on first start (password: AIRCLASS_ADMIN_PASSWORD). */
    adminEmail: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }),
    /** Lifetime of a teacher's or admin's sign-in session (cookie and Bearer token). */
    sessionTtl: Ttl,
    /** Lifetime of the token a student gets from joining a class. */
    studentTokenTtl: Ttl,
    /** Lifetime of a monitor share link. */
    monitorLinkTtl: Ttl,
    /** Join attempts per minute per address (429 with Retry-After past it; raise it for a whole school behind one NAT address). */
    joinRateLimit: Type.Integer({ minimum: 1 }),
    /** Sign-in attempts per minute per address (429 with Retry-After past it). */
    loginRateLimit: Type.Integer({ minimum: 1 }),
    /**
     * Origins allowed to call /api from other sites (CORS, with credentials); "*" allows any
     * origin without credentials. Empty = same origin only.
     */
    corsOrigins: Type.Array(Type.String({ pattern: '^(\\*|https?://[^/?#]+)$' })),
    /**
     * Redis server for the bus, presence and recent class events shared by control-plane
     * replicas, e.g. "redis://127.0.0.1:6379"; empty = in-process. Also read from REDIS_URL.
     */
    redisUrl: Type.Union([Type.Literal(''), Type.String({ pattern: '^rediss?://' })]),
    /** Put before every Redis key and channel name (deployments sharing a Redis apart). */
    redisPrefix: Type.String({ pattern: '^[A-Za-z0-9_.:-]{0,64}$' }),
    /** Largest WebSocket message accepted, bytes (a bigger frame closes that socket, 1009). */
    wsMaxMessageBytes: Type.Integer({ minimum: 256, maximum: 1048576 }),
    /** Sustained WebSocket messages per second per socket (past it: error RATE_LIMITED). */
    wsMessagesPerSecond: Type.Number({ exclusiveMinimum: 0 }),
    /** WebSocket messages a socket may send in a burst above the sustained rate. */
    wsMessageBurst: Type.Integer({ minimum: 1 }),
    /** Recent class events kept per class for reconnecting clients (`/ws?since=`). */
    wsHistorySize: Type.Integer({ minimum: 10, maximum: 100000 }),
    /**
     * WebSocket heartbeat, ms: each socket is pinged (and dropped after a missed pong), and its
     * token checked again (closed once revoked, expired, its account disabled or its lesson over).
     */
    wsHeartbeatMs: Type.Integer({ minimum: 200, maximum: 300000 }),
    /** Most open WebSockets per client address (429 TOO_MANY_SOCKETS before the upgrade past it); one token holds at most 3, a 4th replaces the oldest. */
    wsMaxSocketsPerAddress: Type.Integer({ minimum: 1 }),
    /**
     * After a lesson ends, a publish with the class's stream key does not start the next lesson
     * for this long (ms): an encoder's auto-reconnect cannot restart an ended lesson.
     */
    lessonRestartCooldownMs: Type.Integer({ minimum: 0 }),
    /** Longest an HTTP request may take to arrive in full, ms (408 past it; 0 = no limit). */
    httpRequestTimeoutMs: Type.Integer({ minimum: 0 }),
    /**
     * Addresses (IPs or CIDRs, e.g. "10.0.0.5", "10.1.0.0/16", "fd00::/8") that may read
     * /metrics without a token, besides loopback. Empty = loopback only.
     */
    metricsAllow: Type.Array(Type.String({ minLength: 1 })),
    /**
     * Bearer token that lets any other address read /metrics (`Authorization: Bearer …`);
     * empty = no token accepted. A secret, never logged.
     */
    metricsToken: Type.String(),
    /** Sub: the main node's HTTP base URL (registration, JWKS, assignment), e.g. http://10.0.0.2:8000. */
    mainUrl: Type.Union([Type.Literal(''), Type.String({ pattern: '^https?://[^\\s]+$' })]),
    /** Sub: this node's name and id in the cluster (default sub-<port offset>). */
    nodeName: Type.String({ pattern: '^[A-Za-z0-9._-]{0,64}$' }),
    /** Sub: the node token from the main (`airclass node-token`); a secret, never logged. */
    nodeToken: Type.String(),
    /** Sub: viewers this node takes (its weight in the assignment). */
    nodeCapacity: Type.Integer({ minimum: 1 }),
    /** Sub heartbeat interval, ms; a sub missing three is dead. */
    clusterHeartbeatMs: Type.Integer({ minimum: 100 }),
    /** Sub: stop pulling a path this long after its last viewer left, ms. */
    relayIdleMs: Type.Integer({ minimum: 0 }),
    /** Assignment requests (`POST /api/cluster/assign`) per minute per address. */
    assignRateLimit: Type.Integer({ minimum: 1 }),
    /** Record every lesson to HLS on disk (the node that ingests). */
    record: Type.Boolean(),
    /** Where recordings are written, one folder each (index.m3u8, init-0.mp4, seg-00001.m4s…, recording.json); empty = <dataDir>/recordings. */
    recordingsDir: Type.String(),
    /** Free disk space a recording needs to start and keeps while it runs, MiB; below it the recording stops (DISK_FULL), the lesson goes on. */
    recordMinFreeMb: Type.Integer({ minimum: 0 }),
    /** Recording segment length, ms (segments are cut at keyframes: 2–4 s with a 2-s GOP). */
    recordSegmentMs: Type.Integer({ minimum: 500, maximum: 10_000 }),
    /** Playlist and segment requests (`/vod/…`, live HLS) per minute per address. */
    hlsRateLimit: Type.Integer({ minimum: 1 }),
    /** Gemini's API base URL (a proxy, or a local server in tests); empty = Google's. */
    geminiBaseUrl: Type.String(),
    /** The Gemini model asked. */
    geminiModel: Type.String({ minLength: 1 }),
    /** How long one Gemini request may take, ms (then the built-in analyzer answers). */
    geminiTimeoutMs: Type.Integer({ minimum: 500 }),
    /** Tokens one lesson may spend on Gemini (then the built-in analyzer answers). */
    aiLessonTokenBudget: Type.Integer({ minimum: 0 }),
    /** Largest photo a student may send of their work, bytes (refused before it is all read). */
    photoMaxBytes: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
    /** How often a live lesson's picture is checked for a new slide, ms (0 = off). */
    slideEveryMs: Type.Integer({ minimum: 0 }),
    /** Explicit tesseract binary for reading slides; empty = `tesseract` on PATH. */
    tesseractPath: Type.String(),
  },
  { additionalProperties: false },
);

/** The validated, frozen configuration. */
export type Config = Readonly<Static<typeof ConfigSchema>>;

/** Ports after the offset is applied. */
export interface Ports {
  http: number;
  /** HTTPS port (0: any free port). */
  https: number;
  rtmp: number;
  rtsp: number;
  webrtcMin: number;
  webrtcMax: number;
  /** The shared WebRTC UDP port (0: any free port). */
  webrtcUdp: number;
}

/** Applies `portOffset` to every port. */
export function ports(c: Config): Ports {
  const o = c.portOffset;
  return {
    http: c.httpPort + o,
    https: c.httpsPort === 0 ? 0 : c.httpsPort + o,
    rtmp: c.rtmpPort + o,
    rtsp: c.rtspPort === 0 ? 0 : c.rtspPort + o,
    webrtcMin: c.webrtcPortMin + o,
    webrtcMax: c.webrtcPortMax + o,
    webrtcUdp: c.webrtcUdpPort === 0 ? 0 : c.webrtcUdpPort + o,
  };
}
