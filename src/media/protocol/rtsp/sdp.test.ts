import { describe, expect, it } from 'vitest';
import { isAirError } from '../../../shared/errors.ts';
import type { AudioTrack, VideoTrack } from '../../stream/types.ts';
import { parseAudioSpecificConfig, serializeAudioSpecificConfig } from '../aac/asc.ts';
import { parseSps } from '../h264/sps.ts';
import { RtspParser } from './message.ts';
import { buildSdp, parseSdp, type SdpTrack } from './sdp.ts';
import { clientBytes, ffprobeStreams, serverBytes, type CaptureName } from './testdata/captures.ts';

/** The SDP body of the first request or response with one. */
function capturedSdp(bytes: Uint8Array): string {
  for (const i of new RtspParser().push(bytes)) {
    const m = i.type === 'request' ? i.request : i.type === 'response' ? i.response : undefined;
    if (m && m.body.length > 0) return new TextDecoder().decode(m.body);
  }
  throw new Error('no SDP in the capture');
}

const announced = (name: CaptureName): string => capturedSdp(clientBytes(name));

function expectBadSdp(sdp: string): void {
  try {
    parseSdp(sdp);
  } catch (e) {
    expect(isAirError(e, 'BAD_SDP'), String(e)).toBe(true);
    return;
  }
  throw new Error('expected BAD_SDP');
}

describe('parseSdp of what ffmpeg announces', () => {
  it('reads 1280x720 constrained-baseline H.264 and 48 kHz mono AAC-LC', () => {
    const [video, audio, ...rest] = parseSdp(announced('ffmpeg-h264-aac'));
    expect(rest).toEqual([]);
    expect(video!.payloadType).toBe(96);
    expect(video!.control).toBe('streamid=0');
    const v = video!.track as VideoTrack;
    expect(v).toMatchObject({ kind: 'video', codec: 'h264', width: 1280, height: 720, clockRate: 90000 });
    expect([v.profile, v.constraints, v.level]).toEqual([66, 0xc0, 31]); // 42C01F in the fmtp
    expect(v.sps[0]! & 0x1f).toBe(7);
    expect(v.pps[0]! & 0x1f).toBe(8);
    expect(parseSps(v.sps).width).toBe(1280);
    expect(audio).toMatchObject({ payloadType: 97, control: 'streamid=1' });
    const a = audio!.track as AudioTrack;
    expect(a).toMatchObject({
      kind: 'audio',
      codec: 'aac',
      sampleRate: 48000,
      channels: 1,
      clockRate: 48000,
    });
    expect(Buffer.from(a.config!).toString('hex')).toBe('118856e500'); // config= in ffmpeg's fmtp
    expect(parseAudioSpecificConfig(a.config!)).toMatchObject({
      objectType: 2,
      sampleRate: 48000,
      channels: 1,
    });
  });

  it('reads Opus (ffmpeg writes no sprop-stereo for mono: 2 channels, as its rtpmap)', () => {
    const sdp = announced('ffmpeg-h264-opus');
    expect(sdp).toContain('a=rtpmap:97 opus/48000/2');
    const [video, audio] = parseSdp(sdp);
    expect(video!.track.kind).toBe('video');
    expect(audio!.track).toEqual({
      kind: 'audio',
      codec: 'opus',
      sampleRate: 48000,
      channels: 2,
      clockRate: 48000,
    });
  });
});

describe('buildSdp', () => {
  const [video, aac] = parseSdp(announced('ffmpeg-h264-aac'));
  const opus: AudioTrack = { kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2, clockRate: 48000 };
  const tracks: SdpTrack[] = [
    { ...video!, control: 'trackID=0' },
    { ...aac!, control: 'trackID=1' },
    { track: opus, payloadType: 111, control: 'trackID=2' },
  ];

  it('writes the description ffprobe played (and found the right streams in)', () => {
    const sdp = buildSdp({ address: '127.0.0.1', sessionName: 'live/x', tracks: tracks.slice(0, 2) });
    expect(capturedSdp(serverBytes('ffprobe-play'))).toBe(sdp);
    expect(sdp).toBe(
      [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=live/x',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'a=control:*',
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAH9oBQBbsBEAAAAMAQAAADwPGDKg=,aM4CXIA=; profile-level-id=42c01f',
        'a=control:trackID=0',
        'm=audio 0 RTP/AVP 97',
        'a=rtpmap:97 MPEG4-GENERIC/48000/1',
        'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=118856e500',
        'a=control:trackID=1',
        '',
      ].join('\r\n'),
    );
    expect(ffprobeStreams()).toEqual([
      {
        index: 0,
        codec_name: 'h264',
        profile: 'Constrained Baseline',
        width: 1280,
        height: 720,
        pix_fmt: 'yuv420p',
      },
      { index: 1, codec_name: 'aac', profile: 'LC', sample_rate: '48000', channels: 1 },
    ]);
  });

  it('round-trips H.264, AAC and Opus through parseSdp', () => {
    expect(parseSdp(buildSdp({ address: '10.0.0.1', tracks }))).toEqual(tracks);
    const stereo = serializeAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 2 });
    const more: SdpTrack[] = [
      {
        track: {
          kind: 'audio',
          codec: 'aac',
          sampleRate: 44100,
          channels: 2,
          config: stereo,
          clockRate: 44100,
        },
        payloadType: 98,
        control: 'trackID=0',
      },
      { track: { ...opus, channels: 1 }, payloadType: 100, control: 'trackID=1' },
    ];
    const sdp = buildSdp({ address: '::1', sessionName: 'a\r\nb', tracks: more });
    expect(sdp).toContain('c=IN IP6 ::1\r\n');
    expect(sdp).toContain('s=a b\r\n');
    expect(sdp).toContain('a=fmtp:100 sprop-stereo=0\r\n');
    expect(parseSdp(sdp)).toEqual(more);
  });
});

describe('parseSdp of other descriptions', () => {
  const base = 'v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=x\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n';

  it('skips unknown codecs and formats, and takes the first known format of a media', () => {
    const sdp =
      base +
      'm=audio 0 RTP/AVP 0 8\r\n' +
      'm=video 0 RTP/AVP 97 96\r\na=rtpmap:97 VP8/90000\r\na=rtpmap:96 H264/90000\r\n' +
      'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAH9oBQBbsBEAAAAMAQAAADwPGDKg=,aM4CXIA=\r\n' +
      'm=audio 0 RTP/AVP 101 102\r\na=rtpmap:101 mpeg4-generic/48000/2\r\n' +
      'a=fmtp:101 streamtype=5;mode=AAC-lbr;sizelength=6;indexlength=2;indexdeltalength=2;config=1190\r\n' +
      'a=rtpmap:102 OPUS/48000/2\r\na=fmtp:102 minptime=10;useinbandfec=1;sprop-stereo=1\r\n' +
      'm=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\n';
    const tracks = parseSdp(sdp);
    expect(tracks.map((t) => [t.payloadType, t.track.codec, t.control])).toEqual([
      [96, 'h264', ''],
      [102, 'opus', ''],
    ]);
  });

  it('throws BAD_SDP on malformed fmtp or parameter sets', () => {
    const h264 = (fmtp: string): string =>
      `${base}m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 ${fmtp}\r\n`;
    const aac = (fmtp: string): string =>
      `${base}m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 ${fmtp}\r\n`;
    const hbr = 'mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3';
    expectBadSdp(h264('packetization-mode=1;garbage'));
    expectBadSdp(h264('packetization-mode=1'));
    expectBadSdp(h264('packetization-mode=1;sprop-parameter-sets=!!!,aM4CXIA='));
    expectBadSdp(h264('packetization-mode=1;sprop-parameter-sets=aM4CXIA='));
    expectBadSdp(h264('packetization-mode=1;sprop-parameter-sets=Z0LA,aM4CXIA='));
    expectBadSdp(
      h264('profile-level-id=42zz1f;sprop-parameter-sets=Z0LAH9oBQBbsBEAAAAMAQAAADwPGDKg=,aM4CXIA='),
    );
    expectBadSdp(aac(`${hbr};config=119`));
    expectBadSdp(aac(`${hbr}`));
    expectBadSdp(aac(`${hbr};config=f8`));
    expectBadSdp(aac('sizelength=13;config=1190'));
    expectBadSdp(
      `${base}m=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 sprop-stereo=yes\r\n`,
    );
    expectBadSdp(`${base}m=video\r\n`);
    expectBadSdp('hello');
  });
});
