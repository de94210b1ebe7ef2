/**
 * The two charts of the teacher's pages, on Chart.js: the quiz's per-option bar chart (console
 * and projector; the canvas carries `data-counts="1,2,0"` for tests and a text alternative for
 * screen readers) and the class engagement line. Chart.js draws on a canvas and updates in
 * place (no re-creation per push), animations short so a live count reads at once.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Filler,
} from 'chart.js';
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { EngagementPoint } from './types.ts';

let registered = false;
/** Registers the Chart.js parts we use (idempotent; Chart.js keeps one registry per page). */
function ensureRegistered(): void {
  if (registered) return;
  Chart.register(
    BarController,
    BarElement,
    CategoryScale,
    LinearScale,
    LineController,
    LineElement,
    PointElement,
    Tooltip,
    Filler,
  );
  registered = true;
}

const TEXT = '#c9d1dc';
const GRID = 'rgba(255,255,255,0.08)';
const BAR = '#4f8cff';
const BAR_CORRECT = '#2fbf71';

/** Option labels under the bars: "A", "B", … or the option text when short. */
export function optionLabels(options: string[]): string[] {
  return options.map((o, i) => {
    const letter = String.fromCharCode(65 + i);
    return o.length <= 14 ? `${letter}. ${o}` : letter;
  });
}

/**
 * A bar per option with its count. `correct`: indexes drawn green (after reveal, or always for
 * the teacher). `big`: projector sizes.
 */
export function QuizChart(props: {
  options: string[];
  counts: number[];
  correct?: number[];
  label: string;
  big?: boolean;
  id?: string;
}): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | null>(null);
  const counts = props.options.map((_, i) => props.counts[i] ?? 0);
  const colors = props.options.map((_, i) => (props.correct?.includes(i) ? BAR_CORRECT : BAR));
  const labels = optionLabels(props.options);
  const fontSize = props.big ? 28 : 13;

  useEffect(() => {
    ensureRegistered();
    const c = new Chart(canvas.current!, {
      type: 'bar',
      data: { labels, datasets: [{ data: counts, backgroundColor: colors, borderRadius: 6 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 200 },
        plugins: { legend: { display: false }, tooltip: { enabled: !props.big } },
        scales: {
          x: { ticks: { color: TEXT, font: { size: fontSize } }, grid: { display: false } },
          y: {
            beginAtZero: true,
            ticks: { color: TEXT, precision: 0, font: { size: fontSize } },
            grid: { color: GRID },
          },
        },
      },
    });
    chart.current = c;
    return () => {
      c.destroy();
      chart.current = null;
    };
  }, [props.options.join('\u0000'), props.big]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = labels;
    const ds = c.data.datasets[0]!;
    ds.data = counts;
    ds.backgroundColor = colors;
    c.update();
  }, [counts.join(','), colors.join(',')]);

  const summary = labels.map((l, i) => `${l}: ${counts[i]}`).join(', ');
  return (
    <div class={`chart-box${props.big ? ' big' : ''}`} id={props.id}>
      <canvas
        ref={canvas}
        data-counts={counts.join(',')}
        role="img"
        aria-label={`${props.label}. ${summary}`}
      />
    </div>
  );
}

/** The class score over time (0–100), newest at the right. */
export function EngagementChart(props: {
  series: EngagementPoint[];
  label: string;
  lang: string;
}): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line'> | null>(null);
  const labels = props.series.map((p) =>
    new Date(p.at).toLocaleTimeString(props.lang, { hour: 'numeric', minute: '2-digit' }),
  );
  const data = props.series.map((p) => Math.round(p.class));

  useEffect(() => {
    ensureRegistered();
    const c = new Chart(canvas.current!, {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            data,
            borderColor: BAR,
            backgroundColor: 'rgba(79,140,255,0.15)',
            fill: true,
            pointRadius: 0,
            borderWidth: 2,
            tension: 0.25,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false }, tooltip: { intersect: false, mode: 'index' } },
        scales: {
          x: { ticks: { color: TEXT, maxTicksLimit: 3, maxRotation: 0 }, grid: { display: false } },
          y: { min: 0, max: 100, ticks: { color: TEXT, stepSize: 50 }, grid: { color: GRID } },
        },
      },
    });
    chart.current = c;
    return () => c.destroy();
  }, [props.lang]);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = labels;
    c.data.datasets[0]!.data = data;
    c.update();
  }, [props.series]);

  const last = data.at(-1);
  return (
    <div class="chart-box line">
      <canvas
        ref={canvas}
        role="img"
        aria-label={last === undefined ? props.label : `${props.label}: ${last}`}
      />
    </div>
  );
}
