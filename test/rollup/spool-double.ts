/**
 * A minimal stand-in for the real spool (src/spool/spool.ts is being built in parallel): it
 * keeps input batches and this consumer's progress, runs a delivery's returned function inside
 * the same SQLite transaction that advances the progress — as the spool contract says — and
 * implements `appendInTransaction` by inserting into a table, so what the rollup emits is read
 * back from SQLite and rolls back with the transaction.
 */
import type { Batch, Entry } from '../../src/core/entry.ts';
import type { Spool, SpoolConsumer, SpooledBatch } from '../../src/spool/contract.ts';
import type { Db, Store } from '../../src/store/sqlite.ts';

export interface SpoolDouble extends Pick<Spool, 'appendInTransaction'> {
  /** Entries appended through `appendInTransaction`, in order, with bigints intact. */
  appended(): Entry[];
  /** Delivers `batches` to `consumer` and commits its effect with the progress. */
  deliver(
    consumer: SpoolConsumer,
    batches: SpooledBatch[],
    opts?: { throwAfter?: boolean },
  ): Promise<void>;
  /** Highest batch seq whose delivery committed. */
  progress(): number;
}

export function spoolDouble(store: Store): SpoolDouble {
  store.db.exec(`CREATE TABLE IF NOT EXISTS test_spool_out (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS test_spool_progress (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);`);
  return {
    appendInTransaction(db: Db, batch: Batch) {
      if (!db.inTransaction) throw new Error('appendInTransaction outside a transaction');
      const ins = db.prepare('INSERT INTO test_spool_out (entry) VALUES (?)');
      for (const e of batch.entries) ins.run(JSON.stringify(e, bigintReplacer));
    },
    appended() {
      return (
        store.db.prepare('SELECT entry FROM test_spool_out ORDER BY seq').pluck().all() as string[]
      ).map((t) => JSON.parse(t, bigintReviver) as Entry);
    },
    async deliver(consumer, batches, opts = {}) {
      const fn = await consumer.deliver(batches);
      const db = store.db;
      db.transaction(() => {
        if (fn) fn(db);
        db.prepare(
          `INSERT INTO test_spool_progress (consumer, seq) VALUES (?, ?)
           ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq`,
        ).run(consumer.name, batches.at(-1)?.seq ?? 0);
        if (opts.throwAfter) throw new Error('simulated failure inside the transaction');
      })();
    },
    progress() {
      return (
        (store.db.prepare('SELECT max(seq) FROM test_spool_progress').pluck().get() as
          | number
          | null) ?? 0
      );
    },
  };
}

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? { $bigint: v.toString() } : v;
}

function bigintReviver(_k: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$bigint' in v)
    return BigInt((v as { $bigint: string }).$bigint);
  return v;
}
