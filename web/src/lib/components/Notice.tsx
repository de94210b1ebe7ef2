/** A notice line or box: `info` (polite status), `error` (alert) or `ok`. */
import type { ComponentChildren } from 'preact';

/** Props: the kind, an optional id and the content (nothing rendered when empty). */
export interface NoticeProps {
  kind?: 'info' | 'error' | 'ok';
  id?: string;
  class?: string;
  children?: ComponentChildren;
}

/** Renders a notice; errors are `role="alert"`, others `role="status"`. */
export function Notice({ kind = 'info', id, class: extra, children }: NoticeProps) {
  if (children === null || children === undefined || children === '' || children === false) return null;
  return (
    <p
      id={id}
      class={`notice notice-${kind}${kind === 'error' ? ' form-error' : ''}${extra ? ` ${extra}` : ''}`}
      role={kind === 'error' ? 'alert' : 'status'}
    >
      {children}
    </p>
  );
}
