/** Loaders for the RTP captures in this folder (see capture.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;

/** The packets of a capture, as received from ffmpeg. */
export function loadRtp(name: 'baseline' | 'opus'): Uint8Array[] {
  const b = new Uint8Array(readFileSync(join(dir, `${name}.rtp`)));
  const out: Uint8Array[] = [];
  for (let p = 0; p < b.length; ) {
    const len = (b[p]! << 8) | b[p + 1]!;
    out.push(b.subarray(p + 2, p + 2 + len));
    p += 2 + len;
  }
  return out;
}

/** The SDP ffmpeg printed for a capture. */
export function loadSdp(name: 'baseline' | 'opus'): string {
  return readFileSync(join(dir, `${name}.sdp`), 'utf8');
}
