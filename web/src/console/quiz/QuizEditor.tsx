/**
 * Writing a quiz for the class's bank: kind (single / multiple / true-false / short answer),
 * question, options with the correct one(s) ticked, accepted answers for short answer, time
 * limit and "anonymous to classmates" (with the note that the teacher still sees names).
 * Saves with `POST /api/classes/:id/quizzes`.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ProviderBadge } from '../../lib/ai/ProviderBadge.tsx';
import type { Provider } from '../../lib/ai/types.ts';
import { api } from '../../lib/api.ts';
import { useI18n } from '../../lib/i18n.ts';
import type { QuizInfo, QuizKind } from '../types.ts';
import { ErrorLine } from '../ui.tsx';

const KINDS: QuizKind[] = ['single', 'multiple', 'truefalse', 'short'];
const MAX_OPTIONS = 8;
const TIME_MIN = 5;
const TIME_MAX = 600;

/** The body of `POST /api/classes/:id/quizzes` for the editor's fields, or an i18n error id. */
export function quizBody(f: {
  kind: QuizKind;
  question: string;
  options: string[];
  correct: number[];
  shortAnswers: string;
  time: number;
  anonymous: boolean;
  trueFalse: string[];
}): Record<string, unknown> | string {
  const question = f.question.trim();
  if (!question) return 'quiz.err.question';
  if (!Number.isInteger(f.time) || f.time < TIME_MIN || f.time > TIME_MAX) return 'quiz.err.time';
  const base = { kind: f.kind, question, timeLimitSec: f.time, anonymous: f.anonymous };
  if (f.kind === 'short') {
    const answers = f.shortAnswers
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean);
    return answers.length ? { ...base, correct: answers } : base;
  }
  if (f.kind === 'truefalse') {
    if (f.correct.length !== 1) return 'quiz.err.correctOne';
    return { ...base, options: f.trueFalse, correct: f.correct };
  }
  const options = f.options.map((o) => o.trim());
  if (options.length < 2 || options.some((o) => !o)) return 'quiz.err.options';
  if (f.correct.length === 0) return f.kind === 'single' ? 'quiz.err.correctOne' : 'quiz.err.correctSome';
  if (f.kind === 'single' && f.correct.length !== 1) return 'quiz.err.correctOne';
  return { ...base, options, correct: f.correct };
}

/** Values the editor starts with (e.g. a quiz drafted from a slide), and why. */
export interface QuizInitial {
  kind: QuizKind;
  question: string;
  options: string[];
  correct: number[] | string[];
  timeLimitSec: number;
  note?: { ko: string; en: string };
  /** Who drafted it (shown beside the note). */
  provider?: Provider;
}

/** The editor; `onSaved` gets the new quiz, `onCancel` closes it; `initial` prefills it. */
export function QuizEditor(props: {
  classId: string;
  onSaved: (q: QuizInfo) => void;
  onCancel: () => void;
  initial?: QuizInitial;
}): JSX.Element {
  const { t, lang } = useI18n();
  const init = props.initial;
  const [kind, setKind] = useState<QuizKind>(init?.kind ?? 'single');
  const [question, setQuestion] = useState(init?.question ?? '');
  const [options, setOptions] = useState<string[]>(
    init && init.kind !== 'short' && init.kind !== 'truefalse' ? init.options : ['', '', ''],
  );
  const [correct, setCorrect] = useState<number[]>(
    init && init.kind !== 'short' ? (init.correct as number[]) : [],
  );
  const [shortAnswers, setShortAnswers] = useState(
    init?.kind === 'short' ? (init.correct as string[]).join(', ') : '',
  );
  const [time, setTime] = useState(init?.timeLimitSec ?? 30);
  const [anonymous, setAnonymous] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const trueFalse = [t('quiz.true'), t('quiz.false')];
  const shown = kind === 'truefalse' ? trueFalse : options;
  const multi = kind === 'multiple';

  const changeKind = (k: QuizKind) => {
    setKind(k);
    setCorrect([]);
  };
  const toggle = (i: number) =>
    setCorrect((c) => (multi ? (c.includes(i) ? c.filter((x) => x !== i) : [...c, i].sort()) : [i]));
  const setOption = (i: number, v: string) => setOptions((o) => o.map((x, j) => (j === i ? v : x)));
  const removeOption = (i: number) => {
    setOptions((o) => o.filter((_, j) => j !== i));
    setCorrect((c) => c.filter((x) => x !== i).map((x) => (x > i ? x - 1 : x)));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const body = quizBody({ kind, question, options, correct, shortAnswers, time, anonymous, trueFalse });
    if (typeof body === 'string') return setError(body);
    setBusy(true);
    setError(null);
    try {
      props.onSaved(await api<QuizInfo>('POST', `/api/classes/${props.classId}/quizzes`, body));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="quiz-editor" id="quiz-editor" onSubmit={save} noValidate aria-labelledby="quiz-editor-title">
      <h3 id="quiz-editor-title">{t('quiz.newTitle')}</h3>
      {init?.note && (
        <p class="hint" id="quiz-draft-note">
          {lang === 'ko' ? init.note.ko : init.note.en}
          {init.provider && (
            <>
              {' '}
              <ProviderBadge provider={init.provider} />
            </>
          )}
        </p>
      )}
      <div class="row-fields">
        <label class="field">
          <span>{t('quiz.kind')}</span>
          <select id="quiz-kind" value={kind} onChange={(e) => changeKind(e.currentTarget.value as QuizKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`quiz.kind.${k}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="field narrow">
          <span>{t('quiz.time')}</span>
          <input
            type="number"
            id="quiz-time"
            min={TIME_MIN}
            max={TIME_MAX}
            step={5}
            value={time}
            onInput={(e) => setTime(Number(e.currentTarget.value))}
          />
        </label>
      </div>
      <label class="field">
        <span>{t('quiz.question')}</span>
        <textarea
          id="quiz-question"
          rows={2}
          maxLength={500}
          value={question}
          onInput={(e) => setQuestion(e.currentTarget.value)}
        />
      </label>
      {kind === 'short' ? (
        <label class="field">
          <span>{t('quiz.shortAnswers')}</span>
          <input
            type="text"
            id="quiz-short-answers"
            value={shortAnswers}
            maxLength={500}
            onInput={(e) => setShortAnswers(e.currentTarget.value)}
          />
          <span class="hint">{t('quiz.shortHint')}</span>
        </label>
      ) : (
        <fieldset class="quiz-options">
          <legend>{t(multi ? 'quiz.optionsMulti' : 'quiz.optionsSingle')}</legend>
          {shown.map((o, i) => (
            <div class="quiz-option-row" key={`${kind}-${i}`}>
              <input
                type={multi ? 'checkbox' : 'radio'}
                name="quiz-correct"
                class="quiz-correct"
                checked={correct.includes(i)}
                onChange={() => toggle(i)}
                aria-label={t('quiz.correctN', { n: String.fromCharCode(65 + i) })}
              />
              {kind === 'truefalse' ? (
                <span class="tf">{o}</span>
              ) : (
                <>
                  <span class="quiz-option">
                    <input
                      type="text"
                      class="quiz-option-text"
                      value={o}
                      maxLength={200}
                      aria-label={t('quiz.optionN', { n: String.fromCharCode(65 + i) })}
                      onInput={(e) => setOption(i, e.currentTarget.value)}
                    />
                  </span>
                  {options.length > 2 && (
                    <button
                      type="button"
                      class="btn small ghost"
                      aria-label={t('quiz.removeOptionN', { n: String.fromCharCode(65 + i) })}
                      onClick={() => removeOption(i)}
                    >
                      ×
                    </button>
                  )}
                </>
              )}
            </div>
          ))}
          {kind !== 'truefalse' && options.length < MAX_OPTIONS && (
            <button
              type="button"
              class="btn small"
              id="quiz-add-option"
              onClick={() => setOptions((o) => [...o, ''])}
            >
              {t('quiz.addOption')}
            </button>
          )}
        </fieldset>
      )}
      <label class="check">
        <input
          type="checkbox"
          id="quiz-anonymous"
          checked={anonymous}
          onChange={(e) => setAnonymous(e.currentTarget.checked)}
          aria-describedby="quiz-anonymous-hint"
        />
        <span>{t('quiz.anonymous')}</span>
      </label>
      <p class="hint" id="quiz-anonymous-hint">
        {t('quiz.anonymousHint')}
      </p>
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" class="btn primary" id="quiz-save" disabled={busy}>
          {t('quiz.save')}
        </button>
        <button type="button" class="btn" id="quiz-cancel" onClick={props.onCancel}>
          {t('console.cancel')}
        </button>
      </div>
    </form>
  );
}
