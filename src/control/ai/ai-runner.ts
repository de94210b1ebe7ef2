/**
 * The one place that decides which provider answers (issue 10): Gemini for a lesson of a class
 * whose teacher turned it on, when the school set a key; the built-in analyzer otherwise and
 * whenever Gemini fails (timeout, HTTP error, unusable answer, budget spent). The answer says
 * which one produced it, so the UI can.
 */
import type { Logger } from '../../shared/logger.ts';
import { AiUnavailable, type GeminiClient } from './gemini.ts';
import { GeminiProvider } from './gemini-provider.ts';
import type { AiProvider, AiRunner, Answered, ProviderName } from './provider.ts';

/** What the runner needs. */
export interface AiRunnerDeps {
  builtin: AiProvider;
  /** The lesson's Gemini client when the class has Gemini on and a key is set. */
  gemini: (classId: string, lessonId: string) => Promise<GeminiClient | undefined>;
  logger: Logger;
}

/** Runs AI operations on the class's provider with the built-in fallback. */
export class ClassAiRunner implements AiRunner {
  readonly builtin: AiProvider;
  private readonly deps: AiRunnerDeps;

  constructor(deps: AiRunnerDeps) {
    this.deps = deps;
    this.builtin = deps.builtin;
  }

  async active(classId: string, lessonId: string): Promise<ProviderName> {
    return (await this.deps.gemini(classId, lessonId).catch(() => undefined)) ? 'gemini' : 'builtin';
  }

  async run<T>(classId: string, lessonId: string, op: (p: AiProvider) => Promise<T>): Promise<Answered<T>> {
    let client: GeminiClient | undefined;
    try {
      client = await this.deps.gemini(classId, lessonId);
    } catch (e) {
      this.deps.logger.warn(
        { err: (e as Error).message },
        'Gemini not available; the built-in analyzer answers',
      );
    }
    if (client) {
      try {
        return { provider: 'gemini', value: await op(new GeminiProvider(client)) };
      } catch (e) {
        // The client already logged its own failures (without the key or the prompt).
        if (!(e instanceof AiUnavailable) || e.reason === 'BAD_RESPONSE')
          this.deps.logger.warn(
            { classId, lessonId, err: (e as Error).message },
            "Gemini's answer not used; the built-in analyzer answers",
          );
      }
    }
    return { provider: 'builtin', value: await op(this.builtin) };
  }
}
