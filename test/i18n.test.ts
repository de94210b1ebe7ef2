/**
 * The UI strings (web/src/**\/messages.ts, one bundle per feature): Korean and English stay
 * complete and in step, no id is defined by two bundles, and every id the pages use exists — a
 * missing one would show its raw id to a student or teacher.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createI18n, pickLanguage, type Bundle } from '../web/src/lib/i18n.ts';

const SRC = join(import.meta.dirname, '..', 'web', 'src');

/** Every file under `dir` whose name passes `keep`. */
function files(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return files(p, keep);
    return keep(e.name) ? [p] : [];
  });
}

/** The `{name}` placeholders of a string, sorted. */
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

const bundles = new Map<string, Bundle>();
const all: Record<'ko' | 'en', Record<string, string>> = { ko: {}, en: {} };

beforeAll(async () => {
  for (const file of files(SRC, (n) => n === 'messages.ts')) {
    const mod = (await import(pathToFileURL(file).href)) as { default: Bundle };
    bundles.set(relative(SRC, file), mod.default);
    Object.assign(all.ko, mod.default.ko);
    Object.assign(all.en, mod.default.en);
  }
});

describe('UI strings', () => {
  it('has bundles for the common strings, join, watch, login and the chat', () => {
    for (const name of ['lib/messages.ts', 'join/messages.ts', 'watch/messages.ts', 'login/messages.ts'])
      expect([...bundles.keys()]).toContain(name);
    expect([...bundles.keys()].some((k) => k.includes('chat'))).toBe(true);
  });

  it('has the same ids, with the same placeholders, in Korean and English, in every bundle', () => {
    for (const [name, b] of bundles) {
      expect(Object.keys(b.ko).sort(), name).toEqual(Object.keys(b.en).sort());
      for (const id of Object.keys(b.ko)) {
        expect(placeholders(b.ko[id]!), `${name}: ${id}`).toEqual(placeholders(b.en[id]!));
        expect(b.ko[id]!.trim(), `${name}: ${id}`).not.toBe('');
        expect(b.en[id]!.trim(), `${name}: ${id}`).not.toBe('');
      }
    }
  });

  it('defines each id in one bundle only', () => {
    const owner = new Map<string, string>();
    const twice: string[] = [];
    for (const [name, b] of bundles)
      for (const id of Object.keys(b.ko)) {
        if (owner.has(id)) twice.push(`${id} (${owner.get(id)}, ${name})`);
        owner.set(id, name);
      }
    expect(twice).toEqual([]);
  });

  it("has every id the pages use in t('…'), and a bundle entry for every t(`prefix.${…}`)", () => {
    const used = new Set<string>();
    const prefixes = new Set<string>();
    for (const file of files(SRC, (n) => /\.tsx?$/.test(n) && n !== 'messages.ts')) {
      const text = readFileSync(file, 'utf8');
      for (const call of text.matchAll(/\bt\(([^()]*)\)/g)) {
        for (const m of call[1]!.matchAll(/'([a-zA-Z]+(?:\.[a-zA-Z_]+)+)'/g)) used.add(m[1]!);
        for (const m of call[1]!.matchAll(/`([a-zA-Z]+(?:\.[a-zA-Z_]+)*\.)\$\{/g)) prefixes.add(m[1]!);
      }
    }
    expect(used.size).toBeGreaterThan(50);
    expect([...used].filter((id) => !(id in all.ko) || !(id in all.en))).toEqual([]);
    const ids = Object.keys(all.ko);
    expect([...prefixes].filter((p) => !ids.some((id) => id.startsWith(p)))).toEqual([]);
  });

  it('picks ?lang= first, then the browser, then Korean; fills placeholders', () => {
    expect(pickLanguage('?lang=en', ['ko-KR'])).toBe('en');
    expect(pickLanguage('?lang=EN', [])).toBe('en');
    expect(pickLanguage('?code=123456', ['en-US', 'ko'])).toBe('en');
    expect(pickLanguage('', ['fr-FR', 'de'])).toBe('ko');
    expect(pickLanguage('?lang=fr', ['en'])).toBe('en');
    const ko = createI18n('ko', ...bundles.values());
    expect(ko.t('error.RATE_LIMITED', { s: 30 })).toContain('30초');
    expect(ko.t('no.such.id')).toBe('no.such.id');
  });
});
