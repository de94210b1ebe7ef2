import { AirError } from '../../../shared/errors.ts';

/**
 * Removes H.264 emulation-prevention bytes: every `00 00 03` becomes `00 00` (ITU-T H.264 §7.4.1).
 * Returns the input itself when there is nothing to remove.
 */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let zeros = 0;
  let found = -1;
  for (let i = 0; i < nal.length; i++) {
    const c = nal[i]!;
    if (zeros >= 2 && c === 3) {
      found = i;
      break;
    }
    zeros = c === 0 ? zeros + 1 : 0;
  }
  if (found < 0) return nal;
  const out = new Uint8Array(nal.length);
  out.set(nal.subarray(0, found));
  let n = found;
  zeros = 0;
  for (let i = found + 1; i < nal.length; i++) {
    const c = nal[i]!;
    if (zeros >= 2 && c === 3) {
      zeros = 0;
      continue;
    }
    zeros = c === 0 ? zeros + 1 : 0;
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * Big-endian bit reader over an RBSP (emulation prevention already removed), with the
 * exp-Golomb codes of H.264 §9.1. Reading past the end throws `AirError('BAD_MEDIA')`.
 */
export class BitReader {
  readonly #data: Uint8Array;
  #pos = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  /** Bit position from the start. */
  get position(): number {
    return this.#pos;
  }

  /** Bits left to read. */
  get remaining(): number {
    return this.#data.length * 8 - this.#pos;
  }

  /** Reads one bit. */
  bit(): number {
    if (this.#pos >= this.#data.length * 8) throw new AirError('BAD_MEDIA', 'H.264: bitstream truncated');
    const byte = this.#data[this.#pos >> 3]!;
    const b = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return b;
  }

  /** Reads one bit as a boolean. */
  flag(): boolean {
    return this.bit() === 1;
  }

  /** Reads `n` (0–32) bits as an unsigned number. */
  bits(n: number): number {
    if (n > this.remaining) throw new AirError('BAD_MEDIA', 'H.264: bitstream truncated');
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  /** Skips `n` bits. */
  skip(n: number): void {
    if (n > this.remaining) throw new AirError('BAD_MEDIA', 'H.264: bitstream truncated');
    this.#pos += n;
  }

  /** Unsigned exp-Golomb, ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) throw new AirError('BAD_MEDIA', 'H.264: exp-Golomb code too long');
    }
    return 2 ** zeros - 1 + this.bits(zeros);
  }

  /** Signed exp-Golomb, se(v). */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
