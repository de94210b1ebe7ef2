/**
 * Screen sharing from the browser over WHIP (draft-ietf-wish-whip): the screen from
 * `getDisplayMedia` (video) and the microphone from `getUserMedia` (optional: refused or absent
 * means a silent share), sent on one RTCPeerConnection with sendonly transceivers, H.264
 * (packetization-mode 1, constrained baseline first) preferred — the server takes H.264 and
 * Opus only and never re-encodes. One POST with the whole offer (ICE gathered first), DELETE to
 * stop. Framework-free: the teacher console's "Share screen" card drives it.
 */

/** Where a share is. */
export type ShareState = 'idle' | 'starting' | 'sharing' | 'stopped' | 'error';

/**
 * Why a share failed: `insecure` (not https/localhost), `unsupported` (no getDisplayMedia),
 * `denied` (the picker was cancelled), `busy` (someone else publishes: 409 PATH_BUSY),
 * `codec` (the browser cannot send H.264: 406), `refused` (token refused, lesson ended),
 * `network` (ICE/DTLS failed), `failed` (anything else).
 */
export type ShareError =
  'insecure' | 'unsupported' | 'denied' | 'busy' | 'codec' | 'refused' | 'network' | 'failed';

/** What the UI shows. */
export interface ShareView {
  state: ShareState;
  error?: ShareError;
  /** The server's error code (PATH_BUSY, LESSON_ENDED, …), when it answered one. */
  code?: string;
  /** The microphone is being sent. */
  audio: boolean;
}

/** Can this page share its screen? */
export function shareSupport(): 'ok' | 'insecure' | 'unsupported' {
  if (typeof window === 'undefined' || !window.isSecureContext) return 'insecure';
  if (!navigator.mediaDevices?.getDisplayMedia || typeof RTCPeerConnection === 'undefined')
    return 'unsupported';
  return 'ok';
}

/** The screen (required) and the microphone (when allowed) as one stream. */
export async function captureScreen(): Promise<{ stream: MediaStream; audio: boolean }> {
  const screen = await navigator.mediaDevices.getDisplayMedia({
    video: { frameRate: { ideal: 15, max: 30 } },
    audio: false,
  });
  let mic: MediaStream | undefined;
  try {
    mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch {
    mic = undefined; // refused or no microphone: share without sound
  }
  const tracks = [...screen.getVideoTracks(), ...(mic?.getAudioTracks() ?? [])];
  return { stream: new MediaStream(tracks), audio: (mic?.getAudioTracks().length ?? 0) > 0 };
}

/** H.264 (mode 1, constrained baseline first) ahead of every other video codec. */
function h264First(codecs: RTCRtpCodec[]): RTCRtpCodec[] {
  const rank = (c: RTCRtpCodec): number => {
    if (c.mimeType.toLowerCase() !== 'video/h264') return 0;
    const f = c.sdpFmtpLine ?? '';
    if (!/packetization-mode=1/.test(f)) return 1;
    return /profile-level-id=42e0/i.test(f) ? 4 : /profile-level-id=42/i.test(f) ? 3 : 2;
  };
  return [...codecs].sort((a, b) => rank(b) - rank(a));
}

/** ICE servers from `Link: <…>; rel="ice-server"` headers (WHIP §4.4). */
function iceServersFrom(link: string | null): RTCIceServer[] {
  if (!link) return [];
  const out: RTCIceServer[] = [];
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /<([^>]+)>/.exec(part);
    if (!m || !/rel="?ice-server"?/i.test(part)) continue;
    const user = /username="([^"]*)"/.exec(part)?.[1];
    const cred = /credential="([^"]*)"/.exec(part)?.[1];
    out.push({
      urls: m[1]!,
      ...(user !== undefined ? { username: user } : {}),
      ...(cred !== undefined ? { credential: cred } : {}),
    });
  }
  return out;
}

/** What a {@link WhipPublisher} is made with. */
export interface WhipPublisherOptions {
  /** The WHIP endpoint, e.g. `/live/<classId>/whip`. */
  endpoint: string;
  /** Bearer token allowing `publish` on the path. */
  token: string;
  /** What to send: one video track, at most one audio track. */
  stream: MediaStream;
  onChange?: (view: ShareView) => void;
}

/** One screen share: `start()` publishes, `stop()` (or the browser's own "stop sharing") ends it. */
export class WhipPublisher {
  private readonly opts: WhipPublisherOptions;
  private pc: RTCPeerConnection | undefined;
  private session: string | undefined;
  view: ShareView;

  constructor(opts: WhipPublisherOptions) {
    this.opts = opts;
    this.view = { state: 'idle', audio: opts.stream.getAudioTracks().length > 0 };
  }

  private set(v: Partial<ShareView>): void {
    this.view = { ...this.view, ...v };
    this.opts.onChange?.(this.view);
  }

  private fail(error: ShareError, code?: string): void {
    this.teardown();
    this.set({ state: 'error', error, ...(code ? { code } : {}) });
  }

  /** Publishes; resolves once the server answered (the view then says `sharing` on connect). */
  async start(): Promise<void> {
    const { endpoint, token, stream } = this.opts;
    this.set({ state: 'starting', error: undefined, code: undefined });
    const video = stream.getVideoTracks()[0];
    if (!video) return this.fail('failed');
    video.contentHint = 'detail'; // slides and text: keep them sharp rather than smooth
    video.addEventListener('ended', () => void this.stop());
    let iceServers: RTCIceServer[] = [];
    try {
      const o = await fetch(endpoint, { method: 'OPTIONS' });
      iceServers = iceServersFrom(o.headers.get('link'));
    } catch {
      // the POST below reports a network failure
    }
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    const vt = pc.addTransceiver(video, { direction: 'sendonly', streams: [stream] });
    const caps = RTCRtpSender.getCapabilities?.('video')?.codecs;
    if (caps && 'setCodecPreferences' in vt) vt.setCodecPreferences(h264First(caps));
    const audio = stream.getAudioTracks()[0];
    if (audio) pc.addTransceiver(audio, { direction: 'sendonly', streams: [stream] });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === 'connected') this.set({ state: 'sharing' });
      else if (pc.connectionState === 'failed') this.fail('network');
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      const timer = setTimeout(resolve, 2000);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        body: pc.localDescription?.sdp ?? '',
      });
    } catch {
      return this.fail('network');
    }
    if (this.pc !== pc) return; // stopped meanwhile
    if (res.status !== 201) {
      let code: string | undefined;
      try {
        code = ((await res.json()) as { error?: { code?: string } }).error?.code;
      } catch {
        code = undefined;
      }
      const kind: ShareError =
        res.status === 409
          ? 'busy'
          : res.status === 406
            ? 'codec'
            : [401, 403, 410].includes(res.status)
              ? 'refused'
              : 'failed';
      return this.fail(kind, code);
    }
    const location = res.headers.get('location');
    this.session = location ? new URL(location, new URL(endpoint, document.baseURI)).toString() : undefined;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  }

  private teardown(): void {
    const pc = this.pc;
    this.pc = undefined;
    pc?.close();
    for (const t of this.opts.stream.getTracks()) t.stop();
  }

  /** Ends the share: DELETE on the session, tracks stopped. Idempotent. */
  async stop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const was = this.view.state;
    this.teardown();
    if (was !== 'error') this.set({ state: 'stopped' });
    if (session) {
      // keepalive: the DELETE still goes out while the page is being closed.
      await fetch(session, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${this.opts.token}` },
        keepalive: true,
      }).catch(() => undefined);
    }
  }
}
