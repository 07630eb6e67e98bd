import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/entry.ts';
import { InvalidInputError } from '../../src/core/errors.ts';
import type { Db } from '../../src/store/sqlite.ts';
import { metricValue } from '../helpers/deps.ts';
import { accessLogBatch, batchId, recordingSpoolConsumer } from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

let h: SpoolHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const count = (db: Db, sql: string) => (db.prepare(sql).pluck().get() as number) ?? 0;

describe('spool', () => {
  it('group commit: many small batches arriving together share one commit', async () => {
    const c = recordingSpoolConsumer('influxdb');
    h = await openSpool([c], { commit_interval: '20ms' });
    const spool = h.spool;
    await Promise.all(Array.from({ length: 50 }, (_, i) => spool.consume(accessLogBatch(2, i))));
    const commits1 = await metricValue(h.deps, 'fleetline_spool_commits_total');
    expect(commits1).toBe(1);
    // Sequential producers inside the window also share: each waits for the window, not for
    // a commit of its own.
    const producers = Array.from({ length: 4 }, async (_, p) => {
      for (let i = 0; i < 10; i++) await spool.consume(accessLogBatch(1, 100 + p * 10 + i));
    });
    await Promise.all(producers);
    const commits = await metricValue(h.deps, 'fleetline_spool_commits_total');
    const batches = await metricValue(h.deps, 'fleetline_spool_committed_batches_total');
    expect(batches).toBe(90);
    expect(commits - commits1).toBeLessThanOrEqual(11);
    await c.waitForConfirmed(90);
  });

  it('resolves consume only once the batch is in SQLite', async () => {
    h = await openSpool([], { commit_interval: '50ms' });
    let resolved = false;
    const p = h.spool.consume(accessLogBatch(3, 1)).then(() => {
      resolved = true;
    });
    expect(count(h.store.db, 'SELECT count(*) FROM spool_batches')).toBe(0);
    await p;
    expect(resolved).toBe(true);
    expect(count(h.store.db, 'SELECT count(*) FROM spool_batches')).toBe(1);
  });

  it('delivers every batch in order, numbering entries with a global entry sequence', async () => {
    const c = recordingSpoolConsumer('influxdb');
    h = await openSpool([c], { commit_interval: '1ms', delivery_max_entries: 7 });
    for (let i = 0; i < 20; i++) void h.spool.consume(accessLogBatch(1 + (i % 4), i));
    const got = await c.waitForConfirmed(20);
    expect(got.map((b) => batchId(b.batch))).toEqual([...Array(20).keys()]);
    expect(got.map((b) => b.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    let entrySeq = 0;
    for (const b of got) {
      expect(b.firstEntrySeq).toBe(entrySeq);
      entrySeq += b.batch.entries.length;
    }
    // Offered in chunks of at most 7 entries (but always at least one batch).
    for (const call of c.offered)
      expect(call.reduce((n, b) => n + b.batch.entries.length, 0)).toBeLessThanOrEqual(7);
  });

  it('keeps two consumers independent: a failing one does not hold back the other', async () => {
    const fast = recordingSpoolConsumer('influxdb');
    const slow = recordingSpoolConsumer('rollup');
    slow.failNext(3);
    h = await openSpool([fast, slow], { retry_initial: '5ms' });
    for (let i = 0; i < 5; i++) await h.spool.consume(accessLogBatch(2, i));
    await fast.waitForConfirmed(5);
    await slow.waitForConfirmed(5);
    expect(slow.confirmed.map((b) => batchId(b.batch))).toEqual([0, 1, 2, 3, 4]);
    expect(
      await metricValue(h.deps, 'fleetline_spool_delivery_retries_total', { consumer: 'rollup' }),
    ).toBe(3);
    expect(
      await metricValue(h.deps, 'fleetline_spool_delivery_retries_total', { consumer: 'influxdb' }),
    ).toBe(0);
    // A failed delivery is offered again from the same batch (plus any committed since), never
    // skipped.
    const first = slow.offered[0]!.map((b) => b.seq);
    expect(slow.offered[1]!.map((b) => b.seq).slice(0, first.length)).toEqual(first);
  });

  it('deletes a batch only after every consumer confirmed it', async () => {
    const a = recordingSpoolConsumer('influxdb');
    const b = recordingSpoolConsumer('rollup');
    b.stall();
    h = await openSpool([a, b]);
    for (let i = 0; i < 4; i++) await h.spool.consume(accessLogBatch(10, i));
    await a.waitForConfirmed(4);
    expect(count(h.store.db, 'SELECT count(*) FROM spool_batches')).toBe(4);
    expect(h.spool.stats()).toMatchObject({
      batches: 4,
      entries: 40,
      lag: { influxdb: 0, rollup: 4 },
    });
    expect(h.spool.stats().lagEntries).toEqual({ influxdb: 0, rollup: 40 });
    b.release();
    await b.waitForConfirmed(4);
    await vi_waitFor(() => count(h!.store.db, 'SELECT count(*) FROM spool_batches') === 0);
    expect(h.spool.stats()).toMatchObject({ batches: 0, entries: 0, bytes: 0, oldestAgeMs: 0 });
    expect(count(h.store.db, "SELECT seq FROM spool_progress WHERE consumer = 'rollup'")).toBe(4);
  });

  it('runs a returned write function atomically with the progress: a throw rolls both back and the batches come again', async () => {
    const c = recordingSpoolConsumer('rollup');
    h = await openSpool([], { retry_initial: '5ms' });
    h.store.db.exec('CREATE TABLE applied (seq INTEGER PRIMARY KEY)');
    let throwOnce = true;
    c.writeWith((db, batches) => {
      for (const b of batches) db.prepare('INSERT INTO applied (seq) VALUES (?)').run(b.seq);
      if (throwOnce) {
        throwOnce = false;
        throw new Error('disk trouble in the middle of applying');
      }
    });
    await h.reopen([c]);
    await h.spool.consume(accessLogBatch(1, 0));
    await c.waitForConfirmed(1);
    expect(c.calls).toBe(2);
    expect(c.offered[0]!.map((b) => b.seq)).toEqual([1]);
    expect(c.offered[1]!.map((b) => b.seq)).toEqual([1]);
    expect(count(h.store.db, 'SELECT count(*) FROM applied')).toBe(1);
    expect(count(h.store.db, "SELECT seq FROM spool_progress WHERE consumer = 'rollup'")).toBe(1);
    expect(
      await metricValue(h.deps, 'fleetline_spool_delivery_retries_total', { consumer: 'rollup' }),
    ).toBe(1);
  });

  it('replays what a consumer had not confirmed after a restart, and a new consumer starts from the oldest batch present', async () => {
    const a = recordingSpoolConsumer('influxdb');
    const b = recordingSpoolConsumer('rollup');
    b.stall();
    h = await openSpool([a, b], { stop_timeout: '20ms' });
    for (let i = 0; i < 3; i++) await h.spool.consume(accessLogBatch(1, i));
    await a.waitForConfirmed(3);
    await h.reopen([]);
    const a2 = recordingSpoolConsumer('influxdb');
    const b2 = recordingSpoolConsumer('rollup');
    const c2 = recordingSpoolConsumer('embedded');
    await h.reopen([a2, b2, c2], {});
    await b2.waitForConfirmed(3);
    await c2.waitForConfirmed(3);
    expect(b2.confirmed.map((x) => batchId(x.batch))).toEqual([0, 1, 2]);
    expect(c2.confirmed.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(a2.calls).toBe(0);
    b.release();
    // The sequence continues after a restart, and after the table was emptied.
    await vi_waitFor(() => h!.spool.stats().batches === 0);
    await h.spool.consume(accessLogBatch(2, 3));
    const [next] = await a2.waitForConfirmed(1);
    expect(next).toMatchObject({ seq: 4, firstEntrySeq: 3 });
  });

  it('appendInTransaction appends atomically with the caller and wakes consumers after the commit', async () => {
    const c = recordingSpoolConsumer('influxdb');
    h = await openSpool([c]);
    const db = h.store.db;
    const spool = h.spool;
    expect(() => spool.appendInTransaction(db, accessLogBatch(1, 0))).toThrow(/open transaction/);
    expect(() =>
      db.transaction(() => {
        spool.appendInTransaction(db, accessLogBatch(1, 1));
        throw new Error('caller failed');
      })(),
    ).toThrow('caller failed');
    db.transaction(() => spool.appendInTransaction(db, accessLogBatch(5, 2)))();
    const [got] = await c.waitForConfirmed(1);
    expect(batchId(got!.batch)).toBe(2);
    expect(got).toMatchObject({ seq: 1, firstEntrySeq: 0 });
    await new Promise((r) => setTimeout(r, 20));
    expect(c.confirmed).toHaveLength(1);
    await spool.consume(accessLogBatch(1, 3));
    const all = await c.waitForConfirmed(2);
    expect(all[1]).toMatchObject({ seq: 2, firstEntrySeq: 5 });
  });

  it('hands a consumer that keeps up the batch object itself, and decodes for one that is behind the memory bound', async () => {
    const c = recordingSpoolConsumer('influxdb');
    h = await openSpool([c], { memory_cache_entries: 5 });
    const sent = accessLogBatch(3, 0);
    await h.spool.consume(sent);
    const [got] = await c.waitForConfirmed(1);
    expect(got!.batch).toBe(sent);
    c.stall();
    const later = [1, 2, 3].map((i) => accessLogBatch(3, i));
    for (const b of later) await h.spool.consume(b);
    c.release();
    const all = await c.waitForConfirmed(4);
    // later[0] was offered (and held by the stalled call) at once; of the rest only the newest
    // fits in 5 entries, so later[1] comes from the table: equal, but decoded.
    expect(all[3]!.batch).toBe(later[2]);
    expect(all[2]!.batch).not.toBe(later[1]);
    expect(all[2]!.batch).toEqual(later[1]);
  });

  it('bounds the memory cache by bytes too (a sixteenth of max_bytes), not only by entries', async () => {
    const c = recordingSpoolConsumer('influxdb');
    // 16 MiB spool: at most 1 MiB of batches in memory, whatever memory_cache_entries says.
    h = await openSpool([c], { max_bytes: 16 * 1024 * 1024, memory_cache_entries: 100_000 });
    const big = (i: number): Batch => ({
      origin: { input: 'http-fluentd' },
      receivedAt: Date.now(),
      entries: [{ tag: 't', sec: 1, nsec: 0, record: { msg: `${i}`.padEnd(256 * 1024, 'x') } }],
    });
    c.stall();
    const sent = Array.from({ length: 9 }, (_, i) => big(i));
    for (const b of sent) await h.spool.consume(b);
    c.release();
    const all = await c.waitForConfirmed(9);
    expect(all.map((b) => b.batch)).toEqual(sent);
    // sent[0] was offered at once; of the other 2 MiB only the newest ~1 MiB stayed in memory.
    const fromMemory = all.filter((b, i) => b.batch === sent[i]).map((b) => b.seq);
    expect(fromMemory).toEqual([1, 7, 8, 9]);
  });

  it('works with the memory cache switched off', async () => {
    const c = recordingSpoolConsumer('influxdb');
    h = await openSpool([c], { memory_cache_entries: 0 });
    const sent = accessLogBatch(3, 0);
    await h.spool.consume(sent);
    const [got] = await c.waitForConfirmed(1);
    expect(got!.batch).not.toBe(sent);
    expect(got!.batch).toEqual(sent);
  });

  it('switches the store connection to synchronous=FULL when asked (power-loss durability)', async () => {
    h = await openSpool([], { synchronous: 'full' });
    expect(h.store.db.pragma('synchronous', { simple: true })).toBe(2);
    await h.spool.consume(accessLogBatch(1, 0));
    expect(h.spool.stats().batches).toBe(1);
  });

  it('lets a consumer emit derived batches from inside its progress transaction (the rollup pattern)', async () => {
    const influx = recordingSpoolConsumer('influxdb');
    const rollup = recordingSpoolConsumer('rollup');
    h = await openSpool([influx, rollup]);
    const spool = h.spool;
    rollup.writeWith((db, batches) => {
      const inputs = batches.filter((b) => b.batch.entries[0]!.tag !== 'rollup');
      if (inputs.length === 0) return;
      spool.appendInTransaction(db, {
        origin: { input: 'forward' },
        receivedAt: Date.now(),
        entries: [{ tag: 'rollup', sec: 1, nsec: 0, record: { count: inputs.length } }],
      });
    });
    await spool.consume(accessLogBatch(3, 0));
    const got = await influx.waitForConfirmed(2);
    expect(got.map((b) => b.batch.entries[0]!.tag)).toEqual(['app.access', 'rollup']);
    expect(got[1]).toMatchObject({ seq: 2, firstEntrySeq: 3 });
    await rollup.waitForConfirmed(2);
    await vi_waitFor(() => spool.stats().batches === 0);
  });

  it('accepts an empty batch without storing anything', async () => {
    h = await openSpool([]);
    await h.spool.consume({ entries: [], origin: { input: 'forward' }, receivedAt: 1 });
    expect(h.spool.stats().batches).toBe(0);
  });

  it('rejects a record the decoder could never read back (key __proto__) as invalid input', async () => {
    h = await openSpool([]);
    const batch = accessLogBatch(2, 0);
    batch.entries[1]!.record = JSON.parse('{"__proto__": 1}');
    await expect(h.spool.consume(batch)).rejects.toBeInstanceOf(InvalidInputError);
    expect(h.spool.stats().batches).toBe(0);
  });

  it('rejects a record nested too deep to be read back as invalid input, storing nothing', async () => {
    h = await openSpool([]);
    const batch = accessLogBatch(2, 0);
    batch.entries[1]!.record = JSON.parse(`{"x": ${'['.repeat(5000)}${']'.repeat(5000)}}`);
    await expect(h.spool.consume(batch)).rejects.toBeInstanceOf(InvalidInputError);
    expect(h.spool.stats().batches).toBe(0);
  });

  it('refuses to register a consumer twice or after start', async () => {
    h = await openSpool([recordingSpoolConsumer('influxdb')]);
    expect(() => h!.spool.register(recordingSpoolConsumer('late'))).toThrow(/before start/);
  });

  it('reports depth, lag and oldest age in stats() and as gauges', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c]);
    await h.spool.consume(accessLogBatch(3, 0, Date.now() - 2000));
    await h.spool.consume(accessLogBatch(4, 1));
    const s = h.spool.stats();
    expect(s).toMatchObject({
      batches: 2,
      entries: 7,
      lag: { influxdb: 2 },
      lagEntries: { influxdb: 7 },
    });
    expect(s.bytes).toBeGreaterThan(100);
    expect(s.oldestAgeMs).toBeGreaterThanOrEqual(2000);
    expect(await metricValue(h.deps, 'fleetline_spool_depth_entries')).toBe(7);
    expect(
      await metricValue(h.deps, 'fleetline_spool_consumer_lag_entries', { consumer: 'influxdb' }),
    ).toBe(7);
    c.release();
    await c.waitForConfirmed(2);
    await vi_waitFor(() => h!.spool.stats().lag.influxdb === 0);
    const lag = h.deps.metrics.getSingleMetric('fleetline_spool_delivery_lag_seconds');
    const { values } = await lag!.get();
    expect(
      values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value,
    ).toBe(2);
  });
});

async function vi_waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
