/** The bar at the top of every page: the brand (a link home), optional middle and the language switch. */
import type { ComponentChildren } from 'preact';
import { langSuffix, useI18n } from '../i18n.ts';
import { LangSwitch } from './LangSwitch.tsx';

/** Props: `children` go between the brand and the language switch; `end` after the switch. */
export interface HeaderProps {
  children?: ComponentChildren;
  end?: ComponentChildren;
  /** Where the brand links (default `/`). */
  home?: string;
}

/** The page header (`<header class="bar">`). */
export function Header({ children, end, home = '/' }: HeaderProps) {
  const { t } = useI18n();
  return (
    <header class="bar">
      <a class="brand" href={`${home}${langSuffix(home.includes('?') ? '&' : '?')}`}>
        {t('app.name')}
      </a>
      {children}
      <span class="spacer" />
      <LangSwitch />
      {end}
    </header>
  );
}
