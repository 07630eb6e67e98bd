import { afterEach, describe, expect, it } from 'vitest';
import { RetryableError } from '../../src/core/errors.ts';
import { createSpool } from '../../src/spool/spool.ts';
import { createStore } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import {
  accessLogBatch,
  batchId,
  recordingSpoolConsumer,
  spoolConfig,
} from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

let h: SpoolHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('spool stop()', () => {
  it('is safe before start and idempotent', async () => {
    const spool = createSpool(spoolConfig(), testDeps(), createStore('/nonexistent/never'));
    await spool.stop();
    await spool.stop();
    await expect(spool.consume(accessLogBatch(1))).rejects.toBeInstanceOf(RetryableError);
    expect(spool.hasCapacity()).toBe(false);
  });

  it('can be stopped twice concurrently after start, and refuses a second start', async () => {
    h = await openSpool([recordingSpoolConsumer('influxdb')]);
    await expect(h.spool.start()).rejects.toThrow(/twice/);
    await Promise.all([h.spool.stop(), h.spool.stop()]);
    await expect(h.spool.stop()).resolves.toBeUndefined();
    expect(h.spool.name).toBe('spool');
  });

  it('commits and acknowledges batches still waiting for the group commit', async () => {
    h = await openSpool([], { commit_interval: '10s' });
    await h.spool.consume(accessLogBatch(1, 0)); // first commit is immediate
    const pending = [1, 2, 3].map((i) => h!.spool.consume(accessLogBatch(1, i)));
    await h.spool.stop();
    await Promise.all(pending);
    await h.spool.stop();
    const c = recordingSpoolConsumer('influxdb');
    await h.reopen([c], {});
    expect((await c.waitForConfirmed(4)).map((b) => batchId(b.batch))).toEqual([0, 1, 2, 3]);
  });

  it('rejects new batches as retryable, and batches waiting for room, without storing them', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], {
      max_bytes: 1024 * 1024,
      backpressure_timeout: '10s',
      stop_timeout: '10ms',
    });
    while (h.spool.stats().bytes < 1024 * 1024 - 100_000)
      await h.spool.consume(accessLogBatch(1000, 1));
    const stored = h.spool.stats().batches;
    const waiting = h.spool.consume(accessLogBatch(1000, 2)).catch((e: unknown) => e);
    await h.spool.stop();
    expect(await waiting).toBeInstanceOf(RetryableError);
    await expect(h.spool.consume(accessLogBatch(1, 3))).rejects.toThrow(/not accepting/);
    const db = h.store.db;
    expect(db.prepare('SELECT count(*) FROM spool_batches').pluck().get()).toBe(stored);
    expect(() =>
      db.transaction(() => h!.spool.appendInTransaction(db, accessLogBatch(1)))(),
    ).toThrow(/not started/);
    c.release();
  });

  it('rejects every batch of a failed commit as retryable, never acknowledging it', async () => {
    h = await openSpool([], { commit_interval: '50ms' });
    await h.spool.consume(accessLogBatch(1, 0));
    const pending = [1, 2].map((i) =>
      h!.spool.consume(accessLogBatch(1, i)).catch((e: unknown) => e),
    );
    await h.store.stop(); // the disk "goes away" under the spool
    const errors = await Promise.all(pending);
    for (const err of errors) {
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as RetryableError).code).toBe('spool_commit_failed');
    }
    expect(await metricValue(h.deps, 'fleetline_spool_commit_failures_total')).toBe(1);
  });

  it('answers stats() from its counters after the store closed', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { stop_timeout: '10ms' });
    await h.spool.consume(accessLogBatch(2, 0));
    await h.spool.stop();
    await h.store.stop();
    expect(h.spool.stats()).toMatchObject({ batches: 1, entries: 2, lag: { influxdb: 1 } });
    c.release();
  });

  it('lets an in-flight delivery finish and records its progress', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { stop_timeout: '5s' });
    await h.spool.consume(accessLogBatch(2, 0));
    await waitFor(() => c.calls === 1);
    setTimeout(() => c.release(), 30);
    await h.spool.stop();
    expect(c.confirmed).toHaveLength(1);
    expect(
      h.store.db
        .prepare("SELECT seq FROM spool_progress WHERE consumer = 'influxdb'")
        .pluck()
        .get(),
    ).toBe(1);
  });

  it('gives up on a delivery that outlasts stop_timeout, without advancing its progress', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { stop_timeout: '30ms' });
    await h.spool.consume(accessLogBatch(2, 0));
    await waitFor(() => c.calls === 1);
    const started = Date.now();
    await h.spool.stop();
    // The stalled delivery never ends by itself; the bound leaves room for a loaded machine.
    expect(Date.now() - started).toBeLessThan(5000);
    await h.store.stop();
    c.release(); // settles after the store closed: must not touch it
    await new Promise((r) => setTimeout(r, 10));
    const again = recordingSpoolConsumer('influxdb');
    await h.reopen([again], {});
    expect((await again.waitForConfirmed(1))[0]!.seq).toBe(1);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
