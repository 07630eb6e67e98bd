/**
 * The spool's named telemetry: counters for commits and deliveries, gauges read from `stats()`
 * when scraped, and the delivery-lag histogram. Created once per spool; the metric helpers are
 * idempotent per name, so two spools in one registry share the series.
 */
import type { Deps } from '../core/deps.ts';
import { counter, gauge, histogram } from '../telemetry/metrics.ts';
import type { SpoolStats } from './contract.ts';

export interface SpoolStatsDetail extends SpoolStats {
  /** Per consumer: entries not yet confirmed. */
  lagEntries: Record<string, number>;
}

export function createSpoolTelemetry(deps: Deps, stats: () => SpoolStatsDetail) {
  const m = deps.metrics;
  gauge(m, 'fleetline_spool_depth_entries', 'entries stored in the spool', [], function () {
    this.set(stats().entries);
  });
  gauge(m, 'fleetline_spool_depth_batches', 'batches stored in the spool', [], function () {
    this.set(stats().batches);
  });
  gauge(m, 'fleetline_spool_depth_bytes', 'encoded bytes stored in the spool', [], function () {
    this.set(stats().bytes);
  });
  gauge(
    m,
    'fleetline_spool_oldest_age_seconds',
    'age of the oldest batch not yet confirmed by every consumer',
    [],
    function () {
      this.set(stats().oldestAgeMs / 1000);
    },
  );
  gauge(
    m,
    'fleetline_spool_consumer_lag_batches',
    'batches a consumer has not confirmed yet',
    ['consumer'],
    function () {
      for (const [consumer, n] of Object.entries(stats().lag)) this.set({ consumer }, n);
    },
  );
  gauge(
    m,
    'fleetline_spool_consumer_lag_entries',
    'entries a consumer has not confirmed yet',
    ['consumer'],
    function () {
      for (const [consumer, n] of Object.entries(stats().lagEntries)) this.set({ consumer }, n);
    },
  );
  return {
    commits: counter(m, 'fleetline_spool_commits_total', 'group commits of appended batches'),
    committedBatches: counter(
      m,
      'fleetline_spool_committed_batches_total',
      'batches made durable (divide by commits for batches per commit)',
    ),
    committedEntries: counter(m, 'fleetline_spool_committed_entries_total', 'entries made durable'),
    commitFailures: counter(
      m,
      'fleetline_spool_commit_failures_total',
      'group commits that failed; their batches were rejected as retryable',
    ),
    batchesPerCommit: histogram(
      m,
      'fleetline_spool_batches_per_commit',
      'batches sharing one group commit',
      [],
      [1, 2, 4, 8, 16, 32, 64, 128, 256],
    ),
    backpressureWaits: counter(
      m,
      'fleetline_spool_backpressure_waits_total',
      'consume calls that had to wait for room',
    ),
    backpressureRejects: counter(
      m,
      'fleetline_spool_backpressure_rejected_total',
      'consume calls rejected because the spool stayed full',
    ),
    tooLarge: counter(
      m,
      'fleetline_spool_batch_too_large_total',
      'batches rejected because they are larger than the whole spool',
    ),
    delivered: counter(
      m,
      'fleetline_spool_delivered_batches_total',
      'batches a consumer confirmed',
      ['consumer'],
    ),
    retries: counter(
      m,
      'fleetline_spool_delivery_retries_total',
      'failed deliveries that will be offered again',
      ['consumer'],
    ),
    quarantined: counter(
      m,
      'fleetline_spool_quarantined_batches_total',
      'stored batches that could not be decoded, moved to spool_quarantine and skipped',
    ),
    deliveryLag: histogram(
      m,
      'fleetline_spool_delivery_lag_seconds',
      'time from receipt of a batch to its confirmation by a consumer',
      ['consumer'],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
    ),
  };
}

export type SpoolTelemetry = ReturnType<typeof createSpoolTelemetry>;
