/**
 * The UI languages and the one i18n bootstrap of every page: pick the language, merge the
 * per-feature message bundles (`web/src/<feature>/messages.ts`), translate with `{name}`
 * placeholders, and a Preact context so components read `useI18n()`.
 */
import { createContext, h, type ComponentChildren } from 'preact';
import { useCallback, useContext, useMemo, useState } from 'preact/hooks';

/** Languages the UI speaks. */
export type Lang = 'ko' | 'en';
/** Every language, Korean first (the first users are Korean schools). */
export const LANGUAGES: readonly Lang[] = ['ko', 'en'];

/** One feature's strings: the same ids in both languages (test/i18n.test.ts checks). */
export interface Bundle {
  ko: Record<string, string>;
  en: Record<string, string>;
}

/** Placeholder values for `t()`. */
export type Vars = Record<string, string | number>;
/** Translate `id`, replacing `{name}` from `vars`; unknown ids fall back to English, then the id. */
export type Translate = (id: string, vars?: Vars) => string;

/** A language with its translate function. */
export interface I18n {
  lang: Lang;
  t: Translate;
}

/**
 * Picks the UI language: `?lang=ko|en` wins, else the first of the browser's languages that
 * we speak, else Korean.
 */
export function pickLanguage(search: string, navigatorLanguages: readonly string[]): Lang {
  const forced = new URLSearchParams(search).get('lang')?.toLowerCase();
  if (forced && (LANGUAGES as readonly string[]).includes(forced)) return forced as Lang;
  for (const tag of navigatorLanguages) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (base && (LANGUAGES as readonly string[]).includes(base)) return base as Lang;
  }
  return 'ko';
}

/** Merges the bundles (later ones win on a clash) and returns `{ lang, t }`. */
export function createI18n(lang: Lang, ...bundles: Bundle[]): I18n {
  const table: Record<string, string> = {};
  const fallback: Record<string, string> = {};
  for (const b of bundles) {
    Object.assign(table, b[lang]);
    Object.assign(fallback, b.en);
  }
  const t: Translate = (id, vars = {}) => {
    const text = table[id] ?? fallback[id] ?? id;
    return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in vars ? String(vars[name]) : `{${name}}`));
  };
  return { lang, t };
}

/** The language of this page load: `?lang=` or the browser's. */
export function pageLanguage(): Lang {
  return pickLanguage(location.search, navigator.languages ?? [navigator.language]);
}

/**
 * `?lang=xx` for links to other pages when the user chose a language here ('' else).
 * `sep` is the character before it: '?' for a bare path, '&' after other parameters.
 */
export function langSuffix(sep: '?' | '&'): string {
  const forced = new URLSearchParams(location.search).get('lang');
  return forced ? `${sep}lang=${encodeURIComponent(forced)}` : '';
}

/** What `useI18n()` gives: the language, `t`, and `setLang` (kept in `?lang=`). */
export interface I18nValue extends I18n {
  setLang(lang: Lang): void;
}

const I18nContext = createContext<I18nValue | null>(null);

/**
 * Provides `useI18n()` to the page, starting in `lang` (default: {@link pageLanguage}) with the
 * given bundles. Sets `<html lang>`.
 */
export function I18nProvider(props: { bundles: Bundle[]; lang?: Lang; children: ComponentChildren }) {
  const [lang, setLangState] = useState<Lang>(() => props.lang ?? pageLanguage());
  // The bundles are module constants: the array identity may change, the content does not.
  const i18n = useMemo(() => createI18n(lang, ...props.bundles), [lang]);
  const setLang = useCallback((next: Lang) => {
    const url = new URL(location.href);
    url.searchParams.set('lang', next);
    history.replaceState(history.state, '', url);
    setLangState(next);
  }, []);
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
  const value = useMemo(() => ({ ...i18n, setLang }), [i18n, setLang]);
  return h(I18nContext.Provider, { value }, props.children);
}

/** The page's language, `t` and `setLang`. Must be used under {@link I18nProvider}. */
export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n() outside <I18nProvider>');
  return value;
}
