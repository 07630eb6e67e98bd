/**
 * One consumer's delivery loop: read the next committed batches after the consumer's progress,
 * offer them, and on success advance the progress — in the same SQLite transaction as the
 * consumer's own write when `deliver` resolves to a function. On failure the same batches are
 * offered again after an exponential, jittered, capped backoff; nothing is ever skipped, so
 * order is preserved per consumer and every committed batch is delivered at least once.
 *
 * The loop sleeps when it has caught up and is woken by the spool after each commit, so a
 * batch is offered as soon as it is durable, without polling.
 */
import type { Deps } from '../core/deps.ts';
import type { Batch } from '../core/entry.ts';
import type { Db } from '../store/sqlite.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import type { BatchCodec } from './codec.ts';
import type { SpoolConsumer, SpooledBatch } from './contract.ts';
import type { SpoolTable } from './table.ts';
import type { SpoolTelemetry } from './telemetry.ts';

/** What `deliver` resolves to: nothing, or a write to run in the progress transaction. */
type DeliverResult = Awaited<ReturnType<SpoolConsumer['deliver']>>;

export interface DeliveryLoopOptions {
  db: Db;
  table: SpoolTable;
  codec: BatchCodec;
  backoff: BackoffPolicy;
  maxEntries: number;
  maxBytes: number;
  telemetry: SpoolTelemetry;
  /** The batch as handed to `consume`, if still in memory: saves decoding it again. */
  recent(seq: number): Batch | undefined;
  /** Runs inside the progress transaction with the consumer's new progress (deletion hook). */
  onConfirm(consumer: string, seq: number): void;
  /** Runs after the progress transaction committed. */
  afterConfirm(): void;
}

export interface DeliveryLoop {
  readonly name: string;
  /** Last seq this consumer confirmed (committed). */
  cursor(): number;
  start(): void;
  /** New batches may be there. */
  wake(): void;
  /** Stops after the in-flight delivery settles, or after `timeoutMs` without touching the db. */
  stop(timeoutMs: number): Promise<void>;
}

export function createDeliveryLoop(
  consumer: SpoolConsumer,
  opts: DeliveryLoopOptions,
  deps: Deps,
): DeliveryLoop {
  const name = consumer.name;
  let cursor = 0;
  let stopping = false;
  // Once set, a late-settling delivery must not touch the database (the store may be closed).
  let abandoned = false;
  let running: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let pendingWake = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const waitForWake = () =>
    new Promise<void>((resolve) => {
      if (pendingWake || stopping) {
        pendingWake = false;
        resolve();
        return;
      }
      wakeUp = () => {
        wakeUp = undefined;
        resolve();
      };
    });

  const confirm = (rows: readonly SpooledBatch[], result: DeliverResult) => {
    const last = rows[rows.length - 1]!.seq;
    opts.db.transaction(() => {
      if (typeof result === 'function') result(opts.db);
      opts.table.setProgress(name, last);
      opts.onConfirm(name, last);
    })();
    cursor = last;
    const now = deps.clock.now();
    for (const r of rows)
      opts.telemetry.deliveryLag.observe({ consumer: name }, (now - r.batch.receivedAt) / 1000);
    opts.telemetry.delivered.inc({ consumer: name }, rows.length);
  };

  const run = async () => {
    let attempt = 0;
    while (!stopping) {
      pendingWake = false;
      const rows = opts.table.readAfter(cursor, opts.maxEntries, opts.maxBytes);
      if (rows.length === 0) {
        await waitForWake();
        continue;
      }
      try {
        const spooled = rows.map(
          (r): SpooledBatch => ({
            seq: r.seq,
            firstEntrySeq: r.firstEntrySeq,
            batch: opts.recent(r.seq) ?? opts.codec.decode(r.payload),
          }),
        );
        const result = await consumer.deliver(spooled);
        if (abandoned) return;
        confirm(spooled, result);
        if (attempt > 0)
          deps.log.info(
            { event: 'spool_delivery_recovered', consumer: name, attempts: attempt + 1 },
            'spool delivery succeeded again',
          );
        attempt = 0;
        opts.afterConfirm();
      } catch (err) {
        if (abandoned) return;
        attempt++;
        const delayMs = backoffDelay(opts.backoff, attempt, Math.random());
        opts.telemetry.retries.inc({ consumer: name });
        deps.log.warn(
          {
            event: 'spool_delivery_failed',
            consumer: name,
            fromSeq: rows[0]!.seq,
            toSeq: rows[rows.length - 1]!.seq,
            attempt,
            delayMs,
            err: err instanceof Error ? err.message : String(err),
          },
          'spool delivery failed; offering the same batches again after a delay',
        );
        if (stopping) return;
        await sleep(delayMs);
      }
    }
  };

  return {
    name,
    cursor: () => cursor,
    start() {
      cursor = opts.table.progress(name);
      running = run().catch((err) => {
        // Only a bug gets here (run catches delivery errors); say so loudly.
        deps.log.error(
          { event: 'spool_loop_crashed', consumer: name, err: String(err) },
          'spool delivery loop crashed',
        );
      });
    },
    wake() {
      pendingWake = true;
      wakeUp?.();
    },
    async stop(timeoutMs) {
      stopping = true;
      wakeUp?.();
      if (!running) return;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
      const gaveUp = await Promise.race([running.then(() => false), timedOut]);
      clearTimeout(timer);
      if (gaveUp) {
        abandoned = true;
        deps.log.warn(
          { event: 'spool_stop_abandoned_delivery', consumer: name, timeoutMs },
          'a delivery was still in flight at stop; it will be offered again after restart',
        );
      }
    },
  };
}
