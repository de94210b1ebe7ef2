/**
 * The dashboard's charts, on Chart.js like charts.tsx: the class trend (a line per figure over
 * the lessons: attendance on the right axis, accuracy and engagement in percent on the left)
 * and a series over the time of one lesson (engagement, viewers: a line; chat per minute:
 * bars). Each canvas is an image with a text label; the figures are also in the tables beside.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { ClassReportLesson } from '../lib/report-types.ts';

const TEXT = '#c9d1dc';
const GRID = 'rgba(255,255,255,0.08)';
/** Colours of the three trend lines: attendance, accuracy, engagement. */
export const TREND_COLORS = { attendance: '#f59e0b', accuracy: '#2fbf71', engagement: '#4f8cff' } as const;

let registered = false;
/** Registers the Chart.js parts used here (once per page). */
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
    Legend,
    Filler,
  );
  registered = true;
}

/** The trend of a class: one point per lesson for each figure; null values leave a gap. */
export function TrendChart(props: {
  lessons: ClassReportLesson[];
  /** x labels, one per lesson ("3회차"). */
  labels: string[];
  names: { attendance: string; accuracy: string; engagement: string };
  label: string;
}): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line', (number | null)[], string> | null>(null);
  const lessons = props.lessons;
  const datasets = (): ChartDataset<'line', (number | null)[]>[] => [
    line(
      props.names.attendance,
      TREND_COLORS.attendance,
      lessons.map((l) => l.attendance),
      'count',
    ),
    line(
      props.names.accuracy,
      TREND_COLORS.accuracy,
      lessons.map((l) => (l.accuracy === null ? null : Math.round(l.accuracy * 100))),
      'pct',
    ),
    line(
      props.names.engagement,
      TREND_COLORS.engagement,
      lessons.map((l) => (l.engagement === null ? null : Math.round(l.engagement))),
      'pct',
    ),
  ];

  useEffect(() => {
    ensureRegistered();
    const c = new Chart<'line', (number | null)[], string>(canvas.current!, {
      type: 'line',
      data: { labels: props.labels, datasets: datasets() },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { labels: { color: TEXT, boxWidth: 12 } },
          tooltip: { mode: 'index', intersect: false },
        },
        scales: {
          x: { ticks: { color: TEXT, maxRotation: 0 }, grid: { display: false } },
          pct: {
            position: 'left',
            min: 0,
            max: 100,
            ticks: { color: TEXT, stepSize: 25 },
            grid: { color: GRID },
          },
          count: {
            position: 'right',
            beginAtZero: true,
            ticks: { color: TREND_COLORS.attendance, precision: 0 },
            grid: { display: false },
          },
        },
      },
    });
    chart.current = c;
    return () => c.destroy();
  }, []);

  useEffect(() => {
    const c = chart.current;
    if (!c) return;
    c.data.labels = props.labels;
    c.data.datasets = datasets();
    c.update('none');
  }, [lessons, props.labels.join('\u0000'), props.names.attendance]);

  return (
    <div class="chart-box trend" id="dash-trend-chart">
      <canvas ref={canvas} role="img" aria-label={props.label} data-lessons={lessons.length} />
    </div>
  );
}

/** A trend line on the percent (`pct`) or count axis. */
function line(
  label: string,
  color: string,
  data: (number | null)[],
  axis: 'pct' | 'count',
): ChartDataset<'line', (number | null)[]> {
  return {
    label,
    data,
    yAxisID: axis,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 2,
    pointRadius: 3,
    tension: 0.2,
    spanGaps: true,
  };
}

/** A series over one lesson's time: x labels are clock times, `max` fixes the top (100 for scores). */
export function TimeChart(props: {
  at: string[];
  values: number[];
  kind: 'line' | 'bar';
  label: string;
  lang: string;
  color?: string;
  max?: number;
  id?: string;
}): JSX.Element {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const color = props.color ?? TREND_COLORS.engagement;
  const labels = props.at.map((iso) =>
    new Date(iso).toLocaleTimeString(props.lang, { hour: 'numeric', minute: '2-digit' }),
  );

  useEffect(() => {
    ensureRegistered();
    const c = new Chart(canvas.current!, {
      type: props.kind,
      data: {
        labels,
        datasets: [
          props.kind === 'line'
            ? {
                data: props.values,
                borderColor: color,
                backgroundColor: 'rgba(79,140,255,0.15)',
                fill: true,
                pointRadius: 0,
                borderWidth: 2,
                tension: 0.25,
              }
            : { data: props.values, backgroundColor: color, borderRadius: 3 },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false }, tooltip: { intersect: false, mode: 'index' } },
        scales: {
          x: { ticks: { color: TEXT, maxTicksLimit: 6, maxRotation: 0 }, grid: { display: false } },
          y: {
            min: 0,
            max: props.max,
            beginAtZero: true,
            ticks: { color: TEXT, precision: 0 },
            grid: { color: GRID },
          },
        },
      },
    });
    chart.current = c;
    return () => c.destroy();
  }, [props.kind, props.lang, props.at.length, props.values.join(',')]);

  return (
    <div class="chart-box line report-chart" id={props.id}>
      <canvas ref={canvas} role="img" aria-label={props.label} data-points={props.values.length} />
    </div>
  );
}
