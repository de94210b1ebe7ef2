import type { VideoTrack } from '../../stream/types.ts';
import { parseSps } from './sps.ts';

/**
 * The stream model's video track of an H.264 SPS and PPS (RTMP's sequence header, RTSP's
 * sprop-parameter-sets, WHIP's in-band parameter sets). Throws on an SPS it cannot read.
 */
export function h264Track(sps: Uint8Array, pps: Uint8Array): VideoTrack {
  const info = parseSps(sps);
  return {
    kind: 'video',
    codec: 'h264',
    sps,
    pps,
    width: info.width,
    height: info.height,
    profile: info.profile,
    constraints: info.constraints,
    level: info.level,
    clockRate: 90000,
  };
}
