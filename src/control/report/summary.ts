/**
 * The written summary of a lesson report, by rules (`provider: "rules"`; the AI issue adds
 * other providers): 3–6 short lines, in Korean and in English, on attendance and watch time,
 * the hardest quiz item and its most chosen wrong option, the engagement low point (when the
 * curve dips ≥ 20 points below its mean), stalls, chat and hands, and the students who may need
 * help. Pure. The Korean lines avoid particles after names and quoted text (받침 varies).
 */
import type { LessonReport } from './types.ts';

/** A dip this many points below the mean engagement is reported with its time. */
export const DIP_POINTS = 20;
/** Below this mean engagement a student may need help. */
export const HELP_ENGAGEMENT = 50;
/** Below this accuracy (over ≥ 1 answer) a student may need help. */
export const HELP_ACCURACY = 0.5;
/** At most this many names are listed. */
const HELP_NAMES = 3;
/** Quoted questions and options are cut to this many characters. */
const QUOTE_MAX = 40;

/** The summary of a report. */
export type LessonSummary = LessonReport['summary'];

const quote = (s: string) => {
  const t = s.replace(/\s+/g, ' ').trim();
  const chars = [...t];
  return `"${
    chars.length > QUOTE_MAX
      ? `${chars
          .slice(0, QUOTE_MAX - 1)
          .join('')
          .trimEnd()}…`
      : t
  }"`;
};
const pct = (x: number) => Math.round(x * 100);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The lines, Korean and English. */
export function lessonSummary(r: Omit<LessonReport, 'summary'>): LessonSummary {
  const ko: string[] = [];
  const en: string[] = [];
  const add = (k: string, e: string) => {
    ko.push(k);
    en.push(e);
  };

  // Attendance and watch time.
  const n = r.attendance.length;
  if (n === 0) add('참석한 학생이 없었습니다.', 'No students attended.');
  else {
    const mean = r.attendance.reduce((s, a) => s + a.minutesWatched, 0) / n;
    const avg = Math.round(mean);
    // Under half a minute is "less than a minute", not "0 minutes".
    add(
      `학생 ${n}명이 참석했고 평균 ${avg >= 1 ? `${avg}분` : '1분 미만'} 시청했습니다.`,
      `${plural(n, 'student')} attended and watched ${avg >= 1 ? `${avg} min` : 'less than a minute'} on average.`,
    );
  }

  // The hardest quiz item and its most chosen wrong option.
  const answered = r.quizzes.filter((q) => q.accuracy !== null);
  if (r.quizzes.length === 0) add('퀴즈는 출제되지 않았습니다.', 'No quizzes were given.');
  else if (answered.length === 0) {
    add(
      `퀴즈 ${r.quizzes.length}개에 답한 학생이 없었습니다.`,
      `Nobody answered the ${plural(r.quizzes.length, 'quiz', 'quizzes')}.`,
    );
  } else {
    const hardest = answered.reduce((a, b) => (b.accuracy! < a.accuracy! ? b : a));
    const acc = pct(hardest.accuracy!);
    const wrong = hardest.options
      .filter((o) => !o.correct && o.count > 0)
      .reduce<(typeof hardest.options)[number] | undefined>(
        (a, b) => (!a || b.count > a.count ? b : a),
        undefined,
      );
    const [koHead, enHead] =
      answered.length === 1
        ? [
            `퀴즈 ${quote(hardest.question)}의 정답률은 ${acc}%`,
            `Quiz ${quote(hardest.question)}: ${acc}% correct`,
          ]
        : [
            `가장 어려운 문항은 ${quote(hardest.question)}(정답률 ${acc}%)`,
            `Hardest question: ${quote(hardest.question)} (${acc}% correct)`,
          ];
    if (wrong) {
      add(
        `${koHead}였고, 가장 많이 고른 오답은 ${quote(wrong.text)}(${wrong.count}명)입니다.`,
        `${enHead}; most chosen wrong answer: ${quote(wrong.text)} (${plural(wrong.count, 'student')}).`,
      );
    } else add(`${koHead}였습니다.`, `${enHead}.`);
  }

  // The engagement low point, or its mean.
  if (r.engagement.length > 0) {
    const mean = r.engagement.reduce((s, e) => s + e.score, 0) / r.engagement.length;
    const low = r.engagement.reduce((a, b) => (b.score < a.score ? b : a));
    const m = Math.round(mean);
    if (mean - low.score >= DIP_POINTS) {
      const min = Math.max(0, Math.round((Date.parse(low.at) - Date.parse(r.lesson.startedAt)) / 60_000));
      add(
        `수업 ${min}분쯤 참여도가 ${low.score}점으로 가장 낮았습니다(평균 ${m}점).`,
        `Engagement dipped to ${low.score} about ${min} min into the lesson (mean ${m}).`,
      );
    } else
      add(`참여도는 평균 ${m}점으로 고르게 유지되었습니다.`, `Engagement held steady at ${m} on average.`);
  }

  // Stalled players.
  if (r.stalls > 0) {
    add(
      `학생 화면에서 재생이 멈춘 10초 구간이 ${r.stalls}번 있었습니다.`,
      `Students' playback stalled in ${plural(r.stalls, '10-s interval')}.`,
    );
  }

  // Chat and hands.
  const c = r.chat.messages;
  if (c === 0 && r.hands === 0) add('채팅과 손들기는 없었습니다.', 'No chat messages or raised hands.');
  else {
    add(
      `채팅 ${c}개, 손들기 ${r.hands}번이 있었습니다.`,
      `${plural(c, 'chat message')} and ${plural(r.hands, 'raised hand')}.`,
    );
  }

  // Students who may need help: the lowest of engagement and accuracy (points) first.
  const needy = r.attendance
    .map((a) => {
      const acc = a.quizAnswered > 0 ? a.quizCorrect / a.quizAnswered : null;
      const lowEng = a.engagement !== null && a.engagement < HELP_ENGAGEMENT;
      const lowAcc = acc !== null && acc < HELP_ACCURACY;
      const worst = Math.min(a.engagement ?? 100, acc === null ? 100 : acc * 100);
      return { name: a.name, need: lowEng || lowAcc, worst };
    })
    .filter((a) => a.need)
    .sort((a, b) => a.worst - b.worst || a.name.localeCompare(b.name, 'ko'));
  if (needy.length > 0) {
    const names = needy.slice(0, HELP_NAMES).map((a) => a.name);
    const more = needy.length - names.length;
    add(
      `도움이 필요할 수 있는 학생(참여도나 정답률이 낮음): ${names.join(', ')}${more > 0 ? ` 외 ${more}명` : ''}`,
      `May need help (low engagement or accuracy): ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}.`,
    );
  }
  return { provider: 'rules', ko, en };
}
