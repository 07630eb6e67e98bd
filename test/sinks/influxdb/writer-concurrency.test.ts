/**
 * The spool keeps several writer deliveries in flight (`pipeline`); `influxdb.concurrency` must
 * still bound the write requests the server sees at once, across all of them, and each
 * delivery's lines go out as full `batch_lines` bodies.
 */
import { describe, expect, it } from 'vitest';
import { logEntries, spooledBatch, startV2Writer, useV2Writer } from './writer-fixture.ts';

describe('InfluxDB writer with deliveries in flight together', () => {
  const h = useV2Writer();

  /** A v2 writer with `concurrency` 2 and the given body size, against the endpoint double. */
  const startWriter = (batchLines: number) =>
    startV2Writer(h.endpoint.url, h.store, { concurrency: 2, batch_lines: batchLines });

  it('declares a pipeline and holds concurrent requests to `concurrency` across deliveries', async () => {
    h.writer = await startWriter(100);
    expect(h.writer.pipeline).toBeGreaterThan(1);
    // Every request is answered 300 ms after it arrived.
    h.endpoint.respondNext(
      ...Array.from({ length: 3 }, () => ({ status: 204 as const, delayMs: 300 })),
    );
    const deliveries = [0, 1, 2].map((i) =>
      h.writer!.deliver([spooledBatch(logEntries(100, 1_700_000_000 + i), i + 1, i * 100)]),
    );
    await Promise.all(deliveries);
    const arrivals = h.endpoint.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(3);
    // Two went out together; the third only once one of them was answered.
    expect(arrivals[1]! - arrivals[0]!).toBeLessThan(250);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(250);
    expect(h.endpoint.lines()).toHaveLength(300);
  });

  it('sends a delivery as full batch_lines bodies', async () => {
    h.writer = await startWriter(5000);
    await h.writer.deliver([spooledBatch(logEntries(5000), 1, 0)]);
    expect(h.endpoint.requests.map((r) => r.body.split('\n').length)).toEqual([5000]);
  });
});
