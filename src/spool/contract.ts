/**
 * The spool's contracts. The spool is the one place that buffers: inputs hand it batches
 * (`Consumer.consume` resolves once the batch is durably committed), and it delivers every
 * committed batch, in order, to each registered `SpoolConsumer`, keeping a separate progress
 * per consumer. An entry is deleted only once every consumer confirmed it.
 *
 *   inputs ──consume()──▶ [ spool table: seq │ first_entry_seq │ n │ bytes │ payload ]
 *                                │ progress per consumer (influxdb, rollup, …)
 *                                ▼
 *                   consumer.deliver(batches) — resolves → progress advances
 */
import type { Consumer } from '../core/consumer.ts';
import type { Batch } from '../core/entry.ts';
import type { Db } from '../store/sqlite.ts';

export interface SpooledBatch {
  /** Spool sequence number of the batch (monotonic, never reused). */
  seq: number;
  /**
   * Global sequence number of the batch's first entry; entry i has `firstEntrySeq + i`.
   * Stable across restarts, so anything derived from it (point timestamps) is idempotent.
   */
  firstEntrySeq: number;
  batch: Batch;
}

/**
 * A downstream of the spool. `deliver` receives batches in spool order; it resolves when they
 * are durably handled and the spool then advances this consumer's progress. Consumers whose
 * durable state lives in the same SQLite store resolve to a function instead: the spool runs it
 * inside the same transaction that advances the progress, so "applied" and "confirmed" can
 * never disagree after a crash. A rejection means "not handled, offer again later".
 *
 * Ownership: the batches are shared with the other consumers (a batch still in memory is handed
 * to every consumer as the very object the input passed to `consume`). Treat them as read-only;
 * copy what you need to change.
 */
export interface SpoolConsumer {
  readonly name: string;
  /**
   * How many `deliver` calls may be in flight at once (default 1). They are offered
   * consecutive batches and confirmed strictly in order; if one fails, the later ones are
   * offered again too. Only for idempotent consumers with independent deliveries (the InfluxDB
   * writer: a re-written point changes nothing), never for one whose delivery builds on the
   * state the previous one left (the rollup engine).
   */
  readonly pipeline?: number;
  deliver(batches: readonly SpooledBatch[]): Promise<void | ((db: Db) => void)>;
}

export interface SpoolStats {
  entries: number;
  batches: number;
  bytes: number;
  /** ms since the oldest unconfirmed batch was received; 0 when empty. */
  oldestAgeMs: number;
  /** Per consumer: batches not yet confirmed. */
  lag: Record<string, number>;
}

export interface Spool extends Consumer {
  /** True when a consume is expected to be accepted without waiting (HTTP asks first). */
  hasCapacity(): boolean;
  /**
   * Appends a batch inside the caller's open transaction (used by consumers that derive new
   * data, e.g. rollup points, atomically with their progress). Synchronous.
   */
  appendInTransaction(db: Db, batch: Batch): void;
  stats(): SpoolStats;
}
