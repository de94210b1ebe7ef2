/**
 * The teacher's analyses (issue 10): a quiz's last run — difficulty, discrimination,
 * distractors, misconception clusters of short answers with a re-teach note —, a lesson's chat
 * questions grouped by what they ask, and the lesson summary (what was covered, hard items and
 * why, open questions, who may need help). Numbers come from the built-in item analysis; the
 * words (clusters, groups, summary) from the class's provider through the {@link AiRunner}
 * (Gemini when the teacher turned it on, the built-in analyzer otherwise or on any failure).
 * Every answer names its provider and is stored with the lesson (`ai_results`).
 */
import { sql } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { canManageClass, type Principal } from '../auth/policy.ts';
import type { LessonReport } from '../report/types.ts';
import type { DrizzleAiResultRepo } from '../store/ai-result-repo.ts';
import type { DrizzleQuizRepo } from '../store/quiz-repo.ts';
import type { Db } from '../store/sql.ts';
import type { ClassRepo, LessonRepo } from '../store/types.ts';
import { isQuestion, type QuestionGroup } from './builtin/chat-questions.ts';
import { analyseItem, type AnswerCluster, type ItemInput } from './builtin/quiz-analysis.ts';
import type { AiRunner, LessonFacts, LessonSummary, ProviderName } from './provider.ts';

/** Which analyzer answered. */
export type Provider = ProviderName;

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

/** `GET /api/lessons/:id/summary`. */
export interface SummaryView extends LessonSummary {
  provider: Provider;
  lessonId: string;
  /** When it was made (a summary of a running lesson is made again on every ask). */
  at: string;
}

/** What the service needs. */
export interface AnalysisServiceDeps {
  db: Db;
  quizzes: Pick<DrizzleQuizRepo, 'byId' | 'lastRuns' | 'answers'>;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId'>;
  results: Pick<DrizzleAiResultRepo, 'get' | 'put'>;
  ai: AiRunner;
  /** The lesson's report (attendance, quiz items), for the summary. */
  lessonReport: (lessonId: string) => Promise<LessonReport | undefined>;
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

  private async lessonOf(p: Principal, lessonId: string) {
    const lesson = await this.deps.lessons.byId(lessonId);
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    await this.managed(p, lesson.classId);
    return lesson;
  }

  /** The quiz's last run analysed. */
  async quiz(p: Principal, quizId: string): Promise<QuizAnalysisView> {
    const quiz = await this.deps.quizzes.byId(quizId);
    if (!quiz) throw new AirError('QUIZ_NOT_FOUND');
    await this.managed(p, quiz.classId);
    const run = (await this.deps.quizzes.lastRuns([quiz.id])).get(quiz.id);
    if (!run) {
      return {
        provider: 'builtin',
        quizId: quiz.id,
        runId: null,
        answered: 0,
        difficulty: null,
        discrimination: null,
        distractors: [],
        clusters: [],
      };
    }
    // A closed run does not change: its stored analysis is the answer, while the provider that
    // made it is still the class's.
    if (run.closedAt) {
      const stored = await this.deps.results.get(run.lessonId, 'quiz', quiz.id);
      const v = stored?.result as QuizAnalysisView | undefined;
      if (v && v.runId === run.id && v.provider === (await this.deps.ai.active(quiz.classId, run.lessonId)))
        return v;
    }
    const view = await this.analyseRun(quiz.id, run.id, run.lessonId, quiz.classId);
    await this.deps.results.put(run.lessonId, 'quiz', quiz.id, view.provider, view);
    return view;
  }

  private async analyseRun(
    quizId: string,
    runId: string,
    lessonId: string,
    classId: string,
  ): Promise<QuizAnalysisView> {
    const quiz = (await this.deps.quizzes.byId(quizId))!;
    const answers = await this.deps.quizzes.answers(runId);
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
    const r = (await this.deps.db.execute(sql`
      SELECT a.participant_id, count(*) FILTER (WHERE a.correct) AS right
        FROM quiz_answers a JOIN quiz_runs r ON r.id = a.run_id
       WHERE r.lesson_id = ${lessonId}
       GROUP BY a.participant_id`)) as unknown as Rows;
    for (const row of r.rows) totals.set(String(row.participant_id), Number(row.right));
    const a = analyseItem(item, totals);
    let provider: Provider = 'builtin';
    let clusters = a.clusters;
    const wrong = answers.filter((x) => !x.correct && x.text).map((x) => x.text!);
    if (quiz.kind === 'short' && wrong.length > 0) {
      const got = await this.deps.ai.run(classId, lessonId, (ai) =>
        ai.clusterAnswers({
          question: quiz.question,
          accepted: item.correct as string[],
          wrong,
          names: answers.map((x) => x.name),
        }),
      );
      provider = got.provider;
      clusters = got.value;
    }
    return {
      provider,
      quizId: quiz.id,
      runId,
      answered: answers.length,
      difficulty: a.difficulty,
      discrimination: a.discrimination,
      distractors: a.distractors,
      clusters,
    };
  }

  /** The lesson's latest 5000 student chat lines (a long lesson's newest questions count), oldest first. */
  private async chatLines(lessonId: string) {
    const r = (await this.deps.db.execute(sql`
      SELECT id, sender_name, text, created_at FROM chat_messages
       WHERE lesson_id = ${lessonId} AND deleted_at IS NULL AND sender_role = 'student'
       ORDER BY seq DESC LIMIT 5000`)) as unknown as Rows;
    return r.rows.reverse().map((m) => ({
      id: String(m.id),
      name: String(m.sender_name),
      text: String(m.text),
      at: new Date(String(m.created_at)).toISOString(),
    }));
  }

  /** What the lesson's students asked in chat, grouped. */
  async questions(p: Principal, lessonId: string): Promise<QuestionsView> {
    const lesson = await this.lessonOf(p, lessonId);
    const msgs = await this.chatLines(lesson.id);
    const got =
      msgs.length > 0
        ? await this.deps.ai.run(lesson.classId, lesson.id, (ai) => ai.analyseChat(msgs))
        : { provider: 'builtin' as const, value: [] };
    const view: QuestionsView = { provider: got.provider, lessonId: lesson.id, groups: got.value };
    await this.deps.results.put(lesson.id, 'questions', '', view.provider, view);
    return view;
  }

  /**
   * The lesson summary. Once the lesson has ended, the stored one is the answer (made again
   * with `refresh`); while it runs, it is made on every ask.
   */
  async summary(p: Principal, lessonId: string, opts: { refresh?: boolean } = {}): Promise<SummaryView> {
    const lesson = await this.lessonOf(p, lessonId);
    if (lesson.endedAt && !opts.refresh) {
      const stored = await this.deps.results.get(lesson.id, 'summary');
      if (
        stored &&
        stored.createdAt >= lesson.endedAt &&
        stored.provider === (await this.deps.ai.active(lesson.classId, lesson.id))
      )
        return stored.result as SummaryView;
    }
    const facts = await this.facts(p, lesson.id);
    const got = await this.deps.ai.run(lesson.classId, lesson.id, (ai) => ai.summariseLesson(facts));
    const view: SummaryView = {
      ...got.value,
      provider: got.provider,
      lessonId: lesson.id,
      at: new Date().toISOString(),
    };
    await this.deps.results.put(lesson.id, 'summary', '', view.provider, view);
    return view;
  }

  /** Everything the summary is made from. */
  private async facts(p: Principal, lessonId: string): Promise<LessonFacts> {
    const report = await this.deps.lessonReport(lessonId);
    if (!report) throw new AirError('NOT_FOUND', 'No such lesson.');
    const slides = (await this.deps.db.execute(sql`
      SELECT taken_at, text FROM slides WHERE lesson_id = ${lessonId} AND text <> ''
       ORDER BY taken_at LIMIT 500`)) as unknown as Rows;
    const msgs = await this.chatLines(lessonId);
    const questions = await this.questions(p, lessonId);
    // The last run of each quiz of the lesson, analysed (stored analyses reused).
    const quizzes: LessonFacts['quizzes'] = [];
    const seen = new Set<string>();
    for (const item of [...report.quizzes].reverse()) {
      if (seen.has(item.quizId)) continue;
      seen.add(item.quizId);
      const a = await this.quiz(p, item.quizId).catch(() => undefined);
      if (!a) continue;
      const top = a.distractors.filter((d) => !d.correct && d.count > 0).sort((x, y) => y.count - x.count)[0];
      quizzes.unshift({
        quizId: item.quizId,
        question: item.question,
        kind: item.kind,
        answered: a.answered,
        difficulty: a.difficulty,
        topDistractor: top ? { option: top.option, count: top.count } : null,
        clusters: a.clusters,
      });
    }
    const asked = new Map<string, number>();
    for (const m of msgs) if (isQuestion(m.text)) asked.set(m.name, (asked.get(m.name) ?? 0) + 1);
    // One line per student name (a rejoin is the same student).
    const students = new Map<string, LessonFacts['students'][number]>();
    for (const row of report.attendance) {
      const s = students.get(row.name) ?? {
        name: row.name,
        minutesWatched: 0,
        engagement: null,
        quizAnswered: 0,
        quizCorrect: 0,
        questionsAsked: asked.get(row.name) ?? 0,
      };
      s.minutesWatched += row.minutesWatched;
      s.quizAnswered += row.quizAnswered;
      s.quizCorrect += row.quizCorrect;
      if (row.engagement !== null) s.engagement = Math.max(s.engagement ?? 0, row.engagement);
      students.set(row.name, s);
    }
    return {
      lesson: {
        id: report.lesson.id,
        number: report.lesson.number,
        classTitle: report.lesson.classTitle,
        startedAt: report.lesson.startedAt,
        endedAt: report.lesson.endedAt,
      },
      slides: slides.rows.map((s) => ({
        at: new Date(String(s.taken_at)).toISOString(),
        text: String(s.text),
      })),
      quizzes,
      questions: questions.groups,
      students: [...students.values()],
      quizRuns: report.quizzes.length,
    };
  }
}
