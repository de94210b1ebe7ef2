/**
 * QR codes of join links (the `qrcode` package), as PNG for slides and as SVG for the
 * projector page. Error correction M survives a projector's glare and a phone at an angle.
 */
import QRCode from 'qrcode';

/** Smallest and largest PNG edge, px. */
export const QR_MIN_SIZE = 128;
export const QR_MAX_SIZE = 2048;
/** Default PNG edge, px. */
export const QR_DEFAULT_SIZE = 512;

/** A PNG of `text`, exactly `size` × `size` pixels, with a 2-module quiet zone. */
export function qrPng(text: string, size: number = QR_DEFAULT_SIZE): Promise<Buffer> {
  const edge = Math.min(QR_MAX_SIZE, Math.max(QR_MIN_SIZE, Math.round(size)));
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: edge });
}

/** An SVG document of `text` that scales to any size (viewBox in modules). */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
