import { describe, expect, it } from 'vitest';
import { classCsv, csvField, lessonCsv } from './csv.ts';
import type { ClassStudentRow } from './report-service.ts';
import type { AttendanceRow, ClassReport, LessonReport } from './types.ts';

/** An RFC 4180 reader (what a spreadsheet does), to read the exports back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  expect(field).toBe(''); // the last line ends with CRLF too
  expect(row).toEqual([]);
  return rows;
}

const row = (name: string, over: Partial<AttendanceRow> = {}): AttendanceRow => ({
  participantId: name,
  name,
  joinedAt: '2026-03-16T09:00:00.000Z',
  leftAt: '2026-03-16T09:50:00.000Z',
  minutesWatched: 42.5,
  engagement: 77,
  quizAnswered: 3,
  quizCorrect: 2,
  chatMessages: 4,
  hands: 1,
  removed: false,
  ...over,
});

const lessonReport = (attendance: AttendanceRow[]) =>
  ({ attendance }) as Partial<LessonReport> as LessonReport;

describe('lesson CSV', () => {
  const csv = lessonCsv(
    lessonReport([
      row('김민수'),
      row('Kim, "Min" su', { leftAt: null, engagement: null, quizAnswered: 0, quizCorrect: 0 }),
      row('=HYPERLINK("http://evil.example","x")'),
      row('+82 10'),
      row('-1'),
      row('@SUM(A1)'),
      row('두 줄\n이름'),
    ]),
  );

  it('starts with a BOM, ends lines with CRLF and keeps Korean intact', () => {
    expect(csv.startsWith('\uFEFFName,Joined,Left,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    // The only bare LF is the one inside the quoted two-line name.
    expect(csv.replace(/\r\n/g, '').split('\n')).toHaveLength(2);
    expect(Buffer.from(csv, 'utf8').subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(Buffer.from(csv, 'utf8').toString('utf8')).toContain('\r\n김민수,2026-03-16T09:00:00.000Z,');
  });

  it('reads back as the rows it was made from, quoted and guarded against formulas', () => {
    const rows = parseCsv(csv.slice(1));
    expect(rows[0]).toEqual([
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
    ]);
    const full = [
      '2026-03-16T09:00:00.000Z',
      '2026-03-16T09:50:00.000Z',
      '42.5',
      '77',
      '3',
      '2',
      '67',
      '4',
      '1',
    ];
    expect(rows.slice(1)).toEqual([
      ['김민수', ...full],
      ['Kim, "Min" su', '2026-03-16T09:00:00.000Z', '', '42.5', '', '0', '0', '', '4', '1'],
      [`'=HYPERLINK("http://evil.example","x")`, ...full],
      [`'+82 10`, ...full],
      [`'-1`, ...full],
      [`'@SUM(A1)`, ...full],
      ['두 줄\n이름', ...full],
    ]);
    expect(csv).toContain('\r\n"Kim, ""Min"" su",');
    expect(csv).toContain('\r\n"\'=HYPERLINK(""http://evil.example"",""x"")",');
  });

  it('writes times in a time zone when asked', () => {
    const rows = parseCsv(lessonCsv(lessonReport([row('가영')]), { timeZone: 'Asia/Seoul' }).slice(1));
    expect(rows[1]!.slice(0, 3)).toEqual(['가영', '2026-03-16 18:00:00', '2026-03-16 18:50:00']);
  });

  it('leaves numbers (negative ones too) alone and guards text only', () => {
    expect([csvField(-3), csvField(0.5), csvField(null), csvField('\tx'), csvField('a\rb')]).toEqual([
      '-3',
      '0.5',
      '',
      "'\tx",
      '"a\rb"',
    ]);
  });
});

describe('class CSV', () => {
  const report: ClassReport = {
    class: { id: 'c', title: '수학' },
    lessons: [
      {
        id: 'l1',
        number: 1,
        startedAt: '2026-03-02T23:30:00.000Z',
        endedAt: null,
        attendance: 2,
        accuracy: 1,
        engagement: 80,
      },
      {
        id: 'l2',
        number: 2,
        startedAt: '2026-03-09T09:00:00.000Z',
        endedAt: null,
        attendance: 1,
        accuracy: 0,
        engagement: 50,
      },
    ],
    slipping: [],
  };
  const student = (lessonId: string, lessonNumber: number, name: string): ClassStudentRow => ({
    lessonId,
    lessonNumber,
    name,
    minutesWatched: 30,
    engagement: 80,
    quizAnswered: 2,
    quizCorrect: 1,
    chatMessages: 3,
    hands: 0,
  });

  it('has a row per student per lesson, missed lessons blank', () => {
    const csv = classCsv(report, [
      student('l1', 1, '이지은'),
      student('l1', 1, '김민수'),
      student('l2', 2, '이지은'),
    ]);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(parseCsv(csv.slice(1))).toEqual([
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
      ['1', '2026-03-02', '김민수', 'yes', '30', '80', '2', '1', '50', '3', '0'],
      ['1', '2026-03-02', '이지은', 'yes', '30', '80', '2', '1', '50', '3', '0'],
      ['2', '2026-03-09', '김민수', 'no', '', '', '', '', '', '', ''],
      ['2', '2026-03-09', '이지은', 'yes', '30', '80', '2', '1', '50', '3', '0'],
    ]);
    // In Seoul the first lesson was on 3 March.
    const seoul = parseCsv(
      classCsv(report, [student('l1', 1, '김민수')], { timeZone: 'Asia/Seoul' }).slice(1),
    );
    expect(seoul[1]!.slice(0, 2)).toEqual(['1', '2026-03-03']);
  });
});
