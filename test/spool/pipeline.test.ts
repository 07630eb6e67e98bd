/**
 * A consumer with `pipeline > 1` (the InfluxDB writer) gets several deliveries in flight at
 * once; the spool still confirms them strictly in order and re-offers everything after a
 * failure, so nothing is skipped whatever order the deliveries finish in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SpoolConsumer, SpooledBatch } from '../../src/spool/contract.ts';
import type { Db } from '../../src/store/sqlite.ts';
import { eventually as eventuallyTruthy } from '../helpers/service.ts';
import { accessLogBatch } from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

let h: SpoolHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const progress = (db: Db, consumer: string) =>
  (db.prepare('SELECT seq FROM spool_progress WHERE consumer = ?').pluck().get(consumer) as
    | number
    | undefined) ?? 0;

/** Retries an assertion until it passes (or the helper's timeout). */
const eventually = (assert: () => void) =>
  eventuallyTruthy(() => {
    assert();
    return true;
  }, 5000);

/** A consumer whose deliveries the test settles one by one, in any order. */
function manualConsumer(pipeline: number) {
  const calls: { seqs: number[]; resolve(): void; reject(err: Error): void }[] = [];
  const consumer: SpoolConsumer = {
    name: 'influxdb',
    pipeline,
    deliver(batches: readonly SpooledBatch[]) {
      return new Promise<undefined>((resolve, reject) => {
        calls.push({
          seqs: batches.map((b) => b.seq),
          resolve: () => resolve(undefined),
          reject,
        });
      });
    },
  };
  return { consumer, calls };
}

describe('spool delivery pipeline', () => {
  it('keeps up to `pipeline` deliveries in flight and confirms them in spool order', async () => {
    const { consumer, calls } = manualConsumer(2);
    // One batch per delivery, so each delivery is one seq.
    h = await openSpool([consumer], { delivery_max_entries: 10 });
    for (let i = 0; i < 3; i++) await h.spool.consume(accessLogBatch(10, i));
    await eventually(() => expect(calls.map((c) => c.seqs)).toEqual([[1], [2]]));

    // The second finishes first: its progress must wait for the first.
    calls[1]!.resolve();
    await new Promise((r) => setTimeout(r, 50));
    expect(progress(h.store.db, 'influxdb')).toBe(0);
    expect(calls).toHaveLength(2);

    calls[0]!.resolve();
    await eventually(() => expect(progress(h!.store.db, 'influxdb')).toBe(2));
    await eventually(() => expect(calls.map((c) => c.seqs)).toEqual([[1], [2], [3]]));
    calls[2]!.resolve();
    await eventually(() => expect(progress(h!.store.db, 'influxdb')).toBe(3));
  });

  it('after a failure re-offers the failed delivery and every later one, even those that succeeded', async () => {
    const { consumer, calls } = manualConsumer(2);
    h = await openSpool([consumer], { delivery_max_entries: 10, retry_initial: '5ms' });
    for (let i = 0; i < 2; i++) await h.spool.consume(accessLogBatch(10, i));
    await eventually(() => expect(calls).toHaveLength(2));
    calls[1]!.resolve();
    calls[0]!.reject(new Error('InfluxDB unavailable'));
    await eventually(() => expect(calls).toHaveLength(4));
    expect(calls.map((c) => c.seqs)).toEqual([[1], [2], [1], [2]]);
    expect(progress(h.store.db, 'influxdb')).toBe(0);
    calls[2]!.resolve();
    calls[3]!.resolve();
    await eventually(() => expect(progress(h!.store.db, 'influxdb')).toBe(2));
    await eventually(() =>
      expect(h!.store.db.prepare('SELECT count(*) FROM spool_batches').pluck().get()).toBe(0),
    );
  });

  it('on stop lets the deliveries in flight settle and confirms the ones that succeeded', async () => {
    const { consumer, calls } = manualConsumer(3);
    h = await openSpool([consumer], { delivery_max_entries: 10 });
    for (let i = 0; i < 3; i++) await h.spool.consume(accessLogBatch(10, i));
    await eventually(() => expect(calls).toHaveLength(3));
    const stopped = h.spool.stop();
    calls[0]!.resolve();
    calls[1]!.resolve();
    calls[2]!.reject(new Error('writer stopped'));
    await stopped;
    expect(progress(h.store.db, 'influxdb')).toBe(2);
    // Reopen: only the batch that failed is offered again.
    const again = manualConsumer(3);
    await h.reopen([again.consumer]);
    await eventually(() => expect(again.calls.map((c) => c.seqs)).toEqual([[3]]));
    again.calls[0]!.resolve();
    await eventually(() => expect(progress(h!.store.db, 'influxdb')).toBe(3));
  });

  it('after stop, stats() no longer counts the batches confirmed while it settled the deliveries in flight', async () => {
    const { consumer, calls } = manualConsumer(2);
    h = await openSpool([consumer], { delivery_max_entries: 10 });
    for (let i = 0; i < 2; i++) await h.spool.consume(accessLogBatch(10, i));
    await eventually(() => expect(calls).toHaveLength(2));
    const stopped = h.spool.stop();
    await new Promise((r) => setTimeout(r, 20));
    calls[1]!.resolve();
    calls[0]!.resolve();
    await stopped;
    expect(h.store.db.prepare('SELECT count(*) FROM spool_batches').pluck().get()).toBe(0);
    expect(h.spool.stats()).toMatchObject({ batches: 0, entries: 0, bytes: 0 });
  });

  it('with pipeline 1 offers the next batches only after the previous delivery settled', async () => {
    const { consumer, calls } = manualConsumer(1);
    h = await openSpool([consumer], { delivery_max_entries: 10 });
    for (let i = 0; i < 2; i++) await h.spool.consume(accessLogBatch(10, i));
    await eventually(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await eventually(() => expect(calls.map((c) => c.seqs)).toEqual([[1], [2]]));
    calls[1]!.resolve();
    await eventually(() => expect(progress(h!.store.db, 'influxdb')).toBe(2));
  });
});
