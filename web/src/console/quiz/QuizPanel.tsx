/**
 * The quiz card of the console: the class's bank (`GET /api/classes/:id/quizzes`, each with
 * push and delete), "new quiz" (the editor) and the run that is open or was pushed last (live
 * chart from `quiz.results`, the student table from `GET /api/quizzes/:id/results`, fetched
 * at most once a second while answers come in).
 */
import type { JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../../lib/api.ts';
import type { ClassChannel } from '../../lib/channel.ts';
import { useI18n } from '../../lib/i18n.ts';
import type { QuizInfo, QuizResults } from '../types.ts';
import { Card, Confirm, ErrorLine } from '../ui.tsx';
import { QuizEditor, type QuizInitial } from './QuizEditor.tsx';
import { QuizLive, type RunView } from './QuizLive.tsx';

const RESULTS_EVERY_MS = 1000;

/** The last run's status of a bank entry ('open', 'closed' or null = never pushed). */
export function runStatus(q: QuizInfo): 'open' | 'closed' | null {
  if (q.lastRun) return q.lastRun.status;
  return q.status === 'open' || q.status === 'closed' ? q.status : null;
}

/** True when event `e` is about the run `cur` shows (a run loaded from the bank may lack its id). */
function sameRun(cur: RunView | null, e: { quizId: string; runId: string }): cur is RunView {
  return Boolean(cur && (cur.runId ? cur.runId === e.runId : cur.quiz.id === e.quizId));
}

/** The quiz card; `live`: a lesson is running (pushing needs one). */
export function QuizPanel(props: {
  classId: string;
  channel: ClassChannel | null;
  live: boolean;
  /** A draft to open in the editor (e.g. from a slide); a new object opens it again. */
  draft?: QuizInitial | null;
}): JSX.Element {
  const { t } = useI18n();
  const { classId, channel } = props;
  const [bank, setBank] = useState<QuizInfo[]>([]);
  const [editing, setEditing] = useState(false);
  const [initial, setInitial] = useState<{ n: number; value?: QuizInitial }>({ n: 0 });
  useEffect(() => {
    if (!props.draft) return;
    setInitial((cur) => ({ n: cur.n + 1, value: props.draft! }));
    setEditing(true);
  }, [props.draft]);
  const [run, setRun] = useState<RunView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const bankRef = useRef<QuizInfo[]>([]);
  const fetchTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastFetch = useRef(0);

  const loadBank = useCallback(async () => {
    try {
      const r = await api<{ quizzes: QuizInfo[] }>('GET', `/api/classes/${classId}/quizzes`);
      bankRef.current = r.quizzes;
      setBank(r.quizzes);
      return r.quizzes;
    } catch (e) {
      setError(e);
      return bankRef.current;
    }
  }, [classId]);

  /** Reads the full results of `quizId` into the run (if it is still the one shown). */
  const loadResults = useCallback(async (quizId: string) => {
    lastFetch.current = Date.now();
    try {
      const r = await api<QuizResults>('GET', `/api/quizzes/${quizId}/results`);
      setRun((cur) =>
        cur && cur.quiz.id === quizId && (!r.runId || r.runId === cur.runId)
          ? {
              ...cur,
              results: r,
              status: r.status === 'open' ? 'open' : 'closed',
              answered: Math.max(cur.answered, r.answered),
              correct: r.correct,
              counts: r.counts?.length ? r.counts : cur.counts,
              closesAt: r.closesAt ?? cur.closesAt,
              revealed: cur.revealed || Boolean(r.revealed),
            }
          : cur,
      );
    } catch {
      // shown again at the next push
    }
  }, []);

  const scheduleResults = useCallback(
    (quizId: string) => {
      if (fetchTimer.current) return;
      const wait = Math.max(0, RESULTS_EVERY_MS - (Date.now() - lastFetch.current));
      fetchTimer.current = setTimeout(() => {
        fetchTimer.current = undefined;
        void loadResults(quizId);
      }, wait);
    },
    [loadResults],
  );

  const follow = useCallback(
    (quiz: QuizInfo, runId: string, closesAt: string | null, status: 'open' | 'closed') => {
      setRun({
        quiz,
        runId,
        closesAt,
        status,
        revealed: false,
        answered: 0,
        correct: 0,
        counts: quiz.options.map(() => 0),
        results: null,
      });
      void loadResults(quiz.id);
    },
    [loadResults],
  );

  // The bank at start; follow a run that is open now.
  useEffect(() => {
    setRun(null);
    void loadBank().then((list) => {
      const open = list.find((q) => runStatus(q) === 'open');
      if (open) follow(open, open.lastRun?.runId ?? '', open.lastRun?.closesAt ?? null, 'open');
    });
    return () => clearTimeout(fetchTimer.current);
  }, [classId]);

  useEffect(() => {
    if (!channel) return;
    const R = { replay: true };
    const offs = [
      channel.on(
        'quiz.opened',
        (e) => {
          const inBank = bankRef.current.find((q) => q.id === e.quiz.id);
          follow({ ...e.quiz, ...inBank }, e.quiz.runId, e.quiz.closesAt, 'open');
          void loadBank();
        },
        R,
      ),
      channel.on(
        'quiz.results',
        (e) => {
          setRun((cur) =>
            sameRun(cur, e)
              ? { ...cur, runId: e.runId, answered: e.answered, correct: e.correct, counts: e.counts }
              : cur,
          );
          scheduleResults(e.quizId);
        },
        R,
      ),
      channel.on(
        'quiz.closed',
        (e) => {
          setRun((cur) => (sameRun(cur, e) ? { ...cur, status: 'closed' } : cur));
          void loadResults(e.quizId);
          void loadBank();
        },
        R,
      ),
      channel.on(
        'quiz.revealed',
        (e) =>
          setRun((cur) =>
            sameRun(cur, e)
              ? { ...cur, status: 'closed', revealed: true, counts: e.counts, answered: e.answered }
              : cur,
          ),
        R,
      ),
    ];
    return () => offs.forEach((off) => off());
  }, [channel]);

  const call = async (method: string, path: string) => {
    setError(null);
    try {
      await api(method, path);
    } catch (e) {
      setError(e);
      throw e;
    }
  };
  const push = (q: QuizInfo) => call('POST', `/api/quizzes/${q.id}/open`).catch(() => {});
  const remove = async (q: QuizInfo) => {
    await call('DELETE', `/api/quizzes/${q.id}`).catch(() => {});
    await loadBank();
  };
  const anyOpen = run?.status === 'open' || bank.some((q) => runStatus(q) === 'open');

  return (
    <Card
      id="quizzes"
      title={t('quiz.title')}
      class="quiz-card"
      actions={
        !editing && (
          <button type="button" class="btn" id="quiz-new" onClick={() => setEditing(true)}>
            {t('quiz.new')}
          </button>
        )
      }
    >
      <ErrorLine error={error} id="quiz-error" />
      {run && (
        <QuizLive
          run={run}
          onClose={() => call('POST', `/api/quizzes/${run.quiz.id}/close`)}
          onReveal={() => call('POST', `/api/quizzes/${run.quiz.id}/reveal`)}
          onDismiss={() => setRun(null)}
        />
      )}
      {editing && (
        <QuizEditor
          key={initial.n}
          classId={classId}
          initial={initial.value}
          onCancel={() => {
            setEditing(false);
            setInitial((cur) => ({ n: cur.n + 1 }));
          }}
          onSaved={() => {
            setEditing(false);
            setInitial((cur) => ({ n: cur.n + 1 }));
            void loadBank();
          }}
        />
      )}
      <h3 class="sub">{t('quiz.bank', { n: bank.length })}</h3>
      {!props.live && <p class="hint">{t('quiz.needsLive')}</p>}
      {bank.length === 0 ? (
        <p class="hint">{t('quiz.empty')}</p>
      ) : (
        <ul class="quiz-bank" id="quiz-bank">
          {bank.map((q) => (
            <li key={q.id} data-quiz-id={q.id} data-kind={q.kind} data-status={runStatus(q) ?? 'new'}>
              <div class="qb-text">
                <span class="qb-q">{q.question}</span>
                <span class="qb-meta">
                  {t(`quiz.kind.${q.kind}`)} · {t('quiz.seconds', { s: q.timeLimitSec })}
                  {q.anonymous ? ` · ${t('quiz.anonymousShort')}` : ''}
                  {runStatus(q) ? ` · ${t(runStatus(q) === 'open' ? 'quiz.open' : 'quiz.pushedBefore')}` : ''}
                </span>
              </div>
              <button
                type="button"
                class="btn primary small quiz-push"
                disabled={!props.live || anyOpen}
                aria-label={t('quiz.pushName', { q: q.question })}
                onClick={() => push(q)}
              >
                {t('quiz.push')}
              </button>
              <Confirm
                label={t('quiz.delete')}
                question={t('quiz.deleteQ')}
                class="btn small ghost quiz-delete"
                danger
                disabled={runStatus(q) === 'open'}
                onConfirm={() => remove(q)}
              />
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
