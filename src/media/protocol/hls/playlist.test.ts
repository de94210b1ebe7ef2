/**
 * Media playlists: what `mediaPlaylist` writes (EXT-X-MAP before the first segment and again
 * where the init segment changes, discontinuities, ENDLIST) and that `parseMediaPlaylist` reads
 * it back to the same segments.
 */
import { describe, expect, it } from 'vitest';
import { mediaPlaylist, parseMediaPlaylist, type PlaylistSegment } from './playlist.ts';

describe('HLS media playlist', () => {
  it('names the shared init segment once, before the first segment (the old signature)', () => {
    const text = mediaPlaylist({
      mapUri: 'init.mp4',
      segments: [
        { uri: 'a.m4s', durationS: 2.002 },
        { uri: 'b.m4s', durationS: 3.5 },
      ],
      ended: false,
    });
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:4',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:EVENT',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="init.mp4"',
        '#EXTINF:2.002,',
        'a.m4s',
        '#EXTINF:3.500,',
        'b.m4s',
        '',
      ].join('\n'),
    );
    expect(parseMediaPlaylist(text)).toEqual({
      segments: [
        { uri: 'a.m4s', durationS: 2.002, mapUri: 'init.mp4' },
        { uri: 'b.m4s', durationS: 3.5, mapUri: 'init.mp4' },
      ],
      ended: false,
    });
  });

  it('repeats EXT-X-MAP where the tracks change and round-trips a closed playlist', () => {
    const segments: PlaylistSegment[] = [
      { uri: 'seg-00001.m4s', durationS: 2, mapUri: 'init-0.mp4' },
      { uri: 'seg-00002.m4s', durationS: 1.25, mapUri: 'init-0.mp4' },
      // The publisher came back with the same tracks: a jump, no new map.
      { uri: 'seg-00003.m4s', durationS: 2, mapUri: 'init-0.mp4', discontinuity: true },
      // … and later with a new resolution: a jump and a new init segment.
      { uri: 'seg-00004.m4s', durationS: 2.4, mapUri: 'init-1.mp4', discontinuity: true },
      { uri: 'seg-00005.m4s', durationS: 0.9, mapUri: 'init-1.mp4' },
    ];
    const text = mediaPlaylist({ segments, ended: true });
    expect(text.match(/#EXT-X-MAP:URI="[^"]+"/g)).toEqual([
      '#EXT-X-MAP:URI="init-0.mp4"',
      '#EXT-X-MAP:URI="init-1.mp4"',
    ]);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    // The new map follows its discontinuity and precedes the segment that needs it.
    expect(text).toContain(
      '#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-1.mp4"\n#EXTINF:2.400,\nseg-00004.m4s',
    );
    expect(parseMediaPlaylist(text)).toEqual({ segments, ended: true });
  });

  it('lets a segment without its own map use the default, and an empty playlist has no map', () => {
    const text = mediaPlaylist({
      mapUri: 'init-0.mp4',
      segments: [
        { uri: '1.m4s', durationS: 2 },
        { uri: '2.m4s', durationS: 2, mapUri: 'init-1.mp4', discontinuity: true },
      ],
      ended: true,
    });
    expect(parseMediaPlaylist(text).segments.map((s) => s.mapUri)).toEqual(['init-0.mp4', 'init-1.mp4']);
    const empty = mediaPlaylist({ mapUri: 'init-0.mp4', segments: [], ended: true });
    expect(empty).not.toContain('EXT-X-MAP');
    expect(parseMediaPlaylist(empty)).toEqual({ segments: [], ended: true });
  });

  it('refuses text that is not a playlist', () => {
    expect(() => parseMediaPlaylist('hello\n')).toThrow(/EXTM3U/);
    expect(() => parseMediaPlaylist('#EXTM3U\nseg.m4s\n')).toThrow(/EXTINF/);
  });
});
