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
import type { SpoolTable, StoredRow } from './table.ts';
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
  const depth = Math.max(1, Math.floor(consumer.pipeline ?? 1));
  let cursor = 0;
  let stopping = false;
  // Once set, a late-settling delivery must not touch the database (the store may be closed).
  let abandoned = false;
  let running: Promise<void> | undefined;
  // Ends a wait for new batches: `wake()` (a commit) or `stop()`.
  let wakeUp: (() => void) | undefined;
  // Ends the backoff after a failure: only `stop()`. New commits must not, or a consumer whose
  // sink is down would be retried at the commit rate instead of backing off.
  let endBackoff: (() => void) | undefined;
  let pendingWake = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endBackoff = undefined;
        resolve();
      }
      endBackoff = done;
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

  /** One offered delivery; `outcome` is set once `deliver` settled. */
  interface Offer {
    /** Spool seqs of the first and last batch offered. */
    fromSeq: number;
    toSeq: number;
    /** The batches, once decoded (empty when decoding failed). */
    rows: SpooledBatch[];
    delivery: Promise<unknown>;
    settled: Promise<void>;
    outcome?: { ok: true; result: DeliverResult } | { ok: false; err: unknown };
  }

  const offer = (rows: SpooledBatch[]): Offer => {
    const delivery = consumer.deliver(rows);
    const o: Offer = {
      fromSeq: rows[0]!.seq,
      toSeq: rows[rows.length - 1]!.seq,
      rows,
      delivery,
      settled: Promise.resolve(),
    };
    o.settled = delivery.then(
      (result) => {
        o.outcome = { ok: true, result };
      },
      (err: unknown) => {
        o.outcome = { ok: false, err };
      },
    );
    return o;
  };

  /**
   * A stored batch that cannot be decoded would stop this consumer for good (and with it the
   * deletion of everything after it, until the spool is full and inputs are pushed back). Its
   * payload is kept in spool_quarantine, with the reason, and an empty batch takes its place,
   * so every consumer goes on; nothing is deleted.
   */
  const quarantine = (r: StoredRow, err: unknown): Batch => {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const empty: Batch = { entries: [], origin: { input: 'internal' }, receivedAt: r.receivedAt };
    const replacement = opts.codec.encode(empty);
    const moved = opts.db.transaction(() =>
      opts.table.quarantine(r.seq, replacement, reason, deps.clock.now()),
    )();
    if (moved) {
      opts.telemetry.quarantined.inc();
      deps.log.error(
        {
          event: 'spool_batch_quarantined',
          consumer: name,
          seq: r.seq,
          entries: r.entries,
          reason,
        },
        'a stored batch could not be decoded; kept in spool_quarantine and skipped',
      );
      opts.afterConfirm();
    }
    return empty;
  };

  const batchOf = (r: StoredRow): Batch => {
    const recent = opts.recent(r.seq);
    if (recent) return recent;
    // A failed read (the database) is retried; a payload that does not decode never will.
    const payload = opts.table.payload(r.seq);
    try {
      return opts.codec.decode(payload);
    } catch (err) {
      return quarantine(r, err);
    }
  };

  /** Reads and offers the batches after `fromSeq`; undefined when there are none. */
  const offerAfter = (fromSeq: number): Offer | undefined => {
    const rows = opts.table.readAfter(fromSeq, opts.maxEntries, opts.maxBytes);
    if (rows.length === 0) return undefined;
    let spooled: SpooledBatch[];
    try {
      spooled = rows.map(
        (r): SpooledBatch => ({ seq: r.seq, firstEntrySeq: r.firstEntrySeq, batch: batchOf(r) }),
      );
    } catch (err) {
      // A row that cannot be read fails like a delivery would: logged, retried after a backoff.
      const settled = Promise.resolve();
      return {
        fromSeq: rows[0]!.seq,
        toSeq: rows[rows.length - 1]!.seq,
        rows: [],
        delivery: settled,
        settled,
        outcome: { ok: false, err },
      };
    }
    return offer(spooled);
  };

  /**
   * Up to `depth` deliveries are in flight; they are confirmed strictly in spool order, so the
   * progress never passes a batch that was not handled. When one fails, the ones after it are
   * left to settle and then offered again (with `depth` > 1 a consumer must therefore be
   * idempotent — the InfluxDB writer is, re-writing a point changes nothing).
   */
  const run = async () => {
    let attempt = 0;
    let offeredUpTo = cursor;
    const queue: Offer[] = [];
    while (!stopping) {
      pendingWake = false;
      while (queue.length < depth) {
        const o = offerAfter(offeredUpTo);
        if (!o) break;
        queue.push(o);
        offeredUpTo = o.toSeq;
      }
      const head = queue[0];
      if (!head) {
        await waitForWake();
        continue;
      }
      // With room in the pipeline, new batches are worth offering before the head settles.
      if (!head.outcome) {
        if (queue.length < depth) await Promise.race([head.settled, waitForWake()]);
        else
          try {
            // Awaiting the delivery itself (not `settled`) confirms in the very turn it
            // resolves, as a single in-flight delivery always did.
            await head.delivery;
          } catch {
            // `outcome` holds the error.
          }
      }
      if (abandoned) return;
      if (!head.outcome) continue;
      queue.shift();
      if (head.outcome.ok)
        try {
          confirm(head.rows, head.outcome.result);
        } catch (err) {
          // The consumer's own write (run in the progress transaction) failed: rolled back.
          head.outcome = { ok: false, err };
        }
      if (head.outcome.ok) {
        if (attempt > 0)
          deps.log.info(
            { event: 'spool_delivery_recovered', consumer: name, attempts: attempt + 1 },
            'spool delivery succeeded again',
          );
        attempt = 0;
        opts.afterConfirm();
        continue;
      }
      // Failed: let the later offers settle, forget them, and start again after the backoff.
      await Promise.all(queue.map((o) => o.settled));
      if (abandoned) return;
      queue.length = 0;
      offeredUpTo = cursor;
      attempt++;
      const delayMs = backoffDelay(opts.backoff, attempt, Math.random());
      const err = head.outcome.err;
      opts.telemetry.retries.inc({ consumer: name });
      deps.log.warn(
        {
          event: 'spool_delivery_failed',
          consumer: name,
          fromSeq: head.fromSeq,
          toSeq: head.toSeq,
          attempt,
          delayMs,
          err: err instanceof Error ? err.message : String(err),
        },
        'spool delivery failed; offering the same batches again after a delay',
      );
      if (stopping) return;
      await sleep(delayMs);
    }
    // Stopping: whatever is still in flight settles, and what succeeded (in order) is confirmed
    // so that it is not offered again after the restart.
    for (const o of queue) {
      await o.settled;
      if (abandoned || !o.outcome?.ok) return;
      confirm(o.rows, o.outcome.result);
      // As after any confirmation: the spool's counters follow the rows it just deleted.
      opts.afterConfirm();
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
      endBackoff?.();
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
