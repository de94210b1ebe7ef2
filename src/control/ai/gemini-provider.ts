/**
 * Gemini as an {@link AiProvider}. Every prompt is built from pseudonymised text (students'
 * names replaced by "학생 n" before anything is sent, mapped back on return); answers are JSON
 * under a response schema and are checked here before use. A call that fails, or an answer that
 * is unusable, throws — the runner then asks the built-in analyzer instead.
 */
import type { QuestionGroup } from './builtin/chat-questions.ts';
import { isQuestion } from './builtin/chat-questions.ts';
import { needHelp } from './builtin/lesson-summary.ts';
import type { AnswerCluster } from './builtin/quiz-analysis.ts';
import { AiUnavailable, type GeminiClient } from './gemini.ts';
import { Pseudonyms } from './pseudonyms.ts';
import type {
  AiProvider,
  ChatLine,
  ClusterInput,
  ImageInput,
  ImageText,
  LessonFacts,
  LessonSummary,
  QuizDraft,
} from './provider.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const arr = (items: object) => ({ type: 'array', items }) as const;
const obj = (properties: Record<string, object>) =>
  ({ type: 'object', properties, required: Object.keys(properties) }) as const;

const clip = (s: unknown, n: number) => String(s ?? '').slice(0, n);
const unusable = (what: string) => new AiUnavailable('BAD_RESPONSE', `Gemini's ${what} was not usable`);

/** The provider over one lesson's Gemini client. */
export class GeminiProvider implements AiProvider {
  readonly name = 'gemini' as const;
  private readonly client: GeminiClient;

  constructor(client: GeminiClient) {
    this.client = client;
  }

  async clusterAnswers(input: ClusterInput): Promise<AnswerCluster[]> {
    if (input.wrong.length === 0) return [];
    const names = new Pseudonyms(input.names);
    const distinct = [...new Set(input.wrong.map((w) => names.hide(w)))];
    const schema = obj({
      clusters: arr(obj({ label: str, answers: arr(int), note_ko: str, note_en: str })),
    });
    const prompt = [
      'You help a teacher after a quiz. Group the wrong student answers below by the misconception behind them.',
      'For each group give a short label, the numbers of its answers, and a one-line re-teach note for the teacher in Korean (note_ko) and English (note_en).',
      `Question: ${names.hide(input.question)}`,
      `Accepted answers: ${input.accepted.join(' | ')}`,
      'Wrong answers:',
      ...distinct.map((w, i) => `${i + 1}. ${w}`),
    ].join('\n');
    const { value } = await this.client.generateJson<{
      clusters?: { label: string; answers: number[]; note_ko: string; note_en: string }[];
    }>(prompt, schema);
    const out: AnswerCluster[] = [];
    for (const c of value.clusters ?? []) {
      const texts = [
        ...new Set((c.answers ?? []).map((n) => distinct[n - 1]).filter((t): t is string => !!t)),
      ];
      if (texts.length === 0) continue;
      out.push({
        kind: 'misconception',
        label: names.reveal(clip(c.label, 200)),
        count: input.wrong.filter((w) => texts.includes(names.hide(w))).length,
        answers: texts.map((t) => names.reveal(t)),
        note: { ko: names.reveal(clip(c.note_ko, 500)), en: names.reveal(clip(c.note_en, 500)) },
      });
    }
    if (out.length === 0) throw unusable('grouping of answers');
    return out.sort((x, y) => y.count - x.count);
  }

  async analyseChat(lines: ChatLine[]): Promise<QuestionGroup[]> {
    const names = new Pseudonyms(lines.map((m) => m.name));
    const qs = lines.filter((m) => isQuestion(m.text)).slice(-300);
    if (qs.length === 0) return [];
    const schema = obj({ groups: arr(obj({ label: str, messages: arr(int) })) });
    const prompt = [
      'Students asked these questions in a lesson chat (Korean or English). Group the questions that ask about the same thing, across languages.',
      'Give each group a short label (in the language most of its questions use) and the numbers of its questions.',
      ...qs.map((m, i) => `${i + 1}. ${names.hide(m.text)}`),
    ].join('\n');
    const { value } = await this.client.generateJson<{ groups?: { label: string; messages: number[] }[] }>(
      prompt,
      schema,
    );
    const groups: QuestionGroup[] = [];
    for (const g of value.groups ?? []) {
      const members = [...new Set(g.messages ?? [])]
        .map((n) => qs[n - 1])
        .filter((m): m is (typeof qs)[number] => !!m);
      if (members.length === 0) continue;
      groups.push({
        label: names.reveal(clip(g.label, 200)),
        count: new Set(members.map((m) => m.name)).size,
        messages: [...new Set(members.map((m) => m.text))],
      });
    }
    if (groups.length === 0) throw unusable('grouping of questions');
    return groups.sort((x, y) => y.count - x.count || y.messages.length - x.messages.length);
  }

  async readImage(image: ImageInput): Promise<ImageText> {
    const { value } = await this.client.generateJson<{ text?: string }>(
      'This is a snapshot of the slide a teacher is showing in a lesson. Write out all the text on it, line by line, as it appears (Korean or English). No commentary.',
      obj({ text: str }),
      { image },
    );
    if (typeof value.text !== 'string') throw unusable('slide text');
    return { text: clip(value.text, 5000).trim(), reader: 'gemini' };
  }

  async describeImage(image: ImageInput): Promise<string | null> {
    const { value } = await this.client.generateJson<{ description?: string }>(
      "A student sent this photo of their work to the teacher during a lesson. In two or three sentences for the teacher, say what the work shows and any mistake you see. Answer in Korean. Do not guess the student's identity.",
      obj({ description: str }),
      { image },
    );
    if (typeof value.description !== 'string' || !value.description.trim()) throw unusable('description');
    return clip(value.description, 2000).trim();
  }

  async summariseLesson(facts: LessonFacts): Promise<LessonSummary> {
    const names = new Pseudonyms(facts.students.map((s) => s.name));
    const help = needHelp(facts);
    const data = {
      slides: facts.slides.slice(0, 60).map((s) => names.hide(s.text).slice(0, 600)),
      quizzes: facts.quizzes.map((q, i) => ({
        n: i + 1,
        question: names.hide(q.question),
        answered: q.answered,
        correctShare: q.difficulty,
        topWrongOption: q.topDistractor?.option ?? null,
        wrongAnswerGroups: q.clusters.map((c) => ({ label: names.hide(c.label), count: c.count })),
      })),
      questions: facts.questions.slice(0, 20).map((g) => ({ label: names.hide(g.label), count: g.count })),
      studentsWhoMayNeedHelp: help.map((h) => ({ student: names.hide(h.name), signs: h.reasons })),
    };
    const schema = obj({
      covered: arr(str),
      hard: arr(obj({ n: int, why_ko: str, why_en: str })),
      text_ko: str,
      text_en: str,
    });
    const prompt = [
      "Summarise this lesson for its teacher. From the slides' text, list the topics covered (short lines, in the slides' language).",
      "For each quiz that was hard (correctShare below 0.6), give its number n and why it was hard, from the students' answers, in Korean (why_ko) and English (why_en).",
      'Then write three or four sentences for the teacher in Korean (text_ko) and English (text_en): what was covered, what was hard, the open questions, who may need help (by their pseudonym).',
      JSON.stringify(data),
    ].join('\n');
    const { value } = await this.client.generateJson<{
      covered?: string[];
      hard?: { n: number; why_ko: string; why_en: string }[];
      text_ko?: string;
      text_en?: string;
    }>(prompt, schema);
    if (typeof value.text_ko !== 'string' || typeof value.text_en !== 'string') throw unusable('summary');
    const hardItems: LessonSummary['hardItems'] = [];
    for (const h of value.hard ?? []) {
      const q = facts.quizzes[h.n - 1];
      if (!q || q.difficulty === null || hardItems.some((x) => x.quizId === q.quizId)) continue;
      hardItems.push({
        quizId: q.quizId,
        question: q.question,
        difficulty: q.difficulty,
        why: { ko: names.reveal(clip(h.why_ko, 500)), en: names.reveal(clip(h.why_en, 500)) },
      });
    }
    return {
      covered: (value.covered ?? []).slice(0, 12).map((c) => names.reveal(clip(c, 120))),
      hardItems: hardItems.sort((a, b) => a.difficulty - b.difficulty),
      openQuestions: facts.questions.slice(0, 5).map((g) => ({ label: g.label, count: g.count })),
      needHelp: help,
      text: { ko: names.reveal(clip(value.text_ko, 2000)), en: names.reveal(clip(value.text_en, 2000)) },
    };
  }

  async draftQuiz(slideText: string): Promise<QuizDraft | null> {
    if (!slideText.trim()) return null;
    const schema = obj({
      question: str,
      options: arr(str),
      correct: int,
      note_ko: str,
      note_en: str,
    });
    const { value } = await this.client.generateJson<{
      question?: string;
      options?: string[];
      correct?: number;
      note_ko?: string;
      note_en?: string;
    }>(
      [
        "Draft one multiple-choice question (one correct option, 4 options) that checks the main point of this slide, in the slide's language. The teacher will edit it.",
        'Give the question, the options, the index (from 0) of the correct option, and a one-line note for the teacher on what it checks in Korean (note_ko) and English (note_en).',
        'Slide text:',
        slideText.slice(0, 4000),
      ].join('\n'),
      schema,
    );
    const options = (value.options ?? [])
      .map((o) => clip(o, 200).trim())
      .filter(Boolean)
      .slice(0, 10);
    const correct = Number(value.correct);
    if (!value.question?.trim() || options.length < 2 || !Number.isInteger(correct) || !options[correct])
      throw unusable('quiz draft');
    return {
      kind: 'single',
      question: clip(value.question, 500).trim(),
      options,
      correct: [correct],
      timeLimitSec: 60,
      note: { ko: clip(value.note_ko, 300), en: clip(value.note_en, 300) },
    };
  }
}
