/**
 * The time code drawn into each frame: the publish time in ms (modulo 2^24, ≈ 4.7 h) as a row
 * of big black/white blocks in the luma plane, most significant bit first, and below it the
 * same row inverted, so a frame is read back only when both rows agree (a misread block or a
 * half-decoded picture is rejected instead of giving a wrong figure).
 *
 *   y = B … 2B    bit 23 … bit 0        (white = 1)
 *   y = 2B … 3B   the same, inverted
 *
 * with blocks B px wide starting at x = B. The reading side lives in the browser page
 * (bench/g2g/page.ts); both take their geometry from {@link stampLayout}.
 */

export const STAMP_BITS = 24;
export const STAMP_MOD = 2 ** STAMP_BITS;
const WHITE = 235;
const BLACK = 16;

/** Where the blocks are, for a picture `width` px wide. */
export interface StampLayout {
  bits: number;
  /** Block size, px. */
  block: number;
}

export function stampLayout(width: number): StampLayout {
  return { bits: STAMP_BITS, block: Math.min(32, Math.floor(width / (STAMP_BITS + 2))) };
}

/** Draws `stamp` (already reduced modulo 2^24) into the luma plane of a yuv420p frame. */
export function drawStamp(frame: Buffer, width: number, stamp: number): void {
  const { bits, block } = stampLayout(width);
  for (let b = 0; b < bits; b++) {
    const one = ((stamp >>> (bits - 1 - b)) & 1) === 1;
    const x0 = block + b * block;
    for (let row = 0; row < 2; row++) {
      const v = one !== (row === 1) ? WHITE : BLACK;
      const y0 = block * (row + 1);
      for (let y = y0; y < y0 + block; y++) frame.fill(v, y * width + x0, y * width + x0 + block);
    }
  }
}

/**
 * Reads a stamp back from two lines of luma (or any channel) values, one through the middle of
 * each row of blocks; undefined when the rows disagree. `px(line, x)` gives a value 0–255.
 */
export function readStamp(px: (line: 0 | 1, x: number) => number, layout: StampLayout): number | undefined {
  let stamp = 0;
  for (let b = 0; b < layout.bits; b++) {
    const x = Math.floor(layout.block * (b + 1.5));
    const one = px(0, x) > 128;
    if (one === px(1, x) > 128) return undefined;
    stamp = stamp * 2 + (one ? 1 : 0);
  }
  return stamp;
}
