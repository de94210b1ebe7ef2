import type { Logger } from './logger.ts';

/** Closers run in reverse order of construction, each once, errors logged and not rethrown. */
export class CleanupStack {
  private readonly items: { what: string; close: () => unknown }[] = [];
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Adds `close` (run before everything added earlier); returns `value`. */
  push<T>(what: string, value: T, close: () => unknown): T {
    this.items.push({ what, close });
    return value;
  }

  /** Runs every closer, newest first. */
  async run(): Promise<void> {
    for (const { what, close } of this.items.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        this.log.warn({ err: e, part: what }, 'closing failed');
      }
    }
  }
}
