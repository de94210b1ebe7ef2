/**
 * What the RTMP server needs from its caller: the publish authorisation hook and the limits.
 */

/** What a publisher asks for; the answer names the path it may publish on. */
export interface RtmpAuthorizeRequest {
  /** The connect app without its query, e.g. "live". */
  app: string;
  /** The stream name without its query, e.g. "myclass". */
  name: string;
  /** Query of the tcUrl, the app and the stream name, merged (name wins): token, jwt, … */
  query: URLSearchParams;
  /** Remote address:port. */
  remote: string;
}

/**
 * Decides whether a publish may go ahead; throws AirError (TOKEN_*) to refuse. `auth` tags the
 * publisher with how it got in (e.g. "key", "token"), so it can be disconnected selectively.
 */
export type RtmpAuthorize = (req: RtmpAuthorizeRequest) => Promise<{ path: string; auth?: string }>;

/** Limits of the RTMP server and its sessions. */
export interface RtmpLimits {
  /** Concurrent connections; more are closed at once (default 100). */
  maxConnections: number;
  /** Time for C0+C1 and C2 to arrive, ms (default 10 000). */
  handshakeTimeoutMs: number;
  /** Silence before a connection is closed, ms (default 30 000). */
  idleTimeoutMs: number;
  /** Time from accept to a successful publish, ms (default 30 000). */
  publishTimeoutMs: number;
  /** Largest RTMP message, bytes (default 8 MiB). */
  maxMessageSize: number;
  /** Largest message before the publish is authorised (connect, createStream, publish), bytes. */
  preAuthMaxMessageSize: number;
  /** Messages queued before the publish is authorised; more close the connection. */
  preAuthMaxQueued: number;
  /** Connections from one address that are not publishing (handshake, connect, waiting). */
  maxPendingPerAddress: number;
  /** Connections in all that are not publishing: the rest of `maxConnections` stays for publishers. */
  maxPending: number;
  /** Largest chunk size a client may set, bytes (default 16 MiB). */
  maxChunkSize: number;
  /** Most chunk streams per connection (default 64). */
  maxChunkStreams: number;
}

/** Defaults of `RtmpLimits`. */
export const DEFAULT_RTMP_LIMITS: Readonly<RtmpLimits> = Object.freeze({
  maxConnections: 100,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  publishTimeoutMs: 30_000,
  maxMessageSize: 8 << 20,
  preAuthMaxMessageSize: 64 << 10,
  preAuthMaxQueued: 64,
  maxPendingPerAddress: 8,
  maxPending: 30,
  maxChunkSize: 16 << 20,
  maxChunkStreams: 64,
});
