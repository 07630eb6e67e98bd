/**
 * A stored batch that cannot be decoded (written by an older version, a damaged file) must not
 * stop its consumers for good: its payload moves to spool_quarantine with the reason, an empty
 * batch takes its place, and every consumer goes on in order. Nothing is deleted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/sqlite.ts';
import { metricValue } from '../helpers/deps.ts';
import { accessLogBatch, batchId, recordingSpoolConsumer } from '../helpers/spool-fixtures.ts';
import { openSpool, type SpoolHarness } from './harness.ts';

const one = (db: Db, sql: string) => db.prepare(sql).get() as Record<string, unknown>;

describe('spool quarantine', () => {
  let h: SpoolHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('moves an undecodable batch aside and delivers the rest, in order, to every consumer', async () => {
    // Three batches stay stored (no consumer yet), then the second one's payload is damaged.
    h = await openSpool([]);
    for (let i = 0; i < 3; i++) await h.spool.consume(accessLogBatch(2, i));
    const damaged = Buffer.from([0xc1, 0x00, 0x01]);
    h.store.db.prepare('UPDATE spool_batches SET payload = ? WHERE seq = 2').run(damaged);

    const a = recordingSpoolConsumer('influxdb');
    const b = recordingSpoolConsumer('rollup');
    await h.reopen([a, b]);
    await a.waitForConfirmed(3);
    await b.waitForConfirmed(3);
    for (const c of [a, b]) {
      expect(c.confirmed.map((x) => x.seq)).toEqual([1, 2, 3]);
      expect(c.confirmed.map((x) => x.batch.entries.length)).toEqual([2, 0, 2]);
      expect(batchId(c.confirmed[2]!.batch)).toBe(2);
      // Entry numbering is untouched: the batch after keeps its place.
      expect(c.confirmed[2]!.firstEntrySeq).toBe(4);
    }

    const kept = one(h.store.db, 'SELECT * FROM spool_quarantine');
    expect(kept).toMatchObject({ seq: 2, first_entry_seq: 2, entries: 2 });
    expect(Buffer.from(kept.payload as Uint8Array)).toEqual(damaged);
    expect(kept.reason).toMatch(/PayloadFormatError|msgpack|0xc1/i);
    expect(await metricValue(h.deps, 'fleetline_spool_quarantined_batches_total')).toBe(1);

    // Once both confirmed, the rows are deleted and the counters are back to zero.
    await vi_waitFor(() => h!.spool.stats().batches === 0);
    expect(h.spool.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(one(h.store.db, 'SELECT bytes FROM spool_state').bytes).toBe(0);
  });

  it('still retries a batch it could decode but the consumer failed on', async () => {
    h = await openSpool([]);
    await h.spool.consume(accessLogBatch(1, 0));
    const a = recordingSpoolConsumer('influxdb');
    a.failNext(1);
    await h.reopen([a], { retry_initial: '5ms' });
    await a.waitForConfirmed(1);
    expect(a.calls).toBe(2);
    expect(one(h.store.db, 'SELECT count(*) AS n FROM spool_quarantine').n).toBe(0);
  });
});

async function vi_waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
