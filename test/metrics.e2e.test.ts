import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { families, parseSamples, sampleValue, type Sample } from './helpers/metrics.ts';
import { startTestNode, type TestNode } from './helpers/node.ts';
import { publishTestPattern, type Publisher } from './helpers/publisher.ts';
import { until, whepView, type WeriftViewer } from './helpers/werift-viewer.ts';

/**
 * Prometheus metrics of a real node (issue 11 part 4): a real ffmpeg publishes RTMP, two werift
 * viewers play over WHEP, and a scrape of /metrics shows them — viewers per path and node,
 * RTP sent, ingest frame rate and bitrate, WHEP set-up times. The scrape passes
 * `promtool check metrics` without a remark, and every metric the Grafana dashboard
 * (deploy/grafana/airclass.json) queries is in it.
 */

const PROMTOOL = '/usr/bin/promtool';
const DASHBOARD = fileURLToPath(new URL('../deploy/grafana/airclass.json', import.meta.url));

/** PromQL words that are not metric names. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** Every metric name a PromQL expression reads (functions, label matchers, ranges stripped). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values ("$instance", regexes)
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors ([5m], [$__rate_interval])
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // grouping labels
  const names: string[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, word, call] = m;
    if (call || KEYWORDS.has(word!.toLowerCase())) continue;
    names.push(word!);
  }
  return names;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

describe('Prometheus metrics of a live node', () => {
  const path = 'live/metrics';
  let t: TestNode;
  let pub: Publisher;
  const viewers: WeriftViewer[] = [];
  let text = '';
  let samples: Sample[] = [];
  let receivedBefore = 0;
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${t.http}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  beforeAll(async () => {
    t = await startTestNode({});
    pub = publishTestPattern({
      url: `${t.rtmp}/metrics?token=${await t.token('teacher', path, ['publish'])}`,
      size: '640x360',
      rate: 30,
    });
    await until(() => t.node.registry.get(path)?.video !== undefined, 20_000, 'the publisher');
    const read = await t.token('student', path, ['read']);
    for (let i = 0; i < 2; i++) {
      const v = await whepView(`${t.http}/${path}/whep`, read);
      expect(v.status, v.answer).toBe(201);
      viewers.push(v);
      await v.connected;
    }
    await until(() => viewers.every((v) => v.received.video > 30), 15_000, 'video to both viewers');
    // The egress reports its totals each second; the frame rate is sampled each second.
    const deadline = Date.now() + 10_000;
    for (;;) {
      text = await scrape();
      samples = parseSamples(text);
      const packets = sampleValue(samples, 'airclass_rtp_packets_sent_total') ?? 0;
      const fps = sampleValue(samples, 'airclass_ingest_video_frames_per_second', { path }) ?? 0;
      if ((packets > 0 && fps > 0) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    // What the viewers had got by now was sent before the egress's next report (each second).
    receivedBefore = viewers.reduce((n, v) => n + v.received.video + v.received.audio, 0);
    await new Promise((r) => setTimeout(r, 1500));
    text = await scrape();
    samples = parseSamples(text);
  }, 90_000);

  afterAll(async () => {
    for (const v of viewers) await v.close().catch(() => undefined);
    await pub?.stop();
    await t?.stop();
  });

  it('shows both viewers, the RTP they were sent, and the ingest frame rate and bitrate', () => {
    expect(sampleValue(samples, 'airclass_viewers', { path, node: 'main' })).toBe(2);
    const packets = sampleValue(samples, 'airclass_rtp_packets_sent_total') ?? 0;
    expect(packets).toBeGreaterThan(0);
    // Every packet a viewer got was sent (and counted) first.
    expect(packets).toBeGreaterThanOrEqual(receivedBefore);
    expect(sampleValue(samples, 'airclass_rtp_sent_bytes_total')).toBeGreaterThan(packets * 12);
    const fps = sampleValue(samples, 'airclass_ingest_video_frames_per_second', { path }) ?? 0;
    expect(fps).toBeGreaterThan(5); // ffmpeg paces 30 fps in real time; a loaded machine lags
    expect(fps).toBeLessThan(45);
    expect(sampleValue(samples, 'airclass_ingest_bytes_per_second', { path })).toBeGreaterThan(2_000);
    expect(sampleValue(samples, 'airclass_ingest_video_frames_total', { path })).toBeGreaterThan(30);
    expect(sampleValue(samples, 'airclass_whep_setup_duration_seconds_count')).toBe(2);
    expect(
      sampleValue(samples, 'airclass_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/:app/:name/whep',
        status_class: '2xx',
      }),
    ).toBe(2);
  });

  it('passes promtool check metrics without a remark', () => {
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
  });

  it('has every metric the Grafana dashboard queries', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      schemaVersion: number;
      panels: Panel[];
      templating: { list: { name: string; type: string }[] };
    };
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(dash.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource' }),
    );
    const exprs: string[] = [];
    const walk = (ps: Panel[]): void => {
      for (const p of ps) {
        for (const target of p.targets ?? []) if (target.expr) exprs.push(target.expr);
        walk(p.panels ?? []);
      }
    };
    walk(dash.panels);
    expect(exprs.length).toBeGreaterThan(15);
    const declared = families(text);
    const missing: string[] = [];
    const names = new Set(exprs.flatMap(metricNames));
    for (const name of names) {
      const family = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
      const found =
        declared.has(name) ||
        (family !== undefined && ['histogram', 'summary'].includes(declared.get(family) ?? ''));
      if (!found) missing.push(name);
    }
    expect(missing).toEqual([]);
    // Each panel kind of the brief is there.
    for (const m of [
      'airclass_viewers',
      'airclass_ingest_bytes_per_second',
      'airclass_ingest_video_frames_per_second',
      'airclass_reader_dropped_frames_total',
      'airclass_whep_setup_duration_seconds_bucket',
      'airclass_rtp_packets_sent_total',
      'airclass_ws_sockets_open',
      'airclass_ws_messages_total',
      'airclass_quiz_answers_total',
      'airclass_http_request_duration_seconds_bucket',
      'airclass_nodejs_eventloop_lag_p99_seconds',
      'airclass_db_pool_connections',
    ]) {
      expect(names).toContain(m);
    }
  });

  it('reads the metric names out of PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(airclass_http_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(['airclass_http_request_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{x="y"}[5m])) * 8 / ignoring(z) b')).toEqual(['a_total', 'b']);
  });
});
