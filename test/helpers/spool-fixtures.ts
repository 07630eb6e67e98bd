/**
 * Fixtures for spool tests and the spool benchmark: a full `SpoolConfig` with test-friendly
 * overrides, access-log-like batches, and a `SpoolConsumer` that records what it is offered and
 * can be told to fail, stall or write inside the progress transaction.
 */
import { Value } from '@sinclair/typebox/value';
import type { SpoolConfig } from '../../src/config/schema.ts';
import { SpoolSection } from '../../src/config/sections/pipeline.ts';
import type { Batch, Entry } from '../../src/core/entry.ts';
import type { SpoolConsumer, SpooledBatch } from '../../src/spool/contract.ts';
import type { Db } from '../../src/store/sqlite.ts';

export function spoolConfig(overrides: Partial<SpoolConfig> = {}): SpoolConfig {
  const defaults = Value.Default(SpoolSection, {}) as SpoolConfig;
  return { ...defaults, ...overrides };
}

/** A batch of `n` access-log records (~7 fields); `id` goes into every record for tracing. */
export function accessLogBatch(n: number, id = 0, receivedAt = Date.now()): Batch {
  const entries: Entry[] = [];
  const sec = Math.floor(receivedAt / 1000);
  for (let i = 0; i < n; i++) {
    entries.push({
      tag: 'app.access',
      sec,
      nsec: i * 1000,
      record: {
        instance_id: `i-0abc${(i % 16).toString(16)}def01234567`,
        level: i % 50 === 0 ? 'error' : 'info',
        method: i % 3 === 0 ? 'POST' : 'GET',
        path: `/api/v1/items/${i}`,
        status: i % 50 === 0 ? 500 : 200,
        reqtime: 0.001 * (i % 997),
        message: `batch ${id} record ${i} handled`,
      },
    });
  }
  return { entries, origin: { input: 'forward', peerAddress: '10.0.0.7' }, receivedAt };
}

/** The id the batch was made with (from its first record's message). */
export function batchId(batch: Batch): number {
  const m = /^batch (\d+) /.exec(String(batch.entries[0]?.record.message));
  return m ? Number(m[1]) : -1;
}

export interface RecordingSpoolConsumer extends SpoolConsumer {
  /** Every batch confirmed (deliver resolved and, if asked, the write function ran). */
  confirmed: SpooledBatch[];
  /** Number of deliver calls, including failed ones. */
  calls: number;
  /** Every deliver call's batches, in call order. */
  offered: SpooledBatch[][];
  failNext(times: number, err?: Error): void;
  /** deliver resolves to this function (run inside the progress transaction). */
  writeWith(fn: ((db: Db, batches: readonly SpooledBatch[]) => void) | undefined): void;
  stall(): void;
  release(): void;
  waitForConfirmed(batches: number, timeoutMs?: number): Promise<SpooledBatch[]>;
}

export function recordingSpoolConsumer(name: string): RecordingSpoolConsumer {
  const confirmed: SpooledBatch[] = [];
  const offered: SpooledBatch[][] = [];
  let failures = 0;
  let failure = new Error('sink unavailable');
  let write: ((db: Db, batches: readonly SpooledBatch[]) => void) | undefined;
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const waiters: { n: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const w of waiters.splice(0))
      (confirmed.length >= w.n ? w.resolve : () => waiters.push(w))();
  };
  const self: RecordingSpoolConsumer = {
    name,
    confirmed,
    offered,
    calls: 0,
    async deliver(batches) {
      self.calls++;
      offered.push([...batches]);
      if (gate) await gate.promise;
      if (failures > 0) {
        failures--;
        throw failure;
      }
      const w = write;
      if (!w) {
        confirmed.push(...batches);
        queueMicrotask(notify);
        return;
      }
      return (db: Db) => {
        w(db, batches);
        confirmed.push(...batches);
        queueMicrotask(notify);
      };
    },
    failNext(times, err) {
      failures = times;
      if (err) failure = err;
    },
    writeWith(fn) {
      write = fn;
    },
    stall() {
      let open!: () => void;
      const promise = new Promise<void>((r) => {
        open = r;
      });
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    waitForConfirmed(n, timeoutMs = 15_000) {
      if (confirmed.length >= n) return Promise.resolve(confirmed);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`${name}: timed out waiting for ${n} batches, have ${confirmed.length}`),
            ),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(confirmed);
          },
        });
      });
    },
  };
  return self;
}
