/** Which analyzer answered, as a small badge (`data-provider` for tests). */
import type { JSX } from 'preact';
import { useI18n } from '../i18n.ts';
import type { Provider } from './types.ts';

export function ProviderBadge(props: { provider: Provider }): JSX.Element {
  const { t } = useI18n();
  return (
    <span class="ai-by" data-provider={props.provider}>
      {t('ai.byLine', { who: t(`ai.by.${props.provider}`) })}
    </span>
  );
}
