/**
 * The teacher's analyses (issue 10), from the database, by the built-in analyzer (no network):
 * a quiz's last run — difficulty, discrimination, distractors, misconception clusters of short
 * answers with a re-teach note — and a lesson's chat questions grouped by what they ask. Every
 * answer names the provider that produced it (`builtin` until Gemini is switched on for a class).
 */
import { sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { canManageClass, type Principal } from '../auth/policy.ts';
import type { DrizzleQuizRepo } from '../store/quiz-repo.ts';
import type { Db } from '../store/sql.ts';
import type { ClassRepo, LessonRepo } from '../store/types.ts';
import type { Logger } from '../../shared/logger.ts';
import { groupQuestions, isQuestion, type QuestionGroup } from './builtin/chat-questions.ts';
import { analyseItem, type AnswerCluster, type ItemInput } from './builtin/quiz-analysis.ts';
import { AiUnavailable, type GeminiClient } from './gemini.ts';
import { Pseudonyms } from './pseudonyms.ts';

/** Which analyzer answered. */
export type Provider = 'builtin' | 'gemini';

/** `GET /api/quizzes/:id/analysis`. */
export interface QuizAnalysisView {
  provider: Provider;
  quizId: string;
  /** The run analysed (the quiz's last); null when it was never pushed. */
  runId: string | null;
  answered: number;
  difficulty: number | null;
  discrimination: number | null;
  distractors: { option: string; count: number; correct: boolean }[];
  clusters: AnswerCluster[];
}

/** `GET /api/lessons/:id/questions`. */
export interface QuestionsView {
  provider: Provider;
  lessonId: string;
  groups: QuestionGroup[];
}

/** What the service needs. */
export interface AnalysisServiceDeps {
  db: Db;
  quizzes: Pick<DrizzleQuizRepo, 'byId' | 'lastRuns' | 'answers'>;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId'>;
  /** The lesson's Gemini client when the class turned Gemini on and a key is set. */
  gemini?: (classId: string, lessonId: string) => Promise<GeminiClient | undefined>;
  logger?: Logger;
}

type Rows = { rows: Record<string, unknown>[] };

/** Analyses for the class's teacher and admins. */
export class AnalysisService {
  private readonly deps: AnalysisServiceDeps;

  constructor(deps: AnalysisServiceDeps) {
    this.deps = deps;
  }

  private async managed(p: Principal, classId: string): Promise<void> {
    const cls = await this.deps.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
  }

  /** The quiz's last run analysed. */
  async quiz(p: Principal, quizId: string): Promise<QuizAnalysisView> {
    const quiz = await this.deps.quizzes.byId(quizId);
    if (!quiz) throw new AirError('QUIZ_NOT_FOUND');
    await this.managed(p, quiz.classId);
    const run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    const answers = run ? await this.deps.quizzes.answers(run.id) : [];
    const item: ItemInput = {
      kind: quiz.kind,
      question: quiz.question,
      options: (quiz.options as string[] | null) ?? [],
      correct: (quiz.correct as number[] | string[] | null) ?? [],
      answers: answers.map((a) => ({
        participantId: a.participantId,
        ...(Array.isArray(a.choices) ? { choices: a.choices as number[] } : {}),
        ...(a.text !== null && a.text !== undefined ? { text: a.text } : {}),
        correct: a.correct,
      })),
    };
    // Discrimination ranks students by how they did on the lesson's other quizzes.
    const totals = new Map<string, number>();
    if (run) {
      const r = (await this.deps.db.execute(sql`
        SELECT a.participant_id, count(*) FILTER (WHERE a.correct) AS right
          FROM quiz_answers a JOIN quiz_runs r ON r.id = a.run_id
         WHERE r.lesson_id = ${run.lessonId}
         GROUP BY a.participant_id`)) as unknown as Rows;
      for (const row of r.rows) totals.set(String(row.participant_id), Number(row.right));
    }
    const a = analyseItem(item, totals);
    let provider: Provider = 'builtin';
    let clusters = a.clusters;
    const wrong = answers.filter((x) => !x.correct && x.text);
    const gemini =
      run && quiz.kind === 'short' && wrong.length > 0
        ? await this.geminiOf(quiz.classId, run.lessonId)
        : undefined;
    if (gemini) {
      const names = new Pseudonyms(answers.map((x) => x.name));
      const got = await this.geminiClusters(
        gemini,
        names,
        quiz.question,
        item.correct as string[],
        wrong.map((x) => x.text!),
      );
      if (got) {
        provider = 'gemini';
        clusters = got;
      }
    }
    return {
      provider,
      quizId: quiz.id,
      runId: run?.id ?? null,
      answered: answers.length,
      difficulty: a.difficulty,
      discrimination: a.discrimination,
      distractors: a.distractors,
      clusters,
    };
  }

  private async geminiOf(classId: string, lessonId: string): Promise<GeminiClient | undefined> {
    try {
      return await this.deps.gemini?.(classId, lessonId);
    } catch (e) {
      this.deps.logger?.warn(
        { err: (e as Error).message },
        'Gemini not available; the built-in analyzer answers',
      );
      return undefined;
    }
  }

  /** Gemini's misconception clusters of wrong short answers (names hidden), or undefined. */
  private async geminiClusters(
    gemini: GeminiClient,
    names: Pseudonyms,
    question: string,
    accepted: string[],
    wrong: string[],
  ): Promise<AnswerCluster[] | undefined> {
    const distinct = [...new Set(wrong.map((w) => names.hide(w)))];
    const schema = {
      type: 'object',
      properties: {
        clusters: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              answers: { type: 'array', items: { type: 'integer' } },
              note_ko: { type: 'string' },
              note_en: { type: 'string' },
            },
            required: ['label', 'answers', 'note_ko', 'note_en'],
          },
        },
      },
      required: ['clusters'],
    };
    const prompt = [
      'You help a teacher after a quiz. Group the wrong student answers below by the misconception behind them.',
      'For each group give a short label, the numbers of its answers, and a one-line re-teach note for the teacher in Korean (note_ko) and English (note_en).',
      `Question: ${names.hide(question)}`,
      `Accepted answers: ${accepted.join(' | ')}`,
      'Wrong answers:',
      ...distinct.map((w, i) => `${i + 1}. ${w}`),
    ].join('\n');
    try {
      const { value } = await gemini.generateJson<{
        clusters: { label: string; answers: number[]; note_ko: string; note_en: string }[];
      }>(prompt, schema);
      const out: AnswerCluster[] = [];
      for (const c of value.clusters ?? []) {
        const texts = [
          ...new Set((c.answers ?? []).map((n) => distinct[n - 1]).filter((t): t is string => !!t)),
        ];
        if (texts.length === 0) continue;
        const shown = texts.map((t) => names.reveal(t));
        out.push({
          kind: 'misconception',
          label: names.reveal(String(c.label)).slice(0, 200),
          count: wrong.filter((w) => texts.includes(names.hide(w))).length,
          answers: shown,
          note: {
            ko: names.reveal(String(c.note_ko)).slice(0, 500),
            en: names.reveal(String(c.note_en)).slice(0, 500),
          },
        });
      }
      if (out.length === 0) return undefined;
      return out.sort((x, y) => y.count - x.count);
    } catch (e) {
      if (!(e instanceof AiUnavailable))
        this.deps.logger?.warn({ err: (e as Error).message }, 'Gemini answer not used');
      return undefined;
    }
  }

  /** What the lesson's students asked in chat, grouped. */
  async questions(p: Principal, lessonId: string): Promise<QuestionsView> {
    const lesson = await this.deps.lessons.byId(lessonId);
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    await this.managed(p, lesson.classId);
    const r = (await this.deps.db.execute(sql`
      SELECT id, sender_name, text, created_at FROM chat_messages
       WHERE lesson_id = ${lesson.id} AND deleted_at IS NULL AND sender_role = 'student'
       ORDER BY seq LIMIT 5000`)) as unknown as Rows;
    const msgs = r.rows.map((m) => ({
      id: String(m.id),
      name: String(m.sender_name),
      text: String(m.text),
      at: new Date(String(m.created_at)).toISOString(),
    }));
    const gemini = msgs.length > 0 ? await this.geminiOf(lesson.classId, lesson.id) : undefined;
    if (gemini) {
      const groups = await this.geminiQuestions(gemini, msgs);
      if (groups) return { provider: 'gemini', lessonId: lesson.id, groups };
    }
    return { provider: 'builtin', lessonId: lesson.id, groups: groupQuestions(msgs) };
  }

  /** Gemini's grouping of the lesson's questions (names hidden), or undefined. */
  private async geminiQuestions(
    gemini: GeminiClient,
    msgs: { name: string; text: string }[],
  ): Promise<QuestionGroup[] | undefined> {
    const names = new Pseudonyms(msgs.map((m) => m.name));
    const qs = msgs.filter((m) => isQuestion(m.text)).slice(-300);
    if (qs.length === 0) return [];
    const schema = {
      type: 'object',
      properties: {
        groups: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              messages: { type: 'array', items: { type: 'integer' } },
            },
            required: ['label', 'messages'],
          },
        },
      },
      required: ['groups'],
    };
    const prompt = [
      'Students asked these questions in a lesson chat (Korean or English). Group the questions that ask about the same thing, across languages.',
      'Give each group a short label (in the language most of its questions use) and the numbers of its questions.',
      ...qs.map((m, i) => `${i + 1}. ${names.hide(m.text)}`),
    ].join('\n');
    try {
      const { value } = await gemini.generateJson<{ groups: { label: string; messages: number[] }[] }>(
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
          label: names.reveal(String(g.label)).slice(0, 200),
          count: new Set(members.map((m) => m.name)).size,
          messages: [...new Set(members.map((m) => m.text))],
        });
      }
      return groups.sort((x, y) => y.count - x.count || y.messages.length - x.messages.length);
    } catch (e) {
      if (!(e instanceof AiUnavailable))
        this.deps.logger?.warn({ err: (e as Error).message }, 'Gemini answer not used');
      return undefined;
    }
  }
}
