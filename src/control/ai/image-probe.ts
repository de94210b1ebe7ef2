/**
 * What a student's photo really is (issue 10): its type from its magic bytes — PNG, JPEG or
 * WebP, nothing else — and its size in pixels, read from the PNG `IHDR` chunk, the first JPEG
 * start-of-frame marker (`SOF0`–`SOF15` but not DHT/JPG/DAC) or the WebP `VP8 ` / `VP8L` /
 * `VP8X` chunk. Pure: no decoding, no I/O. Anything else, a declared Content-Type that
 * disagrees, or truncated or garbage bytes → AirError `PHOTO_TYPE`, never another error.
 */
import { AirError } from '../../shared/errors.ts';

/** The image types a photo may have. */
export type PhotoMime = 'image/png' | 'image/jpeg' | 'image/webp';

/** What {@link probeImage} found. */
export interface ImageProbe {
  mime: PhotoMime;
  /** File extension without the dot. */
  ext: 'png' | 'jpg' | 'webp';
  width: number;
  height: number;
}

const EXT: Record<PhotoMime, ImageProbe['ext']> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function bad(why: string): AirError {
  return new AirError('PHOTO_TYPE', `Not a usable JPEG, PNG or WebP image: ${why}.`);
}

/** Reads bytes with bounds checks that throw {@link bad} instead of RangeError. */
class Reader {
  private readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  get length(): number {
    return this.b.length;
  }
  need(end: number): void {
    if (end > this.b.length) throw bad('the data ends early');
  }
  u8(at: number): number {
    this.need(at + 1);
    return this.b[at]!;
  }
  be16(at: number): number {
    return (this.u8(at) << 8) | this.u8(at + 1);
  }
  be32(at: number): number {
    return this.be16(at) * 0x10000 + this.be16(at + 2);
  }
  le16(at: number): number {
    return this.u8(at) | (this.u8(at + 1) << 8);
  }
  le24(at: number): number {
    return this.le16(at) | (this.u8(at + 2) << 16);
  }
  le32(at: number): number {
    return this.le16(at) + this.le16(at + 2) * 0x10000;
  }
  ascii(at: number, n: number): string {
    this.need(at + n);
    return String.fromCharCode(...this.b.subarray(at, at + n));
  }
  startsWith(bytes: number[]): boolean {
    return bytes.every((x, i) => this.b[i] === x);
  }
}

/** The type by magic bytes, or undefined. */
export function sniffImage(data: Uint8Array): PhotoMime | undefined {
  const r = new Reader(data);
  if (r.length >= 8 && r.startsWith(PNG_SIGNATURE)) return 'image/png';
  if (r.length >= 3 && r.startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (r.length >= 12 && r.ascii(0, 4) === 'RIFF' && r.ascii(8, 4) === 'WEBP') return 'image/webp';
  return undefined;
}

function pngSize(r: Reader): [number, number] {
  // Signature, then the first chunk must be IHDR: length 13, width, height (big-endian).
  if (r.ascii(12, 4) !== 'IHDR') throw bad('the PNG has no IHDR chunk first');
  return [r.be32(16), r.be32(20)];
}

function jpegSize(r: Reader): [number, number] {
  let at = 2;
  for (;;) {
    if (r.u8(at) !== 0xff) throw bad('the JPEG markers are broken');
    let marker = r.u8(at + 1);
    // Fill bytes: any number of 0xFF before a marker.
    while (marker === 0xff) marker = r.u8(++at + 1);
    at += 2;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda) throw bad('the JPEG has no frame header');
    const len = r.be16(at);
    if (len < 2) throw bad('the JPEG markers are broken');
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    // SOFn: length, precision, height, width.
    if (sof) return [r.be16(at + 5), r.be16(at + 3)];
    at += len;
  }
}

function webpSize(r: Reader): [number, number] {
  const chunk = r.ascii(12, 4);
  const d = 20; // chunk data
  if (chunk === 'VP8 ') {
    // Frame tag (3), start code 9d 01 2a, then 14-bit width and height.
    if (r.u8(d + 3) !== 0x9d || r.u8(d + 4) !== 0x01 || r.u8(d + 5) !== 0x2a) {
      throw bad('the WebP VP8 frame has no start code');
    }
    return [r.le16(d + 6) & 0x3fff, r.le16(d + 8) & 0x3fff];
  }
  if (chunk === 'VP8L') {
    if (r.u8(d) !== 0x2f) throw bad('the WebP VP8L signature is missing');
    const bits = r.le32(d + 1);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  if (chunk === 'VP8X') {
    // Flags (4), then 24-bit canvas width − 1 and height − 1.
    return [r.le24(d + 4) + 1, r.le24(d + 7) + 1];
  }
  throw bad('the WebP has no VP8, VP8L or VP8X chunk');
}

/**
 * The image's type and size; PHOTO_TYPE when it is none of PNG, JPEG, WebP, when its bytes are
 * cut short or broken, or when `declared` (the request's Content-Type) names another type.
 */
export function probeImage(data: Uint8Array, declared?: string): ImageProbe {
  const mime = sniffImage(data);
  if (!mime) throw bad('its first bytes are not those of a JPEG, PNG or WebP');
  if (declared !== undefined) {
    const d = declared.split(';')[0]!.trim().toLowerCase();
    const same = d === mime || (mime === 'image/jpeg' && d === 'image/jpg');
    if (!same) throw new AirError('PHOTO_TYPE', `The photo is ${mime}, not ${d || 'untyped'}.`);
  }
  const r = new Reader(data);
  const [width, height] =
    mime === 'image/png' ? pngSize(r) : mime === 'image/jpeg' ? jpegSize(r) : webpSize(r);
  if (!(width > 0 && height > 0)) throw bad('its size is zero');
  return { mime, ext: EXT[mime], width, height };
}
