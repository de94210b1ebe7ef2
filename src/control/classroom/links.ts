/**
 * The URLs a class hands out: join link (and its QR), WHEP and WebSocket URLs for students,
 * the RTMP server + stream key for the teacher's app, and the monitor share link. All are
 * built on the configured public URLs, never on a request's Host header.
 */
import type { ClassRecord } from '../store/types.ts';

/** The public base URLs of this node. */
export interface PublicUrls {
  /** HTTP base as browsers reach it, e.g. "http://192.168.0.10:8000" (no trailing slash). */
  http: string;
  /** RTMP server URL as OBS and Android apps ask for it, e.g. "rtmp://192.168.0.10:1935/live". */
  rtmp: string;
}

/** What a teacher pastes into an RTMP app. */
export interface RtmpTarget {
  /** "Server" field: rtmp://HOST:1935/live */
  server: string;
  /** "Stream key" field. */
  streamKey: string;
  /** Both in one URL, for ffmpeg: rtmp://HOST:1935/live/<key> */
  url: string;
}

/** Builds the URLs of a class from the public base URLs. */
export class ClassLinks {
  readonly http: string;
  readonly rtmpServer: string;

  constructor(urls: PublicUrls) {
    this.http = urls.http.replace(/\/+$/, '');
    this.rtmpServer = urls.rtmp.replace(/\/+$/, '');
  }

  /** The media path of a class. */
  path(classId: string): string {
    return `live/${classId}`;
  }

  /** The join link encoded in the QR code: /join?code=123456 */
  joinUrl(joinCode: string): string {
    return `${this.http}/join?code=${encodeURIComponent(joinCode)}`;
  }

  /** The WHEP endpoint of a class. */
  whepUrl(classId: string): string {
    return `${this.http}/${this.path(classId)}/whep`;
  }

  /** The WHIP endpoint of a class (browser screen sharing). */
  whipUrl(classId: string): string {
    return `${this.http}/${this.path(classId)}/whip`;
  }

  /** The watch page of a class (append `?jwt=<token>`). */
  watchUrl(classId: string): string {
    return `${this.http}/watch/${this.path(classId)}`;
  }

  /** The WebSocket endpoint (ws:// or wss:// after the HTTP scheme). */
  wsUrl(): string {
    return `${this.http.replace(/^http/, 'ws')}/ws`;
  }

  /** The RTMP server, stream key and full publish URL of a class. */
  rtmp(c: Pick<ClassRecord, 'streamKey'>): RtmpTarget {
    return { server: this.rtmpServer, streamKey: c.streamKey, url: `${this.rtmpServer}/${c.streamKey}` };
  }

  /**
   * The monitor share link. The token rides in the fragment, so it never reaches server logs
   * or Referer headers; the monitor page reads it from `location.hash`.
   */
  monitorUrl(token: string): string {
    return `${this.http}/monitor#token=${token}`;
  }
}
