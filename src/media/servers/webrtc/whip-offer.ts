/**
 * The SDP side of WHIP ingest (draft-ietf-wish-whip): reads a publisher's offer and reduces it
 * to what the ingest takes — one H.264 format (packetization-mode 1, constrained baseline
 * preferred) and one Opus format — before werift sees it. werift matches codecs by name only
 * and would answer with every H.264 format of the offer (DESIGN §10), so the offer it gets
 * lists just the chosen payload types; the answer is then a subset of the real offer, as
 * RFC 3264 requires. RTX, RED, FEC and transport-wide congestion control are dropped: the
 * browser then retransmits nothing and estimates bandwidth from receiver reports.
 */
import { AirError } from '../../../shared/errors.ts';
import { fmtpParams, splitSdp, type SdpSection } from './offer.ts';

/** Largest offer accepted, bytes (Chromium's sendonly offers are 5–8 kB). */
export const MAX_WHIP_OFFER_BYTES = 64 * 1024;

/** One kept format of a WHIP offer. */
export interface WhipFormat {
  readonly mid: string;
  readonly payloadType: number;
  /** The format's fmtp line as offered ('' when none). */
  readonly fmtp: string;
}

/** A WHIP offer reduced to the formats the ingest takes. */
export interface WhipOffer {
  /** The offer with only the kept formats (what the WebRTC stack is given). */
  readonly sdp: string;
  readonly video: WhipFormat;
  readonly audio?: WhipFormat;
}

/** Rank of an offered H.264 format: constrained baseline 3, baseline 2, other profiles 1; −1 unusable. */
export function h264SendRank(fmtp: string | undefined): number {
  const p = fmtpParams(fmtp);
  if (p.get('packetization-mode') !== '1') return -1;
  const profile = p.get('profile-level-id') ?? '42001f';
  if (/^42e0/.test(profile)) return 3;
  if (/^42/.test(profile)) return 2;
  return 1;
}

/** The section with only `keep` as formats and without what the ingest does not use. */
function reduce(s: SdpSection, keep: number): string[] {
  const out: string[] = [];
  const fid = new Set<string>();
  for (const line of s.lines) {
    const g = /^a=ssrc-group:FID (\d+) (\d+)/.exec(line);
    if (g) fid.add(g[2]!);
  }
  for (const line of s.lines) {
    if (line.startsWith('m=')) {
      const [head = '', port = '9', proto = ''] = line.split(/\s+/);
      out.push(`${head} ${port} ${proto} ${keep}`);
      continue;
    }
    const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d{1,3})[ ]/.exec(line);
    if (pt && Number(pt[1]) !== keep) continue;
    if (/^a=rtcp-fb:\d+ (transport-cc|goog-remb)\b/.test(line)) continue;
    if (/^a=extmap:\d+\S* \S*transport-wide-cc/.test(line)) continue;
    if (/^a=ssrc-group:FID /.test(line)) continue;
    const ssrc = /^a=ssrc:(\d+) /.exec(line);
    if (ssrc && fid.has(ssrc[1]!)) continue;
    out.push(line);
  }
  return out;
}

/**
 * Reads a WHIP offer: one video section that sends H.264 with packetization-mode 1 and at most
 * one audio section that sends Opus. BAD_SDP (400) for a body that is no SDP offer or whose
 * sections do not send; CODEC_UNSUPPORTED (406) for video without usable H.264 (a VP8-only
 * offer) or audio without Opus. Nothing WebRTC is made before this passes.
 */
export function parseWhipOffer(sdp: string): WhipOffer {
  if (
    typeof sdp !== 'string' ||
    sdp.length === 0 ||
    sdp.length > MAX_WHIP_OFFER_BYTES ||
    !/^v=0\r?\n/.test(sdp)
  ) {
    throw new AirError('BAD_SDP', 'The body must be an SDP offer (v=0 …).');
  }
  const { session, sections } = splitSdp(sdp);
  if (!session.some((l) => l.startsWith('o=')) || sections.length === 0) {
    throw new AirError('BAD_SDP', 'The offer has no origin line or no media section.');
  }
  const media = sections.filter((s) => s.kind === 'audio' || s.kind === 'video');
  const videos = media.filter((s) => s.kind === 'video');
  const audios = media.filter((s) => s.kind === 'audio');
  if (videos.length !== 1 || audios.length > 1) {
    throw new AirError('BAD_SDP', 'Publish exactly one video track and at most one audio track.');
  }
  for (const s of media) {
    if (!s.mid) throw new AirError('BAD_SDP', `The ${s.kind} section has no a=mid.`);
    if (s.direction !== 'sendonly' && s.direction !== 'sendrecv') {
      throw new AirError('BAD_SDP', `The ${s.kind} section must send (a=sendonly), not ${s.direction}.`);
    }
  }
  const v = videos[0]!;
  let best = -1;
  let videoPt = -1;
  for (const f of v.formats) {
    if (v.rtpmap.get(f) !== 'h264/90000') continue;
    const r = h264SendRank(v.fmtp.get(f));
    if (r > best) {
      best = r;
      videoPt = f;
    }
  }
  if (videoPt < 0) {
    const offered = [...new Set(v.formats.map((f) => (v.rtpmap.get(f) ?? '').split('/')[0] ?? ''))];
    const names = offered.filter((n) => n && !['rtx', 'red', 'ulpfec', 'flexfec-03'].includes(n));
    throw new AirError(
      'CODEC_UNSUPPORTED',
      `The video must be H.264 with packetization-mode=1; the offer has ${names.map((n) => n.toUpperCase()).join(', ') || 'no codec'}. ` +
        'Prefer H.264 (RTCRtpTransceiver.setCodecPreferences) or use a browser that encodes it.',
    );
  }
  const video: WhipFormat = { mid: v.mid!, payloadType: videoPt, fmtp: v.fmtp.get(videoPt) ?? '' };
  let audio: WhipFormat | undefined;
  const a = audios[0];
  if (a) {
    const pt = a.formats.find((f) => a.rtpmap.get(f) === 'opus/48000');
    if (pt === undefined) {
      throw new AirError('CODEC_UNSUPPORTED', 'The audio must be Opus (opus/48000/2).');
    }
    audio = { mid: a.mid!, payloadType: pt, fmtp: a.fmtp.get(pt) ?? '' };
  }
  const out = [...session];
  for (const s of sections) {
    if (s === v) out.push(...reduce(s, videoPt));
    else if (s === a && audio) out.push(...reduce(s, audio.payloadType));
    else out.push(...s.lines);
  }
  return { sdp: out.join('\r\n') + '\r\n', video, ...(audio ? { audio } : {}) };
}
