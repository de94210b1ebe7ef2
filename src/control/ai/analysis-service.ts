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
import { groupQuestions, type QuestionGroup } from './builtin/chat-questions.ts';
import { analyseItem, type AnswerCluster, type ItemInput } from './builtin/quiz-analysis.ts';

/** `GET /api/quizzes/:id/analysis`. */
export interface QuizAnalysisView {
  provider: 'builtin';
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
  provider: 'builtin';
  lessonId: string;
  groups: QuestionGroup[];
}

/** What the service needs. */
export interface AnalysisServiceDeps {
  db: Db;
  quizzes: Pick<DrizzleQuizRepo, 'byId' | 'lastRuns' | 'answers'>;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId'>;
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
    return {
      provider: 'builtin',
      quizId: quiz.id,
      runId: run?.id ?? null,
      answered: answers.length,
      difficulty: a.difficulty,
      discrimination: a.discrimination,
      distractors: a.distractors,
      clusters: a.clusters,
    };
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
    return { provider: 'builtin', lessonId: lesson.id, groups: groupQuestions(msgs) };
  }
}
