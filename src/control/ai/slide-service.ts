/**
 * The teacher's side of a lesson's slides (issue 10): the list with who read each one and
 * which readers are available now (OCR here, Gemini for the class), a slide's image, and a quiz
 * drafted from a slide's text by the class's provider (the draft is stored in `ai_results` as
 * kind `draft`, subject the slide id, and returned; the teacher edits and saves it as a quiz).
 * The class's teacher and admins only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { AirError } from '../../shared/errors.ts';
import { canManageClass, check, type Principal } from '../auth/policy.ts';
import { aiResults, slides } from '../store/schema-ai.ts';
import { guard, isUuid, type Db } from '../store/sql.ts';
import type { ClassRepo, LessonRepo } from '../store/types.ts';
import type { OcrStatus } from './builtin/ocr.ts';
import type { AiRunner, ProviderName, QuizDraft } from './provider.ts';
import type { SlideEntry } from './slide-watcher.ts';

/** A slide in the list answer. */
export interface SlideView extends SlideEntry {
  width: number;
  height: number;
  /** `GET` it with the session token. */
  imageUrl: string;
}

/** Who can read slides for this lesson now. */
export interface Readers {
  ocr: OcrStatus;
  /** Gemini reads the slides of this class (turned on by its teacher, key set by the school). */
  gemini: boolean;
}

/** What the service needs. */
export interface SlideServiceDeps {
  db: Db;
  classes: Pick<ClassRepo, 'byId'>;
  lessons: Pick<LessonRepo, 'byId'>;
  ai: AiRunner;
  /** The OCR engine's status (the built-in reader). */
  ocr: () => Promise<OcrStatus>;
  /** Whether Gemini answers for a lesson of the class. */
  gemini: (classId: string, lessonId: string) => Promise<boolean>;
  /** The data dir (slides are under `slides/<lessonId>/`). */
  dataDir: string;
}

type SlideRow = typeof slides.$inferSelect;

function view(r: SlideRow): SlideView {
  return {
    id: r.id,
    at: r.takenAt.toISOString(),
    text: r.text,
    reader: r.reader,
    width: r.width,
    height: r.height,
    imageUrl: `/api/slides/${r.id}/image`,
  };
}

/** Lists, images and quiz drafts of slides. */
export class SlideService {
  private readonly deps: SlideServiceDeps;

  constructor(deps: SlideServiceDeps) {
    this.deps = deps;
  }

  private async managed(p: Principal, classId: string): Promise<void> {
    const cls = await this.deps.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    check(canManageClass(p, cls));
  }

  private async slide(p: Principal, id: string): Promise<SlideRow> {
    if (!isUuid(id)) throw new AirError('SLIDE_NOT_FOUND');
    const [row] = await guard(() => this.deps.db.select().from(slides).where(eq(slides.id, id)));
    if (!row) throw new AirError('SLIDE_NOT_FOUND');
    await this.managed(p, row.classId);
    return row;
  }

  /** The lesson's slides, oldest first, and who can read slides now. */
  async list(p: Principal, lessonId: string): Promise<{ slides: SlideView[]; readers: Readers }> {
    const lesson = isUuid(lessonId) ? await this.deps.lessons.byId(lessonId) : undefined;
    if (!lesson) throw new AirError('NOT_FOUND', 'No such lesson.');
    await this.managed(p, lesson.classId);
    const rows = await guard(() =>
      this.deps.db.select().from(slides).where(eq(slides.lessonId, lesson.id)).orderBy(asc(slides.takenAt)),
    );
    const [ocr, gemini] = await Promise.all([
      this.deps.ocr(),
      this.deps.gemini(lesson.classId, lesson.id).catch(() => false),
    ]);
    return { slides: rows.map(view), readers: { ocr, gemini } };
  }

  /** A slide's PNG. */
  async image(p: Principal, id: string): Promise<Uint8Array> {
    const row = await this.slide(p, id);
    try {
      return await readFile(join(this.deps.dataDir, 'slides', row.lessonId, `${row.id}.png`));
    } catch {
      throw new AirError('SLIDE_NOT_FOUND', "The slide's image is gone.");
    }
  }

  /** A quiz drafted from the slide's text by the class's provider (SLIDE_NO_TEXT without any). */
  async draft(p: Principal, id: string): Promise<{ provider: ProviderName; draft: QuizDraft }> {
    const row = await this.slide(p, id);
    if (!row.text.trim()) throw new AirError('SLIDE_NO_TEXT');
    const answered = await this.deps.ai.run(row.classId, row.lessonId, (ai) => ai.draftQuiz(row.text));
    if (!answered.value) {
      throw new AirError('SLIDE_NO_TEXT', 'The text read from this slide gives nothing to ask.');
    }
    const result = { provider: answered.provider, draft: answered.value };
    await guard(() =>
      this.deps.db
        .insert(aiResults)
        .values({ lessonId: row.lessonId, kind: 'draft', subject: row.id, provider: result.provider, result })
        .onConflictDoUpdate({
          target: [aiResults.lessonId, aiResults.kind, aiResults.subject],
          set: { provider: result.provider, result, createdAt: new Date() },
        }),
    );
    return result;
  }
}
