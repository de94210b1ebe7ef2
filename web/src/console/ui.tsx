/**
 * Small building blocks of the teacher's pages: a card, a copy button (works over plain http
 * on a school LAN too), a two-step confirm (no modal: the question and its buttons appear in
 * place, focus moves to "confirm", Escape cancels) and an error line.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../lib/api.ts';
import { useI18n } from '../lib/i18n.ts';

/** A titled section of the console. */
export function Card(props: {
  title: ComponentChildren;
  id?: string;
  class?: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}): JSX.Element {
  const headingId = props.id ? `${props.id}-title` : undefined;
  return (
    <section class={`card ${props.class ?? ''}`} id={props.id} aria-labelledby={headingId}>
      <div class="card-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions && <div class="card-actions">{props.actions}</div>}
      </div>
      {props.children}
    </section>
  );
}

/**
 * Copies text: `navigator.clipboard` exists only on https and localhost, and schools often reach
 * AirClass over plain http on the LAN, so fall back to a selected textarea.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through
  }
  const area = document.createElement('textarea');
  area.readOnly = true;
  area.style.cssText = 'position:fixed;top:-1000px;opacity:0';
  area.value = text;
  document.body.append(area);
  area.select();
  let ok: boolean;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** A "Copy" button for `value()`; says "Copied" for a moment. `label` names what is copied. */
export function CopyButton(props: { value: () => string; label?: string; id?: string }): JSX.Element {
  const { t } = useI18n();
  const [done, setDone] = useState<null | boolean>(null);
  useEffect(() => {
    if (done === null) return;
    const timer = setTimeout(() => setDone(null), 1500);
    return () => clearTimeout(timer);
  }, [done]);
  return (
    <button
      type="button"
      class={`btn small${done ? ' done' : ''}`}
      id={props.id}
      aria-label={props.label ? `${t('common.copy')}: ${props.label}` : undefined}
      onClick={async () => setDone(await copyText(props.value()))}
    >
      {done === null ? t('common.copy') : t(done ? 'common.copied' : 'common.copyFailed')}
    </button>
  );
}

/**
 * A button that asks before acting: a click shows `question` with "confirm" and "cancel" in
 * place of the button. `confirmId` is the id of the confirm button (tests click it).
 */
export function Confirm(props: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => unknown;
  id?: string;
  confirmId?: string;
  class?: string;
  danger?: boolean;
  disabled?: boolean;
}): JSX.Element {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) openerRef.current?.focus(); // back to the button after cancel
    wasAsking.current = asking;
  }, [asking]);
  const cancel = () => setAsking(false);
  if (!asking) {
    return (
      <button
        type="button"
        ref={openerRef}
        id={props.id}
        class={props.class ?? `btn${props.danger ? ' danger' : ''}`}
        disabled={props.disabled}
        onClick={() => setAsking(true)}
      >
        {props.label}
      </button>
    );
  }
  return (
    <div
      class="confirm"
      role="group"
      aria-label={props.label}
      onKeyDown={(e) => e.key === 'Escape' && cancel()}
    >
      <span class="confirm-q">{props.question}</span>
      <button
        type="button"
        ref={confirmRef}
        id={props.confirmId}
        class={`btn ${props.danger ? 'danger' : 'primary'}`}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {props.confirmLabel ?? props.label}
      </button>
      <button type="button" class="btn" onClick={cancel}>
        {t('console.cancel')}
      </button>
    </div>
  );
}

/** An error line (role=alert) for an API error, or nothing. */
export function ErrorLine(props: { error: unknown; id?: string }): JSX.Element | null {
  const { t } = useI18n();
  if (!props.error) return null;
  const text = typeof props.error === 'string' ? t(props.error) : errorText(t, props.error);
  return (
    <p class="form-error" role="alert" id={props.id}>
      {text}
    </p>
  );
}

/** "123456" → "123 456" (easier to read off a projector). */
export const spacedCode = (code: string | undefined): string =>
  code ? `${code.slice(0, 3)} ${code.slice(3)}` : '';

/** A time of day in the page's language, e.g. "오후 2:05" / "2:05 PM". */
export function clock(iso: string | undefined | null, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(lang, { hour: 'numeric', minute: '2-digit' });
}
