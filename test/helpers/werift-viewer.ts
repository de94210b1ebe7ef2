import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/** A WHEP viewer built on werift, as a non-browser client would be. */
export interface WeriftViewer {
  pc: RTCPeerConnection;
  /** Response of the POST. */
  status: number;
  headers: Headers;
  answer: string;
  location?: string;
  /** RTP packets received so far, per kind. */
  received: { video: number; audio: number };
  /** Highest video RTP timestamp seen. */
  lastVideoTs: number;
  /** Resolves when ICE+DTLS are up. */
  connected: Promise<void>;
  close(): Promise<void>;
}

/** Makes an offer (recvonly H.264 video + Opus audio) as a WHEP client would. */
export async function makeOffer(): Promise<RTCPeerConnection> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
        }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  });
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve();
        }
      });
    });
  }
  return pc;
}

/** POSTs an offer to a WHEP endpoint and, on 201, completes the connection. */
export async function whepView(url: string, token?: string): Promise<WeriftViewer> {
  const pc = await makeOffer();
  const headers: Record<string, string> = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: pc.localDescription!.sdp });
  const answer = await res.text();
  const v: WeriftViewer = {
    pc,
    status: res.status,
    headers: res.headers,
    answer,
    location: res.headers.get('location') ?? undefined,
    received: { video: 0, audio: 0 },
    lastVideoTs: 0,
    connected: Promise.resolve(),
    close: async () => {
      await pc.close();
    },
  };
  if (res.status !== 201) {
    await pc.close();
    return v;
  }
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      if (track.kind === 'video') {
        v.received.video++;
        v.lastVideoTs = rtp.header.timestamp;
      } else v.received.audio++;
    });
  });
  v.connected = new Promise<void>((resolve, reject) => {
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') resolve();
      if (s === 'failed') reject(new Error('viewer connection failed'));
    });
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return v;
}

/** Waits until `cond()` holds, polling; throws with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
