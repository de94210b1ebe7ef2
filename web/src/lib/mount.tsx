/**
 * Starts a page: renders `<App/>` into `#app` under the i18n provider with the page's bundles
 * (the common bundle is always included) and the shared styles.
 */
import { render, type ComponentChildren } from 'preact';
import { I18nProvider, type Bundle } from './i18n.ts';
import common from './messages.ts';
import '../styles/base.css';

/** Mounts `app` in `#app` (or the body) with `bundles`. */
export function mountPage(app: ComponentChildren, ...bundles: Bundle[]): void {
  const root = document.getElementById('app') ?? document.body;
  render(<I18nProvider bundles={[common, ...bundles]}>{app}</I18nProvider>, root);
}
