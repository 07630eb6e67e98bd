/**
 * The spool keeps several writer deliveries in flight (`pipeline`); `influxdb.concurrency` must
 * still bound the write requests the server sees at once, across all of them, and each
 * delivery's lines go out as full `batch_lines` bodies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../../src/store/sqlite.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../../helpers/influx-v2-endpoint.ts';
import { logEntries, spooledBatch, startV2Writer, tempStore } from './writer-fixture.ts';

describe('InfluxDB writer with deliveries in flight together', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let endpoint: InfluxV2Endpoint;
  let writer: InfluxWriter | undefined;

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
    endpoint = await startInfluxV2Endpoint({ token: 'secret', org: 'acme', bucket: 'logs' });
  });
  afterEach(async () => {
    await writer?.stop();
    await endpoint.close();
    await cleanup();
  });

  /** A v2 writer with `concurrency` 2 and the given body size, against the endpoint double. */
  const startWriter = (batchLines: number) =>
    startV2Writer(endpoint.url, store, { concurrency: 2, batch_lines: batchLines });

  it('declares a pipeline and holds concurrent requests to `concurrency` across deliveries', async () => {
    writer = await startWriter(100);
    expect(writer.pipeline).toBeGreaterThan(1);
    // Every request is answered 300 ms after it arrived.
    endpoint.respondNext(
      ...Array.from({ length: 3 }, () => ({ status: 204 as const, delayMs: 300 })),
    );
    const deliveries = [0, 1, 2].map((i) =>
      writer!.deliver([spooledBatch(logEntries(100, 1_700_000_000 + i), i + 1, i * 100)]),
    );
    await Promise.all(deliveries);
    const arrivals = endpoint.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(3);
    // Two went out together; the third only once one of them was answered.
    expect(arrivals[1]! - arrivals[0]!).toBeLessThan(250);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(250);
    expect(endpoint.lines()).toHaveLength(300);
  });

  it('sends a delivery as full batch_lines bodies', async () => {
    writer = await startWriter(5000);
    await writer.deliver([spooledBatch(logEntries(5000), 1, 0)]);
    expect(endpoint.requests.map((r) => r.body.split('\n').length)).toEqual([5000]);
  });
});
