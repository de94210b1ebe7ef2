/**
 * The class engagement curve under the replay video (Chart.js line, score 0–100 over seconds
 * of the recording), with the quiz chapters as dashed markers and a playhead that follows the
 * video. It is also a seek bar: a click moves the video to that moment, and as a focusable
 * slider ← → move 10 s, Page Up / Page Down a minute, Home / End to the ends.
 */
import {
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type Plugin,
} from 'chart.js';
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { clockPos } from '../lib/format.ts';
import { useI18n } from '../lib/i18n.ts';
import type { ReplayChapter, ReplayData } from '../lib/report-types.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

const TEXT = '#c9d1dc';
const GRID = 'rgba(255,255,255,0.08)';
const LINE = '#4f8cff';
const MARK = '#f59e0b';
const HEAD = '#ffffff';

/** Seconds a key moves the playhead. */
const STEP: Record<string, number> = { ArrowLeft: -10, ArrowRight: 10, PageDown: -60, PageUp: 60 };

/** The engagement score at `sec`: the last sample at or before it (null before the first). */
export function scoreAt(points: ReplayData['engagement'], sec: number): number | null {
  let found: number | null = null;
  for (const p of points) {
    if (p.atSec > sec) break;
    found = p.score;
  }
  return found;
}

/** What the overlay plugin reads on each draw (kept in a ref: no chart rebuild per tick). */
interface Overlay {
  now: number;
  chapters: ReplayChapter[];
}

/** Draws the chapter markers (Q1, Q2 …) and the playhead over the line. */
function overlayPlugin(state: { current: Overlay }): Plugin<'line'> {
  return {
    id: 'replayOverlay',
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart;
      const x = chart.scales.x;
      if (!x) return;
      ctx.save();
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      state.current.chapters.forEach((c, i) => {
        const px = x.getPixelForValue(c.atSec);
        if (px < chartArea.left - 1 || px > chartArea.right + 1) return;
        ctx.strokeStyle = MARK;
        ctx.fillStyle = MARK;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        ctx.moveTo(px, chartArea.top + 12);
        ctx.lineTo(px, chartArea.bottom);
        ctx.stroke();
        ctx.fillText(`Q${i + 1}`, px, chartArea.top + 9);
      });
      const hx = x.getPixelForValue(state.current.now);
      if (hx >= chartArea.left && hx <= chartArea.right) {
        ctx.setLineDash([]);
        ctx.strokeStyle = HEAD;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(hx, chartArea.top);
        ctx.lineTo(hx, chartArea.bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

/** The curve; `now` is the video's position, `total` the recording's length (seconds). */
export function ReplayChart(props: {
  engagement: ReplayData['engagement'];
  chapters: ReplayChapter[];
  now: number;
  total: number;
  onSeek: (sec: number) => void;
}): JSX.Element {
  const { t } = useI18n();
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'line'> | null>(null);
  const overlay = useRef<Overlay>({ now: props.now, chapters: props.chapters });
  const seek = useRef(props.onSeek);
  seek.current = props.onSeek;
  const total = Math.max(1, props.total);
  const points = props.engagement.map((p) => ({ x: p.atSec, y: Math.round(p.score) }));

  useEffect(() => {
    const c = new Chart(canvas.current!, {
      type: 'line',
      data: {
        datasets: [
          {
            data: points,
            borderColor: LINE,
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
        parsing: false,
        layout: { padding: { top: 4 } },
        plugins: {
          legend: { display: false },
          tooltip: {
            intersect: false,
            mode: 'nearest',
            axis: 'x',
            callbacks: { title: (items) => clockPos(items[0]?.parsed.x ?? 0) },
          },
        },
        scales: {
          x: {
            type: 'linear',
            min: 0,
            max: total,
            ticks: { color: TEXT, maxTicksLimit: 8, maxRotation: 0, callback: (v) => clockPos(Number(v)) },
            grid: { display: false },
          },
          y: { min: 0, max: 100, ticks: { color: TEXT, stepSize: 50 }, grid: { color: GRID } },
        },
        onClick: (event, _elements, ch) => {
          const x = ch.scales.x;
          if (!x || event.x === null) return;
          const sec = x.getValueForPixel(event.x);
          if (sec !== undefined) seek.current(Math.min(total, Math.max(0, sec)));
        },
      },
      plugins: [overlayPlugin(overlay)],
    });
    chart.current = c;
    return () => {
      c.destroy();
      chart.current = null;
    };
  }, []);

  // New data or length: update the chart in place.
  useEffect(() => {
    overlay.current.chapters = props.chapters;
    const c = chart.current;
    if (!c) return;
    c.data.datasets[0]!.data = points;
    const x = c.options.scales?.x;
    if (x) x.max = total;
    c.update('none');
  }, [props.engagement, props.chapters, total]);

  // The playhead: redraw only.
  useEffect(() => {
    overlay.current.now = props.now;
    chart.current?.draw();
  }, [props.now]);

  const onKey = (e: KeyboardEvent) => {
    let to: number | null = null;
    if (e.key in STEP) to = props.now + STEP[e.key]!;
    else if (e.key === 'Home') to = 0;
    else if (e.key === 'End') to = total;
    if (to === null) return;
    e.preventDefault();
    props.onSeek(Math.min(total, Math.max(0, to)));
  };

  const score = scoreAt(props.engagement, props.now);
  const vars = {
    at: clockPos(props.now),
    total: clockPos(total),
    score: score === null ? '' : Math.round(score),
  };
  return (
    <div
      class="replay-curve"
      id="replay-curve"
      role="slider"
      tabIndex={0}
      aria-label={t('replay.curveLabel')}
      aria-valuemin={0}
      aria-valuemax={Math.round(total)}
      aria-valuenow={Math.round(props.now)}
      aria-valuetext={t(score === null ? 'replay.curveValueNone' : 'replay.curveValue', vars)}
      onKeyDown={onKey}
    >
      <canvas ref={canvas} aria-hidden="true" data-points={points.length} />
    </div>
  );
}
