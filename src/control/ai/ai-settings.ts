/**
 * Who may use which AI (issue 10): the school's Gemini key (admin; stored sealed, shown masked,
 * never logged or returned), AI on or off per class (its teacher; off by default, so no student
 * data leaves the school unless the teacher chose it), and the Gemini client of a lesson — one
 * per lesson so its token budget is the lesson's.
 */
import { AirError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { canManageClass, requireRole, type Principal } from '../auth/policy.ts';
import type { DrizzleSecretRepo } from '../store/secret-repo.ts';
import type { ClassRepo } from '../store/types.ts';
import { GeminiClient } from './gemini.ts';
import { mask, open, seal } from './secret-box.ts';

const GEMINI = 'gemini';

/** What the settings need. */
export interface AiSettingsDeps {
  secrets: Pick<DrizzleSecretRepo, 'get' | 'put' | 'delete'>;
  classes: Pick<ClassRepo, 'byId' | 'setAi'>;
  masterKey: Buffer;
  logger: Logger;
  /** Gemini's API base URL (tests: a local server speaking its format); empty = Google's. */
  geminiBaseUrl?: string;
  geminiModel?: string;
  geminiTimeoutMs?: number;
  /** Tokens one lesson may spend. */
  lessonTokenBudget?: number;
}

/** The key as the API shows it. */
export interface KeyView {
  provider: 'gemini';
  configured: boolean;
  /** `••••` + the last 4 characters. */
  key: string | null;
  updatedAt: string | null;
}

/** A class's AI setting. */
export interface ClassAiView {
  enabled: boolean;
  provider: 'builtin' | 'gemini';
  /** What will answer now: Gemini needs the setting and a key. */
  active: 'builtin' | 'gemini';
}

/** AI keys and per-class settings. */
export class AiSettings {
  private readonly deps: AiSettingsDeps;
  private readonly clients = new Map<string, GeminiClient>();

  constructor(deps: AiSettingsDeps) {
    this.deps = deps;
  }

  /** Sets (or, with an empty key, removes) the school's Gemini key. Admins only. */
  async setGeminiKey(p: Principal, key: string): Promise<KeyView> {
    requireRole(p, 'admin');
    const k = key.trim();
    if (k === '') await this.deps.secrets.delete(GEMINI);
    else {
      if (!/^[\x21-\x7e]{8,256}$/.test(k))
        throw new AirError('VALIDATION', 'That does not look like an API key.');
      await this.deps.secrets.put(GEMINI, seal(this.deps.masterKey, k, GEMINI), k.slice(-4));
    }
    this.clients.clear();
    this.deps.logger.info({ provider: GEMINI, configured: k !== '' }, 'AI key changed');
    return this.geminiKey(p);
  }

  /** The key, masked. Admins only. */
  async geminiKey(p: Principal): Promise<KeyView> {
    requireRole(p, 'admin');
    const row = await this.deps.secrets.get(GEMINI);
    return {
      provider: 'gemini',
      configured: !!row,
      key: row ? mask(`xxxx${row.last4}`) : null,
      updatedAt: row?.updatedAt.toISOString() ?? null,
    };
  }

  /** The class's setting (its teacher, admins). */
  async classAi(p: Principal, classId: string): Promise<ClassAiView> {
    const cls = await this.deps.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
    return this.view(cls.aiEnabled, cls.aiProvider);
  }

  /** Turns AI on or off for a class (its teacher, admins). */
  async setClassAi(
    p: Principal,
    classId: string,
    s: { enabled: boolean; provider: 'builtin' | 'gemini' },
  ): Promise<ClassAiView> {
    const cls = await this.deps.classes.byId(classId);
    if (!cls) throw new AirError('CLASS_NOT_FOUND');
    if (!canManageClass(p, cls)) throw new AirError('FORBIDDEN');
    const next = await this.deps.classes.setAi(classId, s.enabled, s.provider);
    this.deps.logger.info({ classId, enabled: s.enabled, provider: s.provider }, 'class AI setting changed');
    return this.view(next?.aiEnabled ?? s.enabled, next?.aiProvider ?? s.provider);
  }

  private async view(enabled: boolean, provider: 'builtin' | 'gemini'): Promise<ClassAiView> {
    const key = enabled && provider === 'gemini' ? await this.deps.secrets.get(GEMINI) : undefined;
    return { enabled, provider, active: key ? 'gemini' : 'builtin' };
  }

  /**
   * The Gemini client for a lesson of a class, when the class has Gemini on and a key is set;
   * undefined otherwise (the built-in analyzer answers).
   */
  async geminiFor(classId: string, lessonId: string): Promise<GeminiClient | undefined> {
    const cls = await this.deps.classes.byId(classId);
    if (!cls?.aiEnabled || cls.aiProvider !== 'gemini') return undefined;
    const cached = this.clients.get(lessonId);
    if (cached) return cached;
    const row = await this.deps.secrets.get(GEMINI);
    if (!row) return undefined;
    let apiKey: string;
    try {
      apiKey = open(this.deps.masterKey, row.sealed, GEMINI);
    } catch (e) {
      this.deps.logger.warn(
        { reason: (e as Error).message },
        'the stored Gemini key does not open; set it again',
      );
      return undefined;
    }
    const client = new GeminiClient({
      apiKey,
      logger: this.deps.logger,
      ...(this.deps.geminiBaseUrl ? { baseUrl: this.deps.geminiBaseUrl } : {}),
      ...(this.deps.geminiModel ? { model: this.deps.geminiModel } : {}),
      ...(this.deps.geminiTimeoutMs ? { timeoutMs: this.deps.geminiTimeoutMs } : {}),
      budget: { maxTokens: this.deps.lessonTokenBudget ?? 200_000 },
    });
    if (this.clients.size > 200) this.clients.clear();
    this.clients.set(lessonId, client);
    return client;
  }
}
