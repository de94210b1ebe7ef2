/**
 * The one error catalogue: every error AirClass reports has a stable code and an HTTP status.
 * Protocol adapters (RTMP, RTSP) use the same codes in their logs and close messages.
 */
export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  VALIDATION: { status: 400, message: 'The request does not match its schema.' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON.' },
  BAD_SDP: { status: 400, message: 'The SDP offer is malformed or offers no usable codec.' },
  CODEC_UNSUPPORTED: {
    status: 406,
    message: 'The offer has no codec this server takes (video: H.264 packetization-mode=1; audio: Opus).',
  },
  BAD_CANDIDATE: { status: 400, message: 'The trickle ICE fragment holds a malformed candidate.' },
  UNSUPPORTED_TRANSPORT: { status: 461, message: 'Use RTP over TCP (interleaved) with this server.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  TOKEN_MISSING: { status: 401, message: 'A token is required.' },
  TOKEN_INVALID: { status: 401, message: 'The token is invalid or expired.' },
  TOKEN_SCOPE: { status: 403, message: 'The token does not allow this action on this path.' },
  AUTH_FAILED: { status: 401, message: 'Wrong email or password.' },
  FORBIDDEN: { status: 403, message: 'Your role does not allow this.' },
  ORIGIN_FORBIDDEN: { status: 403, message: 'Requests from this origin are not allowed.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  SESSION_NOT_FOUND: { status: 404, message: 'Unknown WHEP session.' },
  NODE_UNKNOWN: { status: 404, message: 'This node is not registered (again); register first.' },
  CLASS_NOT_FOUND: { status: 404, message: 'No such class.' },
  USER_NOT_FOUND: { status: 404, message: 'No such user.' },
  JOIN_CODE_INVALID: { status: 404, message: 'No class is open with this join code.' },
  EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists.' },
  CLASS_ENDED: { status: 410, message: 'The class has ended.' },
  LESSON_ENDED: { status: 410, message: 'This lesson has ended.' },
  CLASS_ARCHIVED: { status: 410, message: 'The class is archived.' },
  LESSON_NOT_LIVE: { status: 409, message: 'No lesson of this class is running.' },
  REMOVED: { status: 403, message: 'The teacher removed you from this lesson.' },
  USER_DISABLED: { status: 403, message: 'This account is disabled.' },
  QUIZ_NOT_FOUND: { status: 404, message: 'No such quiz.' },
  RECORDING_NOT_FOUND: { status: 404, message: 'No such recording (or it was deleted).' },
  RECORDING_EXPIRED: {
    status: 410,
    message: 'This recording is past its retention and is no longer available.',
  },
  RECORDING_NOT_SHARED: { status: 403, message: 'The teacher has not shared this recording.' },
  QUIZ_CLOSED: { status: 409, message: 'The quiz is closed.' },
  QUIZ_ALREADY_ANSWERED: { status: 409, message: 'You have already answered this quiz.' },
  QUIZ_OPEN: { status: 409, message: 'A run of this quiz is already open.' },
  PHOTO_TYPE: {
    status: 415,
    message: 'Send a photo as a JPEG, PNG or WebP image (with its own Content-Type).',
  },
  PHOTO_DIMENSIONS: { status: 422, message: 'The photo is larger than 8000 × 8000 pixels.' },
  PHOTO_NOT_FOUND: { status: 404, message: 'No such photo.' },
  SLIDE_NOT_FOUND: { status: 404, message: 'No such slide.' },
  SLIDE_NO_TEXT: { status: 404, message: 'No text was read from this slide, so there is nothing to ask.' },
  OCR_UNAVAILABLE: { status: 503, message: 'Slide text cannot be read on this server (OCR unavailable).' },
  TOO_MANY_SOCKETS: { status: 429, message: 'Too many open connections from this address.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request took too long.' },
  STREAM_NOT_LIVE: { status: 409, message: 'Nothing is published on this path yet.' },
  PATH_BUSY: { status: 409, message: 'Another publisher is already live on this path.' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  CSR_INVALID: { status: 400, message: 'The certificate request is malformed or names what it may not.' },
  LOCAL_CA_UNAVAILABLE: {
    status: 409,
    message: 'This main has no local CA (HTTPS off, or a real certificate): it signs no node certificates.',
  },
  ETAG_MISMATCH: { status: 412, message: 'The ETag does not match the session.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests.' },
  CAPACITY: { status: 503, message: 'The server is at capacity.' },
  RTMP_PROTOCOL: { status: 400, message: 'RTMP protocol violation.' },
  RTMP_TOO_LARGE: { status: 413, message: 'RTMP message exceeds the size limit.' },
  RTSP_PROTOCOL: { status: 400, message: 'RTSP protocol violation.' },
  RTSP_TOO_LARGE: { status: 413, message: 'RTSP message exceeds the size limit.' },
  BAD_MEDIA: { status: 400, message: 'The media data is malformed.' },
  UNKNOWN_TYPE: { status: 400, message: 'Unknown message type.' },
  UPGRADE_REQUIRED: { status: 426, message: 'Open this URL with a WebSocket client.' },
  CHAT_LOCKED: { status: 403, message: 'The teacher has locked the chat.' },
  MESSAGE_NOT_FOUND: { status: 404, message: 'No such chat message in this class.' },
  DB_UNAVAILABLE: { status: 503, message: 'The database is unavailable.' },
  CONFIG_INVALID: { status: 500, message: 'The configuration is invalid.' },
  INTERNAL: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code; `message` is safe to show unless the status is 5xx. */
export class AirError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message?: string, headers: Record<string, string> = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'AirError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = headers;
  }
}

/** True when `e` is an AirError (optionally of the given code). */
export function isAirError(e: unknown, code?: ErrorCode): e is AirError {
  return e instanceof AirError && (code === undefined || e.code === code);
}
