/**
 * A Node WHIP publisher for tests: ffmpeg encodes testsrc2 (libx264 baseline, no B-frames) and a
 * sine tone (libopus) to RTP on two local UDP ports; the packets are written into the sender
 * tracks of a werift peer connection that publishes over WHIP — what a non-browser WHIP client
 * (OBS 30+, GStreamer whipsink) does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { FFMPEG_PATH } from './publisher.ts';

/** A WHIP POST and what came back. */
export interface WhipPost {
  status: number;
  headers: Headers;
  body: string;
}

/** A running WHIP publisher. */
export interface WhipClient {
  pc: RTCPeerConnection;
  post: WhipPost;
  /** Absolute session URL (from Location), when the POST got 201. */
  sessionUrl?: string;
  /** Resolves when ICE + DTLS are up. */
  connected: Promise<void>;
  /** RTCP PLIs the server sent (keyframe requests). */
  plis: () => number;
  /** Starts ffmpeg feeding the tracks. */
  startMedia(opts?: { size?: string }): void;
  /** Sends DELETE to the session URL; returns its status. */
  del(): Promise<number>;
  /** Stops ffmpeg and closes the peer connection (no DELETE). Idempotent. */
  close(): Promise<void>;
}

/** A werift offer with sendonly H.264 (42e01f, mode 1) and Opus tracks, gathered in full. */
export async function whipOffer(opts: { video?: 'h264' | 'vp8' } = {}): Promise<{
  pc: RTCPeerConnection;
  video: MediaStreamTrack;
  audio: MediaStreamTrack;
}> {
  const vp8 = opts.video === 'vp8';
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: {
      video: [
        new RTCRtpCodecParameters(
          vp8
            ? { mimeType: 'video/VP8', clockRate: 90000 }
            : {
                mimeType: 'video/H264',
                clockRate: 90000,
                rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
                parameters: 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
              },
        ),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    },
  });
  const video = new MediaStreamTrack({ kind: 'video' });
  const audio = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(video, { direction: 'sendonly' });
  pc.addTransceiver(audio, { direction: 'sendonly' });
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
  return { pc, video, audio };
}

/** POSTs an SDP body to a WHIP endpoint. */
export async function postOffer(
  url: string,
  sdp: string,
  token?: string,
  type = 'application/sdp',
): Promise<WhipPost> {
  const headers: Record<string, string> = { 'Content-Type': type };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: sdp });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

async function udpSocket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** Publishes over WHIP from werift; media starts with `startMedia()`. */
export async function whipPublish(url: string, token?: string): Promise<WhipClient> {
  const { pc, video, audio } = await whipOffer();
  const post = await postOffer(url, pc.localDescription!.sdp, token);
  let ffmpeg: ChildProcess | undefined;
  const sockets: dgram.Socket[] = [];
  let plis = 0;
  const location = post.headers.get('location');
  const sessionUrl = location ? new URL(location, url).toString() : undefined;
  const connected = new Promise<void>((resolve, reject) => {
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') resolve();
      if (s === 'failed') reject(new Error('WHIP publisher connection failed'));
    });
  });
  connected.catch(() => undefined);
  if (post.status === 201) {
    await pc.setRemoteDescription({ type: 'answer', sdp: post.body });
    for (const t of pc.getTransceivers()) {
      t.sender.onPictureLossIndication.subscribe(() => plis++);
    }
  }
  let closing: Promise<void> | undefined;
  return {
    pc,
    post,
    ...(sessionUrl ? { sessionUrl } : {}),
    connected,
    plis: () => plis,
    startMedia: (opts = {}) => {
      void (async () => {
        const v = await udpSocket();
        const a = await udpSocket();
        sockets.push(v, a);
        v.on('message', (m) => video.writeRtp(m));
        a.on('message', (m) => audio.writeRtp(m));
        ffmpeg = spawn(
          FFMPEG_PATH,
          [
            ...['-hide_banner', '-nostats', '-loglevel', 'error'],
            ...['-re', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '640x360'}:rate=30`],
            ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
            ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
            ...['-profile:v', 'baseline', '-bf', '0', '-g', '30', '-pix_fmt', 'yuv420p', '-b:v', '800k'],
            ...['-bsf:v', 'dump_extra=freq=keyframe', '-payload_type', '96', '-ssrc', '1111'],
            ...['-f', 'rtp', '-pkt_size', '1200', `rtp://127.0.0.1:${v.address().port}`],
            ...['-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', '-payload_type', '111'],
            ...['-ssrc', '2222', '-f', 'rtp', `rtp://127.0.0.1:${a.address().port}`],
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
      })();
    },
    del: async () => {
      if (!sessionUrl) return 0;
      const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
      return (await fetch(sessionUrl, { method: 'DELETE', headers })).status;
    },
    close: () =>
      (closing ??= (async () => {
        ffmpeg?.kill('SIGKILL');
        for (const s of sockets) s.close();
        await pc.close();
      })()),
  };
}
