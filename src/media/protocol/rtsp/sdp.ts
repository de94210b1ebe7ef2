/**
 * The session descriptions of RTSP (RFC 4566, RFC 2326 Appendix C): what a server answers to
 * DESCRIBE and what a publisher sends with ANNOUNCE. Three payload formats are understood:
 * H.264 (RFC 6184), AAC as `mpeg4-generic` AAC-hbr (RFC 3640) and Opus (RFC 7587).
 *
 * ```
 * v=0
 * o=- 0 0 IN IP4 10.0.0.1
 * s=AirClass
 * c=IN IP4 10.0.0.1
 * t=0 0
 * a=control:*
 * m=video 0 RTP/AVP 96
 * a=rtpmap:96 H264/90000
 * a=fmtp:96 packetization-mode=1; sprop-parameter-sets=<sps>,<pps>; profile-level-id=42c01f
 * a=control:trackID=0
 * m=audio 0 RTP/AVP 97
 * a=rtpmap:97 MPEG4-GENERIC/48000/2
 * a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190
 * a=control:trackID=1
 * ```
 */
import { AirError } from '../../../shared/errors.ts';
import type { AudioTrack, VideoTrack } from '../../stream/types.ts';
import { parseAudioSpecificConfig } from '../aac/asc.ts';
import { profileLevelId } from '../h264/sps.ts';
import { h264Track as trackOf } from '../h264/track.ts';

/** One media of a session description. */
export interface SdpTrack {
  track: VideoTrack | AudioTrack;
  /** RTP payload type, 96–127 for these dynamic formats. */
  payloadType: number;
  /** The `a=control` of the media, e.g. `trackID=0` or `streamid=1` ('' when absent). */
  control: string;
}

function bad(what: string): never {
  throw new AirError('BAD_SDP', `SDP: ${what}`);
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The `m=`, rtpmap and fmtp lines of one track. */
function mediaLines(t: SdpTrack): string[] {
  const pt = t.payloadType;
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) bad(`payload type ${pt}`);
  const tr = t.track;
  const lines: string[] = [];
  if (tr.kind === 'video') {
    const fmtp = [
      'packetization-mode=1',
      `sprop-parameter-sets=${b64(tr.sps)},${b64(tr.pps)}`,
      `profile-level-id=${profileLevelId(tr)}`,
    ];
    lines.push(`m=video 0 RTP/AVP ${pt}`, `a=rtpmap:${pt} H264/90000`, `a=fmtp:${pt} ${fmtp.join('; ')}`);
  } else if (tr.codec === 'aac') {
    if (!tr.config) bad('AAC track without an AudioSpecificConfig');
    const fmtp = `profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${hex(tr.config)}`;
    lines.push(
      `m=audio 0 RTP/AVP ${pt}`,
      `a=rtpmap:${pt} MPEG4-GENERIC/${tr.clockRate}/${tr.channels}`,
      `a=fmtp:${pt} ${fmtp}`,
    );
  } else {
    lines.push(`m=audio 0 RTP/AVP ${pt}`, `a=rtpmap:${pt} opus/48000/2`);
    lines.push(`a=fmtp:${pt} sprop-stereo=${tr.channels === 2 ? 1 : 0}`);
  }
  if (/[\r\n]/.test(t.control)) bad('line break in a control');
  lines.push(`a=control:${t.control}`);
  return lines;
}

/**
 * Builds the session description a server answers DESCRIBE with (CRLF line ends). The
 * address goes into `o=` and `c=` (IP6 when it contains a colon).
 */
export function buildSdp(opts: {
  address: string;
  sessionName?: string;
  tracks: readonly SdpTrack[];
}): string {
  const ip = opts.address.includes(':') ? 'IP6' : 'IP4';
  if (/[\s]/.test(opts.address)) bad(`address ${JSON.stringify(opts.address)}`);
  const name = (opts.sessionName ?? 'AirClass').replace(/[\r\n]+/g, ' ') || 'AirClass';
  const lines = [
    'v=0',
    `o=- 0 0 IN ${ip} ${opts.address}`,
    `s=${name}`,
    `c=IN ${ip} ${opts.address}`,
    't=0 0',
    'a=control:*',
  ];
  for (const t of opts.tracks) lines.push(...mediaLines(t));
  return lines.join('\r\n') + '\r\n';
}

interface Media {
  type: string;
  formats: number[];
  rtpmap: Map<number, string>;
  fmtp: Map<number, string>;
  control: string;
}

/** Splits the description into its media sections (session-level lines are not needed). */
function mediaSections(text: string): Media[] {
  const out: Media[] = [];
  let cur: Media | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!/^[a-z]=/.test(line)) bad(`bad line ${JSON.stringify(line.slice(0, 80))}`);
    if (line.startsWith('m=')) {
      const f = line.slice(2).split(/\s+/);
      if (f.length < 4) bad(`bad media line ${JSON.stringify(line.slice(0, 80))}`);
      const formats = f.slice(3).map(Number);
      cur = { type: f[0]!, formats, rtpmap: new Map(), fmtp: new Map(), control: '' };
      out.push(cur);
      continue;
    }
    if (!cur || !line.startsWith('a=')) continue;
    const attr = line.slice(2);
    const m = /^(rtpmap|fmtp):(\d+)\s+(.*)$/.exec(attr);
    if (m) (m[1] === 'rtpmap' ? cur.rtpmap : cur.fmtp).set(Number(m[2]), m[3]!.trim());
    else if (attr.startsWith('control:')) cur.control = attr.slice(8).trim();
  }
  return out;
}

/** Parses `a=fmtp` parameters (`k=v; k=v`; keys lower-cased). Throws BAD_SDP when malformed. */
export function parseFmtp(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of value.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) bad(`bad fmtp parameter ${JSON.stringify(p.slice(0, 40))}`);
    const key = p.slice(0, eq).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(key)) bad(`bad fmtp parameter ${JSON.stringify(p.slice(0, 40))}`);
    out.set(key, p.slice(eq + 1).trim());
  }
  return out;
}

function fromBase64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s)) bad(`bad base64 in sprop-parameter-sets`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function h264Track(fmtp: Map<string, string>): VideoTrack | undefined {
  const mode = fmtp.get('packetization-mode') ?? '0';
  if (!/^\d$/.test(mode)) bad(`bad packetization-mode ${mode}`);
  if (mode !== '0' && mode !== '1') return undefined; // interleaved mode is not supported
  const pli = fmtp.get('profile-level-id');
  if (pli !== undefined && !/^[0-9A-Fa-f]{6}$/.test(pli)) bad(`bad profile-level-id ${pli}`);
  const sets = fmtp.get('sprop-parameter-sets');
  if (!sets) bad('H.264 media without sprop-parameter-sets');
  const nalus = sets
    .split(',')
    .filter((s) => s !== '')
    .map(fromBase64);
  const sps = nalus.find((n) => (n[0]! & 0x1f) === 7);
  const pps = nalus.find((n) => (n[0]! & 0x1f) === 8);
  if (!sps || !pps) bad('sprop-parameter-sets without an SPS and a PPS');
  try {
    return trackOf(sps, pps);
  } catch (e) {
    bad(`bad SPS in sprop-parameter-sets (${(e as Error).message})`);
  }
}

function aacTrack(rtpmap: string[], fmtp: Map<string, string>): AudioTrack | undefined {
  const mode = fmtp.get('mode');
  if (mode === undefined) bad('mpeg4-generic without a mode');
  if (mode.toLowerCase() !== 'aac-hbr') return undefined;
  for (const [k, v] of [
    ['sizelength', '13'],
    ['indexlength', '3'],
    ['indexdeltalength', '3'],
  ] as const) {
    const got = fmtp.get(k);
    if (got === undefined || !/^\d+$/.test(got)) bad(`AAC-hbr without a valid ${k}`);
    if (got !== v) return undefined;
  }
  const config = fmtp.get('config');
  if (!config || !/^([0-9A-Fa-f]{2})+$/.test(config)) bad(`bad AAC config ${JSON.stringify(config ?? '')}`);
  const bytes = new Uint8Array(Buffer.from(config, 'hex'));
  let asc;
  try {
    asc = parseAudioSpecificConfig(bytes);
  } catch (e) {
    bad(`bad AAC config ${config} (${(e as Error).message})`);
  }
  const clockRate = Number(rtpmap[1]);
  const channels = asc.channels || Number(rtpmap[2] ?? 1);
  return { kind: 'audio', codec: 'aac', sampleRate: asc.sampleRate, channels, config: bytes, clockRate };
}

function opusTrack(fmtp: Map<string, string>): AudioTrack {
  const stereo = fmtp.get('sprop-stereo');
  if (stereo !== undefined && stereo !== '0' && stereo !== '1') bad(`bad sprop-stereo ${stereo}`);
  const channels = stereo === '0' ? 1 : 2;
  return { kind: 'audio', codec: 'opus', sampleRate: 48000, channels, clockRate: 48000 };
}

/**
 * The tracks of a session description: the first format of each media that is H.264 (modes 0
 * and 1), AAC-hbr or Opus; other media and formats are skipped. Reads what buildSdp writes and
 * what ffmpeg writes. For Opus the channel count comes from `sprop-stereo` (2 when absent, as
 * the rtpmap says). Throws BAD_SDP on a malformed description or fmtp.
 */
export function parseSdp(text: string): SdpTrack[] {
  if (!/^v=0\s*$/m.test(text.split(/\r?\n/, 1)[0] ?? '')) bad('does not start with v=0');
  const out: SdpTrack[] = [];
  for (const m of mediaSections(text)) {
    if (m.type !== 'video' && m.type !== 'audio') continue;
    for (const pt of m.formats) {
      if (!Number.isInteger(pt) || pt < 0 || pt > 127) bad(`bad payload type in m=${m.type}`);
      const map = m.rtpmap.get(pt);
      if (!map) continue;
      const parts = map.split('/');
      const name = parts[0]!.toLowerCase();
      const rate = parts[1];
      if (rate === undefined || !/^\d+$/.test(rate)) bad(`bad rtpmap ${JSON.stringify(map)}`);
      const fmtp = parseFmtp(m.fmtp.get(pt) ?? '');
      let track: VideoTrack | AudioTrack | undefined;
      if (m.type === 'video' && name === 'h264' && rate === '90000') track = h264Track(fmtp);
      else if (m.type === 'audio' && name === 'mpeg4-generic') track = aacTrack(parts, fmtp);
      else if (m.type === 'audio' && name === 'opus' && rate === '48000') track = opusTrack(fmtp);
      if (track) {
        out.push({ track, payloadType: pt, control: m.control });
        break;
      }
    }
  }
  return out;
}
