import { describe, expect, it } from 'vitest';
import {
  counter,
  createMetricsRegistry,
  gauge,
  histogram,
  MAX_SERIES_PER_METRIC,
} from '../../src/telemetry/metrics.ts';

const seriesOf = async (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`));

describe('metrics › label cardinality', () => {
  it('folds label values past the per-metric cap into one "_other" series, keeping the total', async () => {
    // Measurement names come from client-chosen fluentd tags: without a cap, a client that
    // puts a request id in its tags grows /metrics and the process without bound.
    const r = createMetricsRegistry({ processMetrics: false });
    const c = counter(r, 'fleetline_test_points_total', 'points', ['measurement']);
    const n = MAX_SERIES_PER_METRIC + 500;
    for (let i = 0; i < n; i++) c.inc({ measurement: `m${i}` }, 2);
    const lines = await seriesOf(await r.metrics(), 'fleetline_test_points_total');
    expect(lines).toHaveLength(MAX_SERIES_PER_METRIC + 1);
    expect(lines).toContain(`fleetline_test_points_total{measurement="_other"} ${2 * 500}`);
    const total = lines.reduce((s, l) => s + Number(l.split(' ').at(-1)), 0);
    expect(total).toBe(2 * n);
    // A value seen before the cap keeps its own series.
    c.inc({ measurement: 'm0' });
    expect(await r.metrics()).toContain('fleetline_test_points_total{measurement="m0"} 3');
  });

  it('caps labels given positionally, gauges and histograms too', async () => {
    const r = createMetricsRegistry({ processMetrics: false });
    const c = counter(r, 'fleetline_test_a_total', 'a', ['peer']);
    const g = gauge(r, 'fleetline_test_b', 'b', ['peer']);
    const h = histogram(r, 'fleetline_test_c_seconds', 'c', ['peer'], [1]);
    for (let i = 0; i < MAX_SERIES_PER_METRIC + 10; i++) {
      c.labels(`p${i}`).inc();
      g.set({ peer: `p${i}` }, 1);
      h.observe({ peer: `p${i}` }, 0.5);
    }
    const text = await r.metrics();
    expect(await seriesOf(text, 'fleetline_test_a_total')).toHaveLength(MAX_SERIES_PER_METRIC + 1);
    expect(await seriesOf(text, 'fleetline_test_b')).toHaveLength(MAX_SERIES_PER_METRIC + 1);
    expect(await seriesOf(text, 'fleetline_test_c_seconds_count')).toHaveLength(
      MAX_SERIES_PER_METRIC + 1,
    );
  });

  it('leaves metrics without labels, and small label sets, as they are', async () => {
    const r = createMetricsRegistry({ processMetrics: false });
    const plain = counter(r, 'fleetline_test_plain_total', 'plain');
    plain.inc(3);
    const c = counter(r, 'fleetline_test_small_total', 'small', ['reason']);
    c.inc({ reason: 'x' });
    c.labels('y').inc(2);
    const text = await r.metrics();
    expect(text).toContain('fleetline_test_plain_total 3');
    expect(text).toContain('fleetline_test_small_total{reason="x"} 1');
    expect(text).toContain('fleetline_test_small_total{reason="y"} 2');
    // idempotent per name: the second call returns the same (capped) metric
    expect(counter(r, 'fleetline_test_small_total', 'small', ['reason'])).toBe(c);
  });

  it('escapes label values and help text in the exposition format', async () => {
    const r = createMetricsRegistry({ processMetrics: false });
    counter(r, 'fleetline_test_esc_total', 'a "help"\nwith \\ newline', ['m']).inc({
      m: 'a"b\\c\nd',
    });
    const text = await r.metrics();
    expect(text).toContain('# HELP fleetline_test_esc_total a "help"\\nwith \\\\ newline');
    expect(text).toContain('# TYPE fleetline_test_esc_total counter');
    expect(text).toContain('fleetline_test_esc_total{m="a\\"b\\\\c\\nd"} 1');
  });
});
