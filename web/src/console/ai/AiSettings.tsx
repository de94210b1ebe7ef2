/**
 * AI settings in the console: per class, whether student data may go to Gemini (off by default;
 * `PUT /api/classes/:id/ai`) and what answers now; for admins, the school's Gemini key
 * (`PUT /api/ai/keys/gemini`), shown only masked.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../lib/api.ts';
import { useI18n } from '../../lib/i18n.ts';
import { Card, ErrorLine } from '../ui.tsx';

interface ClassAi {
  enabled: boolean;
  provider: 'builtin' | 'gemini';
  active: 'builtin' | 'gemini';
}

interface KeyView {
  configured: boolean;
  key: string | null;
  updatedAt: string | null;
}

/** The class's AI switch; `onChange` hears every saved change (the panels that use AI ask again). */
export function ClassAiCard(props: { classId: string; onChange?: () => void }): JSX.Element {
  const { t } = useI18n();
  const [s, setS] = useState<ClassAi | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<ClassAi>('GET', `/api/classes/${props.classId}/ai`).then(setS, setError);
  }, [props.classId]);
  const set = async (on: boolean) => {
    setError(null);
    try {
      setS(
        await api<ClassAi>('PUT', `/api/classes/${props.classId}/ai`, {
          enabled: on,
          provider: on ? 'gemini' : 'builtin',
        }),
      );
      props.onChange?.();
    } catch (e) {
      setError(e);
    }
  };
  const on = !!s?.enabled && s.provider === 'gemini';
  return (
    <Card id="class-ai" title={t('aiset.title')}>
      <label class="check">
        <input
          type="checkbox"
          id="class-ai-gemini"
          checked={on}
          disabled={!s}
          onChange={(e) => void set(e.currentTarget.checked)}
        />
        <span>{t('aiset.useGemini')}</span>
      </label>
      <p class="hint">{t('aiset.privacy')}</p>
      {s && (
        <p id="class-ai-active" data-active={s.active}>
          {t('aiset.active', { who: t(`ai.by.${s.active}`) })}
          {on && s.active === 'builtin' ? ` ${t('aiset.noKey')}` : ''}
        </p>
      )}
      <ErrorLine error={error} />
    </Card>
  );
}

/** The school's Gemini key (admins). */
export function GeminiKeyCard(): JSX.Element {
  const { t } = useI18n();
  const [k, setK] = useState<KeyView | null>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<KeyView>('GET', '/api/ai/keys/gemini').then(setK, setError);
  }, []);
  const save = async (key: string) => {
    setError(null);
    try {
      setK(await api<KeyView>('PUT', '/api/ai/keys/gemini', { key }));
      setValue('');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <Card id="gemini-key" title={t('aiset.keyTitle')}>
      <p class="hint">{t('aiset.keyHint')}</p>
      <p id="gemini-key-state">
        {k?.configured ? t('aiset.keySet', { key: k.key ?? '' }) : t('aiset.keyNone')}
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) void save(value.trim());
        }}
      >
        <label class="sr-only" for="gemini-key-input">
          {t('aiset.keyLabel')}
        </label>
        <input
          id="gemini-key-input"
          type="password"
          autocomplete="off"
          placeholder={t('aiset.keyLabel')}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" class="btn primary" id="gemini-key-save">
          {t('aiset.keySave')}
        </button>
        {k?.configured && (
          <button type="button" class="btn ghost" id="gemini-key-remove" onClick={() => void save('')}>
            {t('aiset.keyRemove')}
          </button>
        )}
      </form>
      <ErrorLine error={error} />
    </Card>
  );
}
