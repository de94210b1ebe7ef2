/** The ko ↔ en button of every page header (`#lang`): keeps the choice in `?lang=`. */
import { useI18n } from '../i18n.ts';

/** The language switch; its text is the other language's name. */
export function LangSwitch() {
  const { lang, t, setLang } = useI18n();
  return (
    <button
      type="button"
      class="lang"
      id="lang"
      lang={lang === 'ko' ? 'en' : 'ko'}
      onClick={() => setLang(lang === 'ko' ? 'en' : 'ko')}
    >
      {t('lang.switch')}
    </button>
  );
}
