/**
 * The built-in lesson summary (issue 10, "after the lesson"): what was covered (the slides'
 * headings), which items were hard and why (the most chosen wrong option, or the largest
 * misconception cluster), the questions students asked, and who may need help — by rules the
 * teacher can check, in Korean and English. Pure.
 */
import type { HelpFlag, LessonFacts, LessonSummary } from '../provider.ts';
import { features, normalize, similarity } from './text.ts';

/** An item answered correctly by fewer than this share counts as hard. */
export const HARD_BELOW = 0.6;
/** A student below this share of correct answers (with at least 2 answers) may need help. */
export const LOW_ACCURACY = 0.5;
/** A student whose mean engagement score is below this may need help. */
export const LOW_ENGAGEMENT = 40;
/** Slide headings at least this alike are one topic. */
const SAME_TOPIC = 0.6;

const pct = (x: number) => `${Math.round(x * 100)}%`;
const clip = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The heading of a slide: its first line with some letters in it. */
export function slideHeading(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (/\p{L}{2,}/u.test(l)) return clip(l);
  }
  return undefined;
}

/** The distinct headings of the slides, in order, alike ones once. */
export function coveredTopics(slides: LessonFacts['slides'], max = 8): string[] {
  const out: { text: string; f: ReturnType<typeof features> }[] = [];
  for (const s of slides) {
    const h = slideHeading(s.text);
    if (!h || !normalize(h)) continue;
    const f = features(h);
    if (out.some((o) => similarity(o.f, f) >= SAME_TOPIC)) continue;
    out.push({ text: h, f });
    if (out.length >= max) break;
  }
  return out.map((o) => o.text);
}

/**
 * Why an item was hard, from what students answered. The card shows the item's correct share
 * next to it, so the reason leaves it out; a cluster's re-teach note already names its answer
 * and count, so it stands alone.
 */
function whyHard(q: LessonFacts['quizzes'][number]): { ko: string; en: string } {
  if (q.topDistractor && q.topDistractor.count > 0) {
    const o = clip(q.topDistractor.option, 40);
    return {
      ko: `${q.topDistractor.count}명이 오답 "${o}"을(를) 골랐습니다.`,
      en: `${q.topDistractor.count} chose the wrong option "${o}".`,
    };
  }
  const c = q.clusters.find((x) => x.kind === 'misconception') ?? q.clusters[0];
  if (c) {
    const label = clip(c.label, 40);
    const said = {
      ko: `${c.count}명이 "${label}" 같은 답을 했습니다.`,
      en: `${c.count} answered like "${label}".`,
    };
    return {
      ko: c.note.ko.includes(c.label) ? c.note.ko : `${said.ko} ${c.note.ko}`,
      en: c.note.en.includes(c.label) ? c.note.en : `${said.en} ${c.note.en}`,
    };
  }
  const d = pct(q.difficulty ?? 0);
  return { ko: `정답률 ${d}.`, en: `${d} correct.` };
}

/** Students who may need help, most reasons first. */
export function needHelp(facts: LessonFacts): HelpFlag[] {
  const out: HelpFlag[] = [];
  for (const s of facts.students) {
    const reasons: HelpFlag['reasons'] = [];
    const ko: string[] = [];
    const en: string[] = [];
    if (s.quizAnswered >= 2 && s.quizCorrect / s.quizAnswered < LOW_ACCURACY) {
      reasons.push('low-accuracy');
      ko.push(`퀴즈 ${s.quizAnswered}개 중 ${s.quizCorrect}개 정답`);
      en.push(`${s.quizCorrect} of ${s.quizAnswered} quiz answers right`);
    }
    if (facts.quizRuns >= 2 && s.quizAnswered === 0 && s.minutesWatched > 0) {
      reasons.push('no-answers');
      ko.push('퀴즈에 답하지 않음');
      en.push('answered no quiz');
    }
    if (s.engagement !== null && s.engagement < LOW_ENGAGEMENT) {
      reasons.push('low-engagement');
      ko.push(`참여도 ${Math.round(s.engagement)}점`);
      en.push(`engagement ${Math.round(s.engagement)}`);
    }
    if (s.questionsAsked >= 2) {
      reasons.push('asked');
      ko.push(`질문 ${s.questionsAsked}개`);
      en.push(`asked ${s.questionsAsked} questions`);
    }
    // A question alone is no worry; it counts with another sign.
    if (reasons.length === 0 || (reasons.length === 1 && reasons[0] === 'asked')) continue;
    out.push({ name: s.name, reasons, note: { ko: ko.join(', '), en: en.join(', ') } });
  }
  return out.sort((a, b) => b.reasons.length - a.reasons.length || a.name.localeCompare(b.name));
}

/** The summary by rules. */
export function summariseLesson(facts: LessonFacts): LessonSummary {
  const covered = coveredTopics(facts.slides);
  const hardItems = facts.quizzes
    .filter((q) => q.answered > 0 && q.difficulty !== null && q.difficulty < HARD_BELOW)
    .sort((a, b) => (a.difficulty ?? 0) - (b.difficulty ?? 0))
    .map((q) => ({ quizId: q.quizId, question: q.question, difficulty: q.difficulty!, why: whyHard(q) }));
  const openQuestions = facts.questions.slice(0, 5).map((g) => ({ label: g.label, count: g.count }));
  const help = needHelp(facts);

  const ko: string[] = [];
  const en: string[] = [];
  if (covered.length > 0) {
    ko.push(`다룬 내용: ${covered.slice(0, 3).join(', ')}${covered.length > 3 ? ' 등' : ''}.`);
    en.push(`Covered: ${covered.slice(0, 3).join(', ')}${covered.length > 3 ? ', and more' : ''}.`);
  }
  if (facts.quizzes.length > 0) {
    ko.push(
      hardItems.length > 0
        ? `퀴즈 ${facts.quizzes.length}개 중 ${hardItems.length}개가 어려웠습니다(가장 어려운 문항: "${clip(hardItems[0]!.question, 40)}", 정답률 ${pct(hardItems[0]!.difficulty)}).`
        : `퀴즈 ${facts.quizzes.length}개 모두 대부분 맞혔습니다.`,
    );
    en.push(
      hardItems.length > 0
        ? `${hardItems.length} of ${facts.quizzes.length} quizzes were hard (hardest: "${clip(hardItems[0]!.question, 40)}", ${pct(hardItems[0]!.difficulty)} correct).`
        : `Most students got all ${facts.quizzes.length} quizzes right.`,
    );
  }
  if (openQuestions.length > 0) {
    const top = openQuestions[0]!;
    ko.push(
      `학생 질문 ${facts.questions.length}묶음; 가장 많은 질문: "${clip(top.label, 40)}" (${top.count}명).`,
    );
    en.push(
      `${facts.questions.length} groups of student questions; the most asked: "${clip(top.label, 40)}" (${top.count}).`,
    );
  }
  if (help.length > 0) {
    ko.push(`도움이 필요할 수 있는 학생 ${help.length}명.`);
    en.push(`${help.length} student${help.length === 1 ? '' : 's'} may need help.`);
  }
  if (ko.length === 0) {
    ko.push('이 수업에는 요약할 자료(슬라이드, 퀴즈, 질문)가 아직 없습니다.');
    en.push('This lesson has nothing to summarise yet (no slides, quizzes or questions).');
  }
  return { covered, hardItems, openQuestions, needHelp: help, text: { ko: ko.join(' '), en: en.join(' ') } };
}
