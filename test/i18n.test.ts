/**
 * The UI strings (web/i18n.js): Korean and English stay complete and in step, and every string
 * id the pages use exists — a missing one would show its raw id to a student or teacher.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const WEB = join(import.meta.dirname, '..', 'web');

type Messages = Record<'ko' | 'en', Record<string, string>>;
let MESSAGES: Messages;
let pickLanguage: (search: string, langs: readonly string[]) => 'ko' | 'en';
let createTranslator: (lang: 'ko' | 'en') => (id: string, vars?: Record<string, string | number>) => string;

/** Every file under web/ with one of the extensions. */
function files(dir: string, exts: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p, exts);
    return exts.some((x) => e.name.endsWith(x)) ? [p] : [];
  });
}

/** The `{name}` placeholders of a string, sorted. */
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

beforeAll(async () => {
  // A URL, not a literal specifier: the module is plain JS for browsers, without types.
  const mod = (await import(pathToFileURL(join(WEB, 'i18n.js')).href)) as {
    MESSAGES: Messages;
    pickLanguage: typeof pickLanguage;
    createTranslator: typeof createTranslator;
  };
  ({ MESSAGES, pickLanguage, createTranslator } = mod);
});

describe('UI strings', () => {
  it('has the same ids, with the same placeholders, in Korean and English', () => {
    expect(Object.keys(MESSAGES.ko).sort()).toEqual(Object.keys(MESSAGES.en).sort());
    for (const id of Object.keys(MESSAGES.ko)) {
      expect(placeholders(MESSAGES.ko[id]!), id).toEqual(placeholders(MESSAGES.en[id]!));
      expect(MESSAGES.ko[id]!.trim(), id).not.toBe('');
    }
  });

  it('has every id the pages use', () => {
    const used = new Set<string>();
    for (const file of files(WEB, ['.js', '.html']).filter((f) => !f.endsWith('i18n.js'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z]+(?:\.[a-zA-Z]+)+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/data-i18n="([^"]+)"/g)) used.add(m[1]!);
    }
    // Ids built from a value (`status.${c.status}` and the like): every value they can take.
    const built = {
      status: ['scheduled', 'live', 'ended'],
      role: ['admin', 'teacher', 'student', 'monitor'],
      'chat.role': ['teacher', 'student', 'monitor'],
      preview: ['live', 'connecting', 'offline'],
      'console.group': ['live', 'scheduled', 'ended'],
    };
    for (const [prefix, values] of Object.entries(built)) for (const v of values) used.add(`${prefix}.${v}`);
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((id) => !(id in MESSAGES.ko) || !(id in MESSAGES.en));
    expect(missing).toEqual([]);
  });

  it('picks ?lang= first, then the browser, then Korean', () => {
    expect(pickLanguage('?lang=en', ['ko-KR'])).toBe('en');
    expect(pickLanguage('?code=123456', ['en-US', 'ko'])).toBe('en');
    expect(pickLanguage('', ['fr-FR', 'de'])).toBe('ko');
    expect(createTranslator('ko')('error.RATE_LIMITED', { s: 30 })).toContain('30초');
  });
});
