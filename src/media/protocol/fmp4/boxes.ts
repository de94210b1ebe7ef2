/**
 * ISO BMFF (ISO/IEC 14496-12) boxes for fragmented MP4 / CMAF as HLS uses it (RFC 8216 §3.3):
 * an init segment (`ftyp` + `moov` with empty sample tables and `mvex`) and media segments
 * (`styp` + `moof` + `mdat`), for H.264 (`avc1`/`avcC`), AAC (`mp4a`/`esds`) and Opus
 * (`Opus`/`dOps`). Pure serializers: tracks and samples in, bytes out.
 */
import type { AudioTrack, VideoTrack } from '../../stream/types.ts';

/** A box: 32-bit size, 4-character type, then the payload parts. */
export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  let size = 8;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, size);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A full box: version and 24-bit flags before the payload. */
export function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, u8(version, flags >>> 16, flags >>> 8, flags), ...parts);
}

function u8(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes.map((b) => b & 0xff));
}
function u16(v: number): Uint8Array {
  return u8(v >>> 8, v);
}
function u32(v: number): Uint8Array {
  return u8(v >>> 24, v >>> 16, v >>> 8, v);
}
function u64(v: number): Uint8Array {
  const hi = Math.floor(v / 0x1_0000_0000);
  return new Uint8Array([...u32(hi), ...u32(v >>> 0)]);
}
function zeros(n: number): Uint8Array {
  return new Uint8Array(n);
}
function str(s: string): Uint8Array {
  return Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
}

const MATRIX = new Uint8Array([
  ...u32(0x00010000),
  ...u32(0),
  ...u32(0),
  ...u32(0),
  ...u32(0x00010000),
  ...u32(0),
  ...u32(0),
  ...u32(0),
  ...u32(0x40000000),
]);

/** A track of the recording: its id (1…), timescale and description. */
export interface Fmp4Track {
  id: number;
  timescale: number;
  track: VideoTrack | AudioTrack;
}

/** One sample of a fragment: its bytes, duration and composition offset in the track's timescale. */
export interface Fmp4Sample {
  data: Uint8Array;
  duration: number;
  /** pts − dts (0 without B-frames). */
  compositionOffset?: number;
  key: boolean;
}

function avcC(v: VideoTrack): Uint8Array {
  return box(
    'avcC',
    u8(1, v.profile, v.constraints, v.level, 0xff, 0xe1),
    u16(v.sps.length),
    v.sps,
    u8(1),
    u16(v.pps.length),
    v.pps,
  );
}

/** MPEG-4 descriptor: tag, then its length in the 4-byte form. */
function descriptor(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(5 + n);
  out[0] = tag;
  out[1] = 0x80 | ((n >> 21) & 0x7f);
  out[2] = 0x80 | ((n >> 14) & 0x7f);
  out[3] = 0x80 | ((n >> 7) & 0x7f);
  out[4] = n & 0x7f;
  let o = 5;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function esds(a: AudioTrack): Uint8Array {
  const asc = a.config ?? new Uint8Array(0);
  const decoderConfig = descriptor(
    0x04,
    u8(0x40, 0x15), // MPEG-4 audio, audio stream
    u8(0, 0, 0), // buffer size
    u32(0), // max bitrate
    u32(0), // avg bitrate
    descriptor(0x05, asc),
  );
  return fullBox('esds', 0, 0, descriptor(0x03, u16(0), u8(0), decoderConfig, descriptor(0x06, u8(2))));
}

function dOps(a: AudioTrack): Uint8Array {
  // RFC 7845 §5.1 OpusHead fields, big-endian as ISO BMFF's Opus binding says.
  return box('dOps', u8(0, a.channels), u16(312), u32(48000), u16(0), u8(0));
}

function sampleEntry(t: Fmp4Track): Uint8Array {
  const tr = t.track;
  if (tr.kind === 'video') {
    return box(
      'avc1',
      zeros(6),
      u16(1), // data reference index
      zeros(16),
      u16(tr.width),
      u16(tr.height),
      u32(0x00480000),
      u32(0x00480000),
      u32(0),
      u16(1), // frame count
      zeros(32), // compressor name
      u16(0x0018),
      u16(0xffff),
      avcC(tr),
    );
  }
  const audioHead = [zeros(6), u16(1), zeros(8), u16(tr.channels), u16(16), u16(0), u16(0)];
  if (tr.codec === 'opus') return box('Opus', ...audioHead, u32(48000 * 0x10000), dOps(tr));
  return box('mp4a', ...audioHead, u32(((tr.sampleRate & 0xffff) * 0x10000) >>> 0), esds(tr));
}

function trak(t: Fmp4Track): Uint8Array {
  const video = t.track.kind === 'video';
  const v = t.track.kind === 'video' ? t.track : undefined;
  const tkhd = fullBox(
    'tkhd',
    0,
    3, // enabled, in movie
    u32(0),
    u32(0),
    u32(t.id),
    u32(0),
    u32(0), // duration
    zeros(8),
    u16(0),
    u16(0),
    u16(video ? 0 : 0x0100),
    u16(0),
    MATRIX,
    u32(v ? v.width * 0x10000 : 0),
    u32(v ? v.height * 0x10000 : 0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(t.timescale), u32(0), u16(0x55c4), u16(0));
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u32(0),
    str(video ? 'vide' : 'soun'),
    zeros(12),
    str(video ? 'VideoHandler\0' : 'SoundHandler\0'),
  );
  const mediaHeader = video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), sampleEntry(t)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0), u32(0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

/** The init segment (EXT-X-MAP): `ftyp` and a `moov` describing every track. */
export function initSegment(tracks: readonly Fmp4Track[]): Uint8Array {
  const ftyp = box('ftyp', str('iso6'), u32(0), str('iso6'), str('cmfc'), str('mp41'), str('dash'));
  const mvhd = fullBox(
    'mvhd',
    0,
    0,
    u32(0),
    u32(0),
    u32(1000),
    u32(0),
    u32(0x00010000),
    u16(0x0100),
    zeros(10),
    MATRIX,
    zeros(24),
    u32(Math.max(...tracks.map((t) => t.id)) + 1),
  );
  const mvex = box(
    'mvex',
    ...tracks.map((t) => fullBox('trex', 0, 0, u32(t.id), u32(1), u32(0), u32(0), u32(0))),
  );
  const moov = box('moov', mvhd, ...tracks.map(trak), mvex);
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp, 0);
  out.set(moov, ftyp.length);
  return out;
}

/** Sample flags: a sync sample, or a non-sync one that depends on others. */
function sampleFlags(key: boolean): number {
  return key ? 0x02000000 : 0x01010000;
}

/**
 * A media segment: `styp`, one `moof` with a `traf` per track (base decode time, each sample's
 * duration, size, flags and composition offset), and one `mdat` holding the tracks' samples in
 * order. `sequence` is the fragment number (1…).
 */
export function mediaSegment(
  sequence: number,
  parts: readonly { track: Fmp4Track; baseDecodeTime: number; samples: readonly Fmp4Sample[] }[],
): Uint8Array {
  const styp = box('styp', str('msdh'), u32(0), str('msdh'), str('msix'));
  const build = (offsets: number[]): Uint8Array =>
    box(
      'moof',
      fullBox('mfhd', 0, 0, u32(sequence)),
      ...parts.map((p, i) => {
        const rows = p.samples.map((s) => [
          u32(s.duration),
          u32(s.data.length),
          u32(sampleFlags(s.key)),
          u32((s.compositionOffset ?? 0) | 0),
        ]);
        return box(
          'traf',
          fullBox('tfhd', 0, 0x020000, u32(p.track.id)), // default-base-is-moof
          fullBox('tfdt', 1, 0, u64(p.baseDecodeTime)),
          // data offset, sample duration, size, flags, composition offset (signed: version 1)
          fullBox('trun', 1, 0x000f01, u32(p.samples.length), u32(offsets[i]!), ...rows.flat()),
        );
      }),
    );
  // The data offsets point from the moof's start into the mdat: build once to learn its size.
  const sizes = parts.map((p) => p.samples.reduce((n, s) => n + s.data.length, 0));
  const moofSize = build(parts.map(() => 0)).length;
  const offsets: number[] = [];
  let o = moofSize + 8;
  for (const n of sizes) {
    offsets.push(o);
    o += n;
  }
  const moof = build(offsets);
  const mdat = box('mdat', ...parts.flatMap((p) => p.samples.map((s) => s.data)));
  const out = new Uint8Array(styp.length + moof.length + mdat.length);
  out.set(styp, 0);
  out.set(moof, styp.length);
  out.set(mdat, styp.length + moof.length);
  return out;
}
