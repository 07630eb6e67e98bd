/** Dependencies for tests: silent logger, real or fake clock, a private metrics registry. */
import type { Deps } from '../../src/core/deps.ts';
import { systemClock } from '../../src/core/deps.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createMetricsRegistry } from '../../src/telemetry/metrics.ts';
import type { FakeClock } from './fake-clock.ts';

export function testDeps(overrides: Partial<Deps> = {}): Deps {
  return {
    log: silentLogger(),
    clock: systemClock,
    metrics: createMetricsRegistry({ processMetrics: false }),
    ...overrides,
  };
}

/** Reads a counter's value (sum over label sets matching `labels`). */
export async function metricValue(
  deps: Deps,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = deps.metrics.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export type { FakeClock };
