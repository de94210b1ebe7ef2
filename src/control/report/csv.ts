/**
 * CSV exports of the dashboard (`GET /api/lessons/:id/report.csv`, `GET /api/classes/:id/report.csv`):
 * RFC 4180 (fields with a comma, quote or line break quoted, quotes doubled), CRLF line ends,
 * UTF-8 with a byte-order mark so that Excel opens Korean names, English column headers. A text
 * cell starting with `=`, `+`, `-`, `@` (or a tab or CR) is prefixed with `'` so that a
 * spreadsheet never runs a student's name as a formula (CSV injection).
 */
import { nameKey, type ClassStudentRow } from './report-service.ts';
import type { ClassReport, LessonReport } from './types.ts';

/** The MIME type of the exports. */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** Options of the exports. */
export interface CsvOptions {
  /**
   * An IANA time zone (e.g. "Asia/Seoul"): times are written "YYYY-MM-DD HH:mm:ss" and dates
   * "YYYY-MM-DD" in it. Default: times as ISO 8601 (UTC), dates in UTC.
   */
  timeZone?: string;
}

type Cell = string | number | null | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** One field: numbers as they are, text guarded against formulas, quoted when needed. */
export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = FORMULA_START.test(v) ? `'${v}` : v;
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A whole file: BOM, header, rows, each line ended by CRLF. */
export function csvDocument(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const lines = [header, ...rows].map((r) => r.map(csvField).join(','));
  return `\uFEFF${lines.map((l) => `${l}\r\n`).join('')}`;
}

function formatter(timeZone: string | undefined) {
  if (!timeZone) {
    return { time: (iso: string) => iso, date: (iso: string) => iso.slice(0, 10) };
  }
  // sv-SE formats as "2026-03-02 18:00:00".
  const f = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const time = (iso: string) => f.format(new Date(iso));
  return { time, date: (iso: string) => time(iso).slice(0, 10) };
}

/** Accuracy in whole percent, or blank without answers. */
const accuracyPct = (answered: number, correct: number) =>
  answered > 0 ? Math.round((correct / answered) * 100) : null;

/** The lesson CSV: one row per student. */
export function lessonCsv(r: LessonReport, opts: CsvOptions = {}): string {
  const f = formatter(opts.timeZone);
  return csvDocument(
    [
      'Name',
      'Joined',
      'Left',
      'Minutes watched',
      'Engagement',
      'Quizzes answered',
      'Correct',
      'Accuracy %',
      'Chat messages',
      'Hands',
    ],
    r.attendance.map((a) => [
      a.name,
      f.time(a.joinedAt),
      a.leftAt === null ? null : f.time(a.leftAt),
      a.minutesWatched,
      a.engagement,
      a.quizAnswered,
      a.quizCorrect,
      accuracyPct(a.quizAnswered, a.quizCorrect),
      a.chatMessages,
      a.hands,
    ]),
  );
}

/**
 * The class CSV, long format: one row per student (every student who came to any lesson) per
 * lesson, oldest lesson first, `Attended` "yes"/"no" (the figures of a missed lesson are blank),
 * so a pivot table shows attendance and trends. `rows` from `ReportService.classStudentRows`.
 */
export function classCsv(r: ClassReport, rows: readonly ClassStudentRow[], opts: CsvOptions = {}): string {
  const f = formatter(opts.timeZone);
  const byLesson = new Map<string, Map<string, ClassStudentRow>>();
  const students = new Map<string, string>();
  for (const row of rows) {
    let m = byLesson.get(row.lessonId);
    if (!m) byLesson.set(row.lessonId, (m = new Map()));
    m.set(nameKey(row.name), row);
    students.set(nameKey(row.name), row.name);
  }
  const names = [...students].sort((a, b) => a[1].localeCompare(b[1], 'ko'));
  const out: Cell[][] = [];
  for (const l of r.lessons) {
    for (const [k, name] of names) {
      const s = byLesson.get(l.id)?.get(k);
      out.push(
        s
          ? [
              l.number,
              f.date(l.startedAt),
              s.name,
              'yes',
              s.minutesWatched,
              s.engagement,
              s.quizAnswered,
              s.quizCorrect,
              accuracyPct(s.quizAnswered, s.quizCorrect),
              s.chatMessages,
              s.hands,
            ]
          : [l.number, f.date(l.startedAt), name, 'no', null, null, null, null, null, null, null],
      );
    }
  }
  return csvDocument(
    [
      'Lesson',
      'Lesson date',
      'Student',
      'Attended',
      'Minutes watched',
      'Engagement',
      'Quizzes answered',
      'Correct',
      'Accuracy %',
      'Chat messages',
      'Hands',
    ],
    out,
  );
}
