/** Calling node-datachannel without letting an exception reach its native threads. */
import type ndc from 'node-datachannel';

/**
 * A JavaScript callback node-datachannel calls from its threads: an exception escaping it
 * becomes a C++ exception there and aborts the process (seen in a 450-viewer join storm), so
 * none may escape.
 */
export function guard<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
  return (...a: A) => {
    try {
      fn(...a);
    } catch (e) {
      console.error(`egress: error in a WebRTC callback: ${(e as Error).message}`);
    }
  };
}

/** Sends on a track; false instead of an exception when the track closed meanwhile. */
export function sendSafely(track: ndc.Track, data: Buffer): boolean {
  try {
    return track.sendMessageBinary(data);
  } catch {
    return false;
  }
}
