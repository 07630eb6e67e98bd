/** Delivery-loop behaviour under failure that the broader spool tests do not pin down. */
import { afterEach, describe, expect, it } from 'vitest';
import { accessLogBatch, recordingSpoolConsumer } from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

let h: SpoolHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('spool delivery loop', () => {
  it('keeps backing off after a failed delivery while new batches keep being committed', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.failNext(1_000_000);
    // First retry after 1–2 s: nothing may be offered again within the next 600 ms.
    h = await openSpool([c], { commit_interval: '1ms', retry_initial: '2s', retry_max: '30s' });
    await h.spool.consume(accessLogBatch(1, 0));
    while (c.calls < 1) await delay(5);
    const callsAfterFailure = c.calls;
    // The sink is down and ingestion goes on: a commit every ~20 ms.
    for (let i = 1; i <= 30; i++) {
      await h.spool.consume(accessLogBatch(1, i));
      await delay(20);
    }
    expect(c.calls).toBe(callsAfterFailure);
  });

  it('still ends the backoff at once when stopped', async () => {
    const c = recordingSpoolConsumer('influxdb');
    c.failNext(1_000_000);
    h = await openSpool([c], { commit_interval: '1ms', retry_initial: '20s', retry_max: '60s' });
    await h.spool.consume(accessLogBatch(1, 0));
    while (c.calls < 1) await delay(5);
    await delay(20);
    const t0 = Date.now();
    await h.spool.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
