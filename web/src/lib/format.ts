/**
 * Number and time formats of the recording, replay and report pages: a position in a video
 * ("12:34", "1:02:03"), a length in words ("1시간 2분" / "1 h 2 min"), a file size, a date with
 * its time, and whole days until a moment.
 */

/** Seconds as a video position: "m:ss", or "h:mm:ss" from an hour on (never negative). */
export function clockPos(sec: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(sec) ? sec : 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A length for people: "1시간 2분", "3분 4초" / "1 h 2 min", "3 min 4 s". */
export function lengthText(sec: number, lang: string): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const ko = lang === 'ko';
  const parts: string[] = [];
  if (h) parts.push(ko ? `${h}시간` : `${h} h`);
  if (m) parts.push(ko ? `${m}분` : `${m} min`);
  if (!h && (r || !m)) parts.push(ko ? `${r}초` : `${r} s`);
  return parts.join(' ');
}

/** Bytes as "0 B", "12 KB", "3.4 MB", "1.2 GB" (powers of 1024, one decimal under 10). */
export function sizeText(bytes: number, lang: string): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const digits = i > 0 && v < 10 ? 1 : 0;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(v)} ${units[i]}`;
}

/** A date with its time in the page's language ("2025. 3. 4. 오후 2:05" / "Mar 4, 2025, 2:05 PM"). */
export function dateTimeText(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A date alone ("2025. 3. 4." / "Mar 4, 2025"). */
export function dateText(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(lang, { dateStyle: 'medium' });
}

/** Whole days from `now` until `iso`, rounded up (0 when due or past; null for a bad date). */
export function daysUntil(iso: string, now: number = Date.now()): number | null {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 86_400_000));
}

/** 0–1 as a whole percent ("75 %"), or "–" for null. */
export function percentText(share: number | null | undefined): string {
  return share === null || share === undefined || !Number.isFinite(share)
    ? '–'
    : `${Math.round(share * 100)} %`;
}
