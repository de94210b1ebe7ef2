/**
 * HLS media playlists (RFC 8216) for fMP4 segments: `EXT-X-MAP` names the init segment,
 * `EXT-X-DISCONTINUITY` marks a timeline jump, `EXT-X-ENDLIST` closes a finished recording.
 */

/** One segment line of a playlist. */
export interface PlaylistSegment {
  uri: string;
  durationS: number;
  discontinuity?: boolean;
}

/** Writes a media playlist; `ended` adds EXT-X-ENDLIST (and PLAYLIST-TYPE VOD). */
export function mediaPlaylist(opts: {
  mapUri: string;
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
    `#EXT-X-MAP:URI="${opts.mapUri}"`,
  ];
  for (const s of opts.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${s.durationS.toFixed(3)},`, s.uri);
  }
  if (opts.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
