import { AirError } from '../../../shared/errors.ts';

/** What a viewer's offer says about one media section we answer. */
export interface OfferedMedia {
  /** The section's `a=mid`. */
  readonly mid: string;
  /** The payload type the viewer gave the codec we send. */
  readonly payloadType: number;
  /** The fmtp parameters we answer with. */
  readonly fmtp: string;
}

/** A WHEP offer, reduced to what the egress answers: H.264 video, Opus audio if offered. */
export interface ParsedOffer {
  readonly video: OfferedMedia;
  readonly audio?: OfferedMedia;
}

/** Largest offer accepted, bytes (Chromium's offers are 4–6 kB). */
export const MAX_OFFER_BYTES = 64 * 1024;

/** The H.264 we declare (DESIGN §10: x264 "baseline" writes 42c01f; constrained baseline 3.1). */
export const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1';
const OPUS_FMTP = 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1';

/** One media section of an SDP, with its lines as given (the WHIP ingest rewrites them). */
export interface SdpSection {
  kind: string;
  lines: string[];
  mid?: string;
  direction: string;
  rtpmap: Map<number, string>;
  fmtp: Map<number, string>;
  formats: number[];
}

/** An SDP split into its session lines and media sections (the one SDP reader of egress and ingest). */
export function splitSdp(sdp: string): { session: string[]; sections: SdpSection[] } {
  const session: string[] = [];
  const sections: SdpSection[] = [];
  let cur: SdpSection | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('m=')) {
      const [kind = '', , , ...fmts] = line.slice(2).split(/\s+/);
      cur = {
        kind,
        lines: [line],
        direction: 'sendrecv',
        rtpmap: new Map(),
        fmtp: new Map(),
        formats: fmts.map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n <= 127),
      };
      sections.push(cur);
      continue;
    }
    if (!cur) {
      session.push(line);
      continue;
    }
    cur.lines.push(line);
    let m: RegExpExecArray | null;
    if ((m = /^a=mid:(\S{1,32})$/.exec(line))) cur.mid = m[1];
    else if ((m = /^a=rtpmap:(\d{1,3}) ([^/\s]+)\/(\d+)/.exec(line))) {
      cur.rtpmap.set(Number(m[1]), `${m[2]!.toLowerCase()}/${m[3]}`);
    } else if ((m = /^a=fmtp:(\d{1,3}) (.*)$/.exec(line))) cur.fmtp.set(Number(m[1]), m[2]!);
    else if (/^a=(sendrecv|recvonly|sendonly|inactive)$/.test(line)) cur.direction = line.slice(2);
  }
  return { session, sections };
}

/** The parameters of an fmtp line, keys and values lower-cased. */
export function fmtpParams(s: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of (s ?? '').split(';')) {
    const i = kv.indexOf('=');
    if (i > 0)
      out.set(
        kv.slice(0, i).trim().toLowerCase(),
        kv
          .slice(i + 1)
          .trim()
          .toLowerCase(),
      );
  }
  return out;
}

/** Rank of an offered H.264 format: constrained baseline first; −1 if unusable. */
function h264Rank(fmtp: string | undefined): number {
  const p = fmtpParams(fmtp);
  if (p.get('packetization-mode') !== '1') return -1;
  const profile = p.get('profile-level-id') ?? '42001f';
  if (/^42e0/.test(profile)) return 3;
  if (/^42[0-9a-f]{2}/.test(profile)) return 2;
  if (p.get('level-asymmetry-allowed') === '1') return 1;
  return -1;
}

/**
 * Reads a WHEP offer: the first video section that receives H.264 with packetization-mode 1
 * (constrained baseline preferred), and the first audio section that receives Opus.
 * BAD_SDP for anything else, before any WebRTC resource is made.
 */
export function parseOffer(sdp: string): ParsedOffer {
  if (typeof sdp !== 'string' || sdp.length === 0 || sdp.length > MAX_OFFER_BYTES || !/^v=0\r?\n/.test(sdp)) {
    throw new AirError('BAD_SDP', 'The body must be an SDP offer (v=0 …).');
  }
  const all = splitSdp(sdp).sections;
  let video: OfferedMedia | undefined;
  let audio: OfferedMedia | undefined;
  for (const s of all) {
    const receives = s.direction === 'recvonly' || s.direction === 'sendrecv';
    if (!s.mid || !receives) continue;
    if (s.kind === 'video' && !video) {
      let best = -1;
      let pt = -1;
      for (const f of s.formats) {
        if (s.rtpmap.get(f) !== 'h264/90000') continue;
        const r = h264Rank(s.fmtp.get(f));
        if (r > best) {
          best = r;
          pt = f;
        }
      }
      if (pt >= 0) video = { mid: s.mid, payloadType: pt, fmtp: H264_FMTP };
    } else if (s.kind === 'audio' && !audio) {
      const pt = s.formats.find((f) => s.rtpmap.get(f) === 'opus/48000');
      if (pt !== undefined) audio = { mid: s.mid, payloadType: pt, fmtp: OPUS_FMTP };
    }
  }
  if (!video) {
    throw new AirError(
      'BAD_SDP',
      'The offer must contain a video section with a mid that receives H.264 (packetization-mode=1).',
    );
  }
  return audio ? { video, audio } : { video };
}

const CANDIDATE =
  /^candidate:[A-Za-z0-9+/]{1,32} [0-9]{1,3} (udp|tcp) [0-9]{1,10} ([0-9A-Za-z.:%-]{1,64}) ([0-9]{1,5}) typ (host|srflx|prflx|relay)( .*)?$/i;

/**
 * The ICE candidates of a trickle-ice-sdpfrag body (RFC 8840), checked one by one:
 * `a=candidate:` lines must be well formed (BAD_CANDIDATE otherwise, so a client error is a
 * 400, never a 500); `a=end-of-candidates` and session lines are accepted and ignored.
 */
export function parseTrickle(frag: string, maxCandidates = 32): { mid?: string; candidates: string[] } {
  if (typeof frag !== 'string' || frag.length > 16 * 1024) {
    throw new AirError('BAD_CANDIDATE', 'The trickle body is not an SDP fragment.');
  }
  const candidates: string[] = [];
  let mid: string | undefined;
  for (const raw of frag.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^a=mid:(\S{1,32})$/.exec(line);
    if (m) {
      mid ??= m[1];
      continue;
    }
    if (!line.startsWith('a=candidate:')) continue;
    const c = line.slice(2);
    const cm = CANDIDATE.exec(c);
    const port = cm ? Number(cm[3]) : 0;
    if (!cm || port < 1 || port > 65535) {
      throw new AirError('BAD_CANDIDATE', `Not an ICE candidate: ${c.slice(0, 80)}`);
    }
    candidates.push(c);
    if (candidates.length > maxCandidates) throw new AirError('BAD_CANDIDATE', 'Too many candidates.');
  }
  return mid === undefined ? { candidates } : { mid, candidates };
}

/**
 * Adds host candidates for extra addresses (NAT, Docker, loopback) to an answer's first media
 * section, on the port of the answer's own first candidate. The answer is BUNDLEd, so the
 * first section carries the transport.
 */
export function announceCandidates(answer: string, addresses: readonly string[], port: number): string {
  if (addresses.length === 0) return answer;
  const eol = answer.includes('\r\n') ? '\r\n' : '\n';
  const lines = answer.split(/\r?\n/);
  const present = new Set<string>();
  for (const l of lines) {
    const m = /^a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host/i.exec(l);
    if (m) present.add(`${m[1]} ${m[2]}`);
  }
  const firstM = lines.findIndex((l) => l.startsWith('m='));
  if (firstM < 0) return answer;
  let nextM = lines.findIndex((l, i) => i > firstM && l.startsWith('m='));
  if (nextM < 0) nextM = lines.length;
  let at = lines.findIndex((l, i) => i > firstM && i < nextM && l === 'a=end-of-candidates');
  if (at < 0) at = nextM;
  const add: string[] = [];
  addresses.forEach((addr, i) => {
    if (present.has(`${addr} ${port}`)) return;
    present.add(`${addr} ${port}`);
    add.push(`a=candidate:x${i + 1} 1 UDP ${2114977791 - 256 * (i + 1)} ${addr} ${port} typ host`);
  });
  lines.splice(at, 0, ...add);
  return lines.join(eol);
}
