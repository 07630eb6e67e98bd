/**
 * The Prometheus registry and the helper every component uses to declare its counters.
 *
 * Telemetry is a small set of named events: a component creates its counters once through
 * `counter()`/`gauge()`/`histogram()` (idempotent per name, so two instances in one test
 * process share them) and bumps a counter together with one structured log line when
 * something notable happens. Nothing logs per record.
 *
 * Label values are bounded per metric: some come from what clients send (the InfluxDB
 * writer's `measurement` is the fluentd tag of unrouted entries), and each distinct label set
 * is a series held in memory and printed on every scrape. Past `MAX_SERIES_PER_METRIC` label
 * sets, new ones are counted under one series whose labels are all `_other`, so totals stay
 * right and memory stays bounded; the label sets seen first keep their own series.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const MAX_SERIES_PER_METRIC = 1000;
export const OVERFLOW_LABEL_VALUE = '_other';

type LabelValues = Record<string, string | number | undefined>;

/** Routes every way prom-client takes labels through the per-metric series cap. */
function capSeries<M extends object>(metric: M, labelNames: readonly string[]): M {
  if (labelNames.length === 0) return metric;
  const seen = new Set<string>();
  const overflow: LabelValues = Object.fromEntries(
    labelNames.map((n) => [n, OVERFLOW_LABEL_VALUE]),
  );
  const only = labelNames.length === 1 ? labelNames[0]! : undefined;
  const bound = (labels: LabelValues): LabelValues => {
    const key =
      only !== undefined
        ? String(labels[only])
        : labelNames.map((n) => String(labels[n] ?? '')).join('\u0000');
    if (seen.has(key)) return labels;
    if (seen.size < MAX_SERIES_PER_METRIC) {
      seen.add(key);
      return labels;
    }
    return overflow;
  };
  const m = metric as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['inc', 'dec', 'set', 'observe', 'startTimer', 'zero']) {
    const original = m[method];
    if (typeof original !== 'function') continue;
    m[method] = function (this: unknown, first?: unknown, ...rest: unknown[]) {
      return typeof first === 'object' && first !== null
        ? original.call(this, bound(first as LabelValues), ...rest)
        : original.call(this, first, ...rest);
    };
  }
  const labels = m.labels;
  if (typeof labels === 'function') {
    m.labels = function (this: unknown, ...args: unknown[]) {
      const given =
        typeof args[0] === 'object' && args[0] !== null
          ? (args[0] as LabelValues)
          : Object.fromEntries(labelNames.map((n, i) => [n, args[i] as string | number]));
      return labels.call(this, bound(given));
    };
  }
  return metric;
}

export function createMetricsRegistry(opts: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (opts.processMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'fleetline_' });
  return registry;
}

export function counter<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return capSeries(new Counter({ name, help, labelNames, registers: [registry] }), labelNames);
}

export function gauge<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  collect?: (this: Gauge<L>) => void | Promise<void>,
): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return capSeries(
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      ...(collect ? { collect } : {}),
    }),
    labelNames,
  );
}

export function histogram<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets?: number[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return capSeries(
    new Histogram({
      name,
      help,
      labelNames,
      registers: [registry],
      ...(buckets ? { buckets } : {}),
    }),
    labelNames,
  );
}
