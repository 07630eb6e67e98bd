import { afterEach, describe, expect, it } from 'vitest';
import { BackpressureError, httpStatusFor, PayloadTooLargeError } from '../../src/core/errors.ts';
import { createBatchCodec } from '../../src/spool/codec.ts';
import { metricValue } from '../helpers/deps.ts';
import { accessLogBatch, batchId, recordingSpoolConsumer } from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

let h: SpoolHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MiB = 1024 * 1024;
const batchBytes = createBatchCodec().encode(accessLogBatch(1000, 0)).byteLength;

/** Fills the spool until the next 1,000-record batch no longer fits. */
async function fill(spool: SpoolHarness['spool']): Promise<number> {
  let i = 0;
  while (spool.stats().bytes + batchBytes <= MiB) await spool.consume(accessLogBatch(1000, i++));
  return i;
}

describe('spool back-pressure', () => {
  it('reports no capacity when full, holds consume until a consumer drains, then accepts', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { max_bytes: MiB, backpressure_timeout: '5s' });
    const spool = h.spool;
    const n = await fill(spool);
    expect(spool.hasCapacity()).toBe(true);
    let accepted = false;
    const waiting = spool.consume(accessLogBatch(1000, n)).then(() => {
      accepted = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted).toBe(false);
    expect(spool.hasCapacity()).toBe(false);
    expect(spool.stats().bytes).toBeLessThanOrEqual(MiB);
    expect(await metricValue(h.deps, 'fleetline_spool_backpressure_waits_total')).toBe(1);
    c.release();
    await waiting;
    expect(accepted).toBe(true);
    const all = await c.waitForConfirmed(n + 1);
    expect(all.map((b) => batchId(b.batch))).toEqual([...Array(n + 1).keys()]);
    expect(spool.hasCapacity()).toBe(true);
  });

  it('rejects with a retryable BackpressureError when nothing drains within the bound, and drops nothing', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { max_bytes: MiB, backpressure_timeout: '100ms' });
    const n = await fill(h.spool);
    const started = Date.now();
    const err = await h.spool.consume(accessLogBatch(1000, n)).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(err).toBeInstanceOf(BackpressureError);
    expect((err as BackpressureError).retryable).toBe(true);
    expect((err as BackpressureError).retryAfterMs).toBeGreaterThan(0);
    expect(httpStatusFor(err)).toBe(503);
    expect(await metricValue(h.deps, 'fleetline_spool_backpressure_rejected_total')).toBe(1);
    expect(h.spool.stats().batches).toBe(n);
    c.release();
    expect((await c.waitForConfirmed(n)).length).toBe(n);
  });

  it('admits waiting batches in arrival order', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.stall();
    h = await openSpool([c], { max_bytes: MiB, backpressure_timeout: '5s' });
    const n = await fill(h.spool);
    const order: number[] = [];
    const waits = [0, 1, 2].map((k) =>
      h!.spool.consume(accessLogBatch(1000, n + k)).then(() => order.push(n + k)),
    );
    // A small batch that would fit must not overtake the queue.
    const small = h.spool.consume(accessLogBatch(1, n + 3)).then(() => order.push(n + 3));
    c.release();
    await Promise.all([...waits, small]);
    expect(order).toEqual([n, n + 1, n + 2, n + 3]);
    const all = await c.waitForConfirmed(n + 4);
    expect(all.map((b) => batchId(b.batch))).toEqual([...Array(n + 4).keys()]);
  });

  it('rejects a single batch larger than the whole spool at once, as permanent', async () => {
    h = await openSpool([], { max_bytes: MiB });
    const err = await h.spool.consume(accessLogBatch(20_000, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as PayloadTooLargeError).retryable).toBe(false);
    expect((err as Error).message).toMatch(
      /larger than the whole spool \(spool.max_bytes = 1048576\)/,
    );
    expect(h.spool.stats().batches).toBe(0);
    expect(h.spool.hasCapacity()).toBe(true);
  });
});
