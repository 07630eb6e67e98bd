/**
 * The durable spool: the one place in fleetline that buffers and pushes back.
 *
 * `consume(batch)` encodes the batch, waits for room if the spool is over `max_bytes`, and
 * resolves only once the batch is committed to SQLite — so an input may acknowledge its client
 * right after. Batches arriving close together share one transaction (group commit): the first
 * batch after a quiet period is committed on the next turn of the event loop, later ones wait
 * until `commit_interval` after the previous commit started, so a busy spool makes few large commits
 * while an idle one adds no latency. A commit is synchronous (better-sqlite3), so nothing can
 * arrive *during* one; whatever queued up meanwhile goes into the next.
 *
 * Durability: the store runs SQLite in WAL mode. With `synchronous = NORMAL` (default) a commit
 * is appended to the WAL without fsync; that survives the death of the process (kill -9, OOM)
 * because the data is in the OS page cache, but the last commits can be lost on power loss or
 * kernel crash. `spool.synchronous: full` fsyncs the WAL on every commit (survives power loss,
 * costs an fsync per group commit — group commit is what keeps that affordable). SQLite's
 * `synchronous` is per connection, so `full` applies to every writer of the shared store.
 *
 * Every registered consumer has a delivery loop (`delivery-loop.ts`) with its own progress
 * row; a row is deleted once every registered consumer confirmed it. After a restart every
 * batch a consumer had not confirmed is offered to it again (at least once).
 *
 *   consume ─encode─▶ [room? wait ≤ backpressure_timeout] ─▶ pending ─group commit─▶ spool_batches
 *                                                                   │ wake
 *                         ┌─────────────────────────────────────────┘
 *                         ▼
 *   loop(influxdb) ─deliver─▶ progress(influxdb)   loop(rollup) ─deliver─▶ progress(rollup)
 *                         └──────── min(progress) ─▶ DELETE seq <= min ────────┘
 */

import { parseDuration } from '../config/duration.ts';
import type { SpoolConfig } from '../config/schema.ts';
import type { Deps } from '../core/deps.ts';
import type { Batch } from '../core/entry.ts';
import { BackpressureError } from '../core/errors.ts';
import { type Component, component } from '../core/lifecycle.ts';
import type { Db, Store } from '../store/sqlite.ts';
import { createBatchCodec } from './codec.ts';
import type { Spool, SpoolConsumer } from './contract.ts';
import { createDeliveryLoop, type DeliveryLoop } from './delivery-loop.ts';
import { BatchLargerThanSpoolError, SpoolCommitError, SpoolStoppedError } from './errors.ts';
import {
  createSpoolTable,
  type RowToAppend,
  SPOOL_MIGRATIONS,
  type SpoolState,
  type SpoolTable,
} from './table.ts';
import { createSpoolTelemetry, type SpoolStatsDetail } from './telemetry.ts';

/** Pending bytes above which a commit is not worth delaying any longer. */
const COMMIT_NOW_BYTES = 8 * 1024 * 1024;
/** The memory cache holds at most this fraction of `max_bytes` (encoded): 64 MiB by default. */
const RECENT_SHARE_OF_MAX_BYTES = 16;

export interface DurableSpool extends Spool, Component {
  /** Adds a consumer; only before `start()`. Names must be unique and stable across restarts. */
  register(consumer: SpoolConsumer): void;
  stats(): SpoolStatsDetail;
}

interface PendingAppend extends RowToAppend {
  batch: Batch;
  resolve(): void;
  reject(err: Error): void;
}

interface RoomWaiter {
  item: PendingAppend;
  timer: NodeJS.Timeout;
}

export function createSpool(config: SpoolConfig, deps: Deps, store: Store): DurableSpool {
  const commitIntervalMs = parseDuration(config.commit_interval);
  const backpressureTimeoutMs = parseDuration(config.backpressure_timeout);
  const stopTimeoutMs = parseDuration(config.stop_timeout);
  const backoff = {
    initialMs: parseDuration(config.retry_initial),
    maxMs: parseDuration(config.retry_max),
  };
  const maxBytes = config.max_bytes;
  const codec = createBatchCodec();
  const consumers: SpoolConsumer[] = [];
  const loops: DeliveryLoop[] = [];

  let table: SpoolTable | undefined;
  let db: Db | undefined;
  let state: SpoolState = { nextSeq: 1, nextEntrySeq: 0, batches: 0, entries: 0, bytes: 0 };
  let accepting = false;
  let started = false;
  // Set at start: the loops are built then, so later consumers would never be served.
  let sealed = false;
  let deletedUpTo = 0;

  let pending: PendingAppend[] = [];
  let pendingBytes = 0;
  let commitTimer: { cancel(): void; immediate: boolean } | undefined;
  let lastCommitAt = Number.NEGATIVE_INFINITY;
  const roomWaiters: RoomWaiter[] = [];
  let wakeScheduled: NodeJS.Immediate | undefined;
  // Recently committed batches as handed to consume(), by seq, so that consumers keeping up
  // get them without decoding (decoding costs more than encoding). Insertion order is seq
  // order; a consumer that falls behind decodes from the table instead. Bounded by entries
  // and by encoded bytes: an entry count alone would let a consumer's outage keep up to the
  // whole spool (max_bytes) on the heap when records are large.
  const recent = new Map<number, { batch: Batch; bytes: number }>();
  let recentEntries = 0;
  let recentBytes = 0;
  const recentMaxEntries = config.memory_cache_entries;
  const recentMaxBytes = Math.floor(config.max_bytes / RECENT_SHARE_OF_MAX_BYTES);

  const forgetRecent = (upToSeq: number) => {
    for (const [seq, r] of recent) {
      if (seq > upToSeq && recentEntries <= recentMaxEntries && recentBytes <= recentMaxBytes)
        return;
      recent.delete(seq);
      recentEntries -= r.batch.entries.length;
      recentBytes -= r.bytes;
    }
  };

  const used = () => state.bytes + pendingBytes;

  const stats = (): SpoolStatsDetail => {
    const lag: Record<string, number> = {};
    const lagEntries: Record<string, number> = {};
    // After stop the store may be closed: answer from the cached counters only.
    const t = started ? table : undefined;
    const lastSeq = state.nextSeq - 1;
    const oldestSeqBefore = lastSeq - state.batches;
    for (const loop of loops) {
      const from = Math.max(loop.cursor(), oldestSeqBefore);
      lag[loop.name] = lastSeq - from;
      const firstEntry = lag[loop.name]! > 0 ? t?.firstEntrySeqAfter(from) : undefined;
      lagEntries[loop.name] = firstEntry === undefined ? 0 : state.nextEntrySeq - firstEntry;
    }
    const oldest = state.batches > 0 ? t?.oldestReceivedAt() : undefined;
    return {
      entries: state.entries,
      batches: state.batches,
      bytes: state.bytes,
      oldestAgeMs: oldest === undefined ? 0 : Math.max(0, deps.clock.now() - oldest),
      lag,
      lagEntries,
    };
  };

  const telemetry = createSpoolTelemetry(deps, stats);

  const refreshState = () => {
    if (table) state = table.state();
  };

  const wakeLoops = () => {
    for (const loop of loops) loop.wake();
  };

  /** Lets waiting consume calls in, oldest first, while their batches fit. */
  const admitWaiters = () => {
    while (roomWaiters.length > 0) {
      const w = roomWaiters[0]!;
      if (used() + w.item.payload.byteLength > maxBytes) return;
      roomWaiters.shift();
      clearTimeout(w.timer);
      enqueue(w.item);
    }
  };

  const commitNow = () => {
    commitTimer?.cancel();
    commitTimer = undefined;
    if (pending.length === 0) return;
    const items = pending;
    pending = [];
    pendingBytes = 0;
    // The window counts from the start of a commit: time spent committing (and the producers'
    // encoding meanwhile) is part of it, so a busy spool never idles just to honour the window.
    const startedAt = performance.now();
    try {
      if (!db || !table) throw new Error('spool is not started');
      const t = table;
      const { firstSeq } = db.transaction(() => t.append(items))();
      if (recentMaxEntries > 0) {
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!;
          recent.set(firstSeq + i, { batch: item.batch, bytes: item.payload.byteLength });
          recentEntries += item.entries;
          recentBytes += item.payload.byteLength;
        }
        forgetRecent(deletedUpTo);
      }
    } catch (err) {
      const error = new SpoolCommitError(err);
      telemetry.commitFailures.inc();
      deps.log.warn(
        { event: 'spool_commit_failed', batches: items.length, err: error.message },
        'spool commit failed; the batches were rejected as retryable',
      );
      for (const item of items) item.reject(error);
      admitWaiters();
      return;
    }
    lastCommitAt = startedAt;
    refreshState();
    let entries = 0;
    for (const item of items) entries += item.entries;
    telemetry.commits.inc();
    telemetry.committedBatches.inc(items.length);
    telemetry.committedEntries.inc(entries);
    telemetry.batchesPerCommit.observe(items.length);
    for (const item of items) item.resolve();
    wakeLoops();
  };

  const scheduleCommit = () => {
    const urgent = pendingBytes >= COMMIT_NOW_BYTES;
    if (commitTimer && (commitTimer.immediate || !urgent)) return;
    commitTimer?.cancel();
    const waitMs = urgent ? 0 : lastCommitAt + commitIntervalMs - performance.now();
    if (waitMs <= 0) {
      const handle = setImmediate(commitNow);
      commitTimer = { cancel: () => clearImmediate(handle), immediate: true };
    } else {
      const handle = setTimeout(commitNow, waitMs);
      commitTimer = { cancel: () => clearTimeout(handle), immediate: false };
    }
  };

  const enqueue = (item: PendingAppend) => {
    pending.push(item);
    pendingBytes += item.payload.byteLength;
    scheduleCommit();
  };

  /** In the progress transaction: delete what every registered consumer has now confirmed. */
  const onConfirm = (consumer: string, seq: number) => {
    let min = seq;
    for (const loop of loops) if (loop.name !== consumer) min = Math.min(min, loop.cursor());
    if (min > deletedUpTo && table) {
      table.deleteUpTo(min);
      deletedUpTo = min;
      forgetRecent(min);
    }
  };

  const afterConfirm = () => {
    refreshState();
    admitWaiters();
  };

  const lifecycle = component('spool', {
    start() {
      sealed = true;
      store.migrate('spool', SPOOL_MIGRATIONS);
      db = store.db;
      if (config.synchronous === 'full') db.pragma('synchronous = FULL');
      table = createSpoolTable(db);
      const t = table;
      for (const c of consumers)
        loops.push(
          createDeliveryLoop(
            c,
            {
              db,
              table: t,
              codec,
              backoff,
              maxEntries: config.delivery_max_entries,
              maxBytes: config.delivery_max_bytes,
              telemetry,
              recent: (seq) => recent.get(seq)?.batch,
              onConfirm,
              afterConfirm,
            },
            deps,
          ),
        );
      // Rows every registered consumer already confirmed (e.g. a consumer was removed from the
      // configuration since the last run) go now rather than at the next confirmation.
      if (consumers.length > 0) {
        const min = Math.min(...consumers.map((c) => t.progress(c.name)));
        db.transaction(() => t.deleteUpTo(min))();
        deletedUpTo = min;
      } else {
        deps.log.warn(
          { event: 'spool_no_consumers' },
          'spool has no consumers: batches are kept until one is registered',
        );
      }
      refreshState();
      started = true;
      accepting = true;
      deps.log.info(
        {
          event: 'spool_started',
          batches: state.batches,
          entries: state.entries,
          bytes: state.bytes,
          consumers: consumers.map((c) => c.name),
        },
        'spool started',
      );
      for (const loop of loops) loop.start();
    },
    async stop() {
      accepting = false;
      const stopped = new SpoolStoppedError();
      for (const w of roomWaiters.splice(0)) {
        clearTimeout(w.timer);
        w.item.reject(stopped);
      }
      // Whatever was handed to us is committed (and acknowledged) before we go.
      commitNow();
      await Promise.all(loops.map((l) => l.stop(stopTimeoutMs)));
      if (wakeScheduled) clearImmediate(wakeScheduled);
      wakeScheduled = undefined;
      recent.clear();
      recentEntries = 0;
      recentBytes = 0;
      started = false;
    },
  });

  return {
    ...lifecycle,
    register(consumer) {
      if (sealed)
        throw new Error(`spool: register(${consumer.name}) must be called before start()`);
      if (consumers.some((c) => c.name === consumer.name))
        throw new Error(`spool: a consumer named ${consumer.name} is already registered`);
      consumers.push(consumer);
    },
    consume(batch: Batch) {
      if (!accepting) return Promise.reject(new SpoolStoppedError());
      if (batch.entries.length === 0) return Promise.resolve();
      let payload: Uint8Array;
      try {
        payload = codec.encode(batch);
      } catch (err) {
        return Promise.reject(err);
      }
      if (payload.byteLength > maxBytes) {
        telemetry.tooLarge.inc();
        deps.log.warn(
          { event: 'spool_batch_too_large', bytes: payload.byteLength, maxBytes },
          'batch larger than the whole spool rejected',
        );
        return Promise.reject(new BatchLargerThanSpoolError(payload.byteLength, maxBytes));
      }
      return new Promise<void>((resolve, reject) => {
        const item: PendingAppend = {
          batch,
          entries: batch.entries.length,
          receivedAt: batch.receivedAt,
          payload,
          resolve,
          reject,
        };
        if (roomWaiters.length === 0 && used() + payload.byteLength <= maxBytes) {
          enqueue(item);
          return;
        }
        telemetry.backpressureWaits.inc();
        const timer = setTimeout(() => {
          const i = roomWaiters.findIndex((w) => w.item === item);
          if (i >= 0) roomWaiters.splice(i, 1);
          telemetry.backpressureRejects.inc();
          deps.log.warn(
            { event: 'spool_backpressure_rejected', bytes: used(), maxBytes },
            'spool stayed full; consume rejected',
          );
          reject(
            new BackpressureError(
              `spool is full (${used()} of ${maxBytes} bytes) and did not drain within ${config.backpressure_timeout}`,
              1000,
            ),
          );
          // The head may have been the only one that did not fit.
          admitWaiters();
        }, backpressureTimeoutMs);
        roomWaiters.push({ item, timer });
      });
    },
    hasCapacity() {
      return accepting && roomWaiters.length === 0 && used() < maxBytes;
    },
    appendInTransaction(txDb: Db, batch: Batch) {
      if (!started || !db || !table)
        throw new SpoolStoppedError('spool is not started; cannot append');
      if (txDb !== db)
        throw new Error(
          'spool.appendInTransaction: db must be the store connection the spool uses',
        );
      if (!txDb.inTransaction)
        throw new Error('spool.appendInTransaction must be called inside an open transaction');
      if (batch.entries.length === 0) return;
      const payload = codec.encode(batch);
      table.append([{ entries: batch.entries.length, receivedAt: batch.receivedAt, payload }]);
      // The rows become visible (or vanish) when the caller's transaction ends, which is
      // synchronous; by the next turn of the event loop it is over either way.
      wakeScheduled ??= setImmediate(() => {
        wakeScheduled = undefined;
        refreshState();
        wakeLoops();
      });
    },
    stats,
  };
}
