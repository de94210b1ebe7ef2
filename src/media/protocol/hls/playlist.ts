/**
 * HLS media playlists (RFC 8216) for fMP4 segments: `EXT-X-MAP` names the init segment (again
 * wherever it changes, e.g. new tracks after a discontinuity), `EXT-X-DISCONTINUITY` marks a
 * timeline jump, `EXT-X-ENDLIST` closes a finished recording. `parseMediaPlaylist` reads back
 * what `mediaPlaylist` writes (repair of a recording cut short).
 */

/** One segment line of a playlist. */
export interface PlaylistSegment {
  uri: string;
  durationS: number;
  discontinuity?: boolean;
  /** The init segment this segment needs (EXT-X-MAP); default: the playlist's `mapUri`. */
  mapUri?: string;
}

/**
 * Writes a media playlist; `ended` adds EXT-X-ENDLIST (and PLAYLIST-TYPE VOD). `mapUri` is the
 * init segment of segments that do not name their own; an EXT-X-MAP line goes before the first
 * segment and before every segment whose init segment differs from the one before.
 */
export function mediaPlaylist(opts: {
  mapUri?: string;
  segments: readonly PlaylistSegment[];
  ended: boolean;
}): string {
  const target = Math.max(1, ...opts.segments.map((s) => Math.ceil(s.durationS)));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${opts.ended ? 'VOD' : 'EVENT'}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  let map: string | undefined;
  for (const s of opts.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    const uri = s.mapUri ?? opts.mapUri;
    if (uri !== undefined && uri !== map) lines.push(`#EXT-X-MAP:URI="${uri}"`);
    map = uri;
    lines.push(`#EXTINF:${s.durationS.toFixed(3)},`, s.uri);
  }
  if (opts.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** What `parseMediaPlaylist` reads. */
export interface ParsedMediaPlaylist {
  /** Every segment in order, each with the init segment in force for it (`mapUri`). */
  segments: PlaylistSegment[];
  /** The playlist has EXT-X-ENDLIST (the recording was closed). */
  ended: boolean;
}

/** Reads a media playlist (the subset `mediaPlaylist` writes); throws when it is not one. */
export function parseMediaPlaylist(text: string): ParsedMediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist (no #EXTM3U)');
  const segments: PlaylistSegment[] = [];
  let ended = false;
  let map: string | undefined;
  let duration: number | undefined;
  let discontinuity = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith('#EXT-X-MAP:')) {
      const m = /URI="([^"]*)"/.exec(line);
      if (!m) throw new Error(`EXT-X-MAP without URI: ${line}`);
      map = m[1];
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice('#EXTINF:'.length));
      if (!Number.isFinite(duration)) throw new Error(`bad EXTINF: ${line}`);
    } else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (!line.startsWith('#')) {
      if (duration === undefined) throw new Error(`segment without EXTINF: ${line}`);
      const seg: PlaylistSegment = { uri: line, durationS: duration };
      if (discontinuity) seg.discontinuity = true;
      if (map !== undefined) seg.mapUri = map;
      segments.push(seg);
      duration = undefined;
      discontinuity = false;
    }
  }
  return { segments, ended };
}
