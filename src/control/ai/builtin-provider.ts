/**
 * The built-in analyzer as an {@link AiProvider}: no network and no model, Korean and English.
 * Images are read by OCR (Debian's tesseract with Korean and English data) when it is installed;
 * describing a photo needs Gemini, so this provider answers null there.
 */
import { groupQuestions } from './builtin/chat-questions.ts';
import { draftQuizFromText } from './builtin/draft-quiz.ts';
import { summariseLesson } from './builtin/lesson-summary.ts';
import { clusterShortAnswers } from './builtin/quiz-analysis.ts';
import type { AiProvider, ChatLine, ClusterInput, ImageInput, ImageText, LessonFacts } from './provider.ts';

/** Reads the text of an image (the OCR engine). */
export interface TextReader {
  /** Whether it can read now (installed, with its language data). */
  status(): Promise<{ ok: boolean }>;
  read(png: Uint8Array): Promise<string>;
}

/** The offline provider. */
export class BuiltinProvider implements AiProvider {
  readonly name = 'builtin' as const;
  private readonly ocr: TextReader | undefined;

  constructor(opts: { ocr?: TextReader } = {}) {
    this.ocr = opts.ocr;
  }

  clusterAnswers(input: ClusterInput) {
    return Promise.resolve(clusterShortAnswers(input.question, input.accepted, input.wrong));
  }

  analyseChat(lines: ChatLine[]) {
    return Promise.resolve(groupQuestions(lines));
  }

  async readImage(image: ImageInput): Promise<ImageText> {
    if (!this.ocr || !(await this.ocr.status()).ok) return { text: '', reader: 'none' };
    return { text: await this.ocr.read(image.data), reader: 'tesseract' };
  }

  describeImage(): Promise<string | null> {
    return Promise.resolve(null);
  }

  summariseLesson(facts: LessonFacts) {
    return Promise.resolve(summariseLesson(facts));
  }

  draftQuiz(slideText: string) {
    return Promise.resolve(draftQuizFromText(slideText));
  }
}
