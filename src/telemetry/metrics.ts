/**
 * The Prometheus registry and the helper every component uses to declare its counters.
 *
 * Telemetry is a small set of named events: a component creates its counters once through
 * `counter()`/`gauge()`/`histogram()` (idempotent per name, so two instances in one test
 * process share them) and bumps a counter together with one structured log line when
 * something notable happens. Nothing logs per record.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

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
  return new Counter({ name, help, labelNames, registers: [registry] });
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
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    ...(collect ? { collect } : {}),
  });
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
  return new Histogram({
    name,
    help,
    labelNames,
    registers: [registry],
    ...(buckets ? { buckets } : {}),
  });
}
