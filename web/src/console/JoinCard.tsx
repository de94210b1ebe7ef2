/**
 * How students get in: the join code (large, spaced), the join link with copy, the QR code
 * (SVG; PNG to save) and "Show big", which opens the projector view in a new tab
 * (`/projector#class=<id>`: the teacher's session cookie authorises it).
 */
import type { JSX } from 'preact';
import { langSuffix, useI18n } from '../lib/i18n.ts';
import type { ClassInfo } from './types.ts';
import { Card, CopyButton, spacedCode } from './ui.tsx';

/** The projector view's address for a class. */
export function projectorUrl(classId: string): string {
  return `/projector${langSuffix('?')}#class=${encodeURIComponent(classId)}`;
}

/** The join card. */
export function JoinCard(props: { cls: ClassInfo }): JSX.Element {
  const { t } = useI18n();
  const { cls } = props;
  return (
    <Card id="join" title={t('jc.title')} class="join-card">
      <div class="join-body">
        <div class="join-main">
          <div
            class="join-code"
            id="join-code"
            data-code={cls.joinCode}
            aria-label={t('jc.codeLabel', { code: cls.joinCode ?? '' })}
          >
            {spacedCode(cls.joinCode)}
          </div>
          <div class="row">
            <span class="mono clip" id="join-url" title={cls.joinUrl}>
              {cls.joinUrl}
            </span>
            <CopyButton value={() => cls.joinUrl ?? ''} label={t('jc.link')} />
          </div>
          <div class="buttons">
            <a class="btn primary" id="show-big" href={projectorUrl(cls.id)} target="_blank" rel="noopener">
              {t('jc.showBig')}
            </a>
            <a
              class="btn"
              href={`/api/classes/${cls.id}/qr.png?size=1024`}
              download={`airclass-${cls.joinCode}.png`}
            >
              {t('jc.qrPng')}
            </a>
          </div>
        </div>
        <img class="qr" src={`/api/classes/${cls.id}/qr.svg`} alt={t('jc.qrAlt')} width={120} height={120} />
      </div>
    </Card>
  );
}
