import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/core/entry.ts';
import { createInfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { fakeClock } from '../../helpers/fake-clock.ts';
import {
  capturedLog,
  LABELS,
  SCHEMA,
  spooledBatch,
  useV2Writer,
  writerConfig,
} from './writer-fixture.ts';

const DAY = 24 * 3600 * 1000;

const entry = (i: number): Entry => ({
  tag: 'app.log',
  sec: 1_700_000_000,
  nsec: i,
  record: { load: `high ${i}` },
  labels: LABELS,
  instanceId: 'i-0abc',
});

describe('InfluxDB writer dead-letter bounds', () => {
  const h = useV2Writer();

  const start = async (
    deps: ReturnType<typeof testDeps>,
    deadLetters: { max_rows?: number; max_bytes?: number; max_age?: string },
    pruneIntervalMs?: number,
  ) => {
    h.writer = createInfluxWriter(
      writerConfig({
        url: h.endpoint.url,
        api: 'v2',
        org: 'acme',
        bucket: 'logs',
        token: 'secret',
        dead_letters: { max_rows: 100_000, max_bytes: 1 << 26, max_age: '7d', ...deadLetters },
      }),
      SCHEMA,
      deps,
      { store: h.store, ...(pruneIntervalMs ? { pruneIntervalMs } : {}) },
    );
    await h.writer.start();
    await h.writer.ready();
    return h.writer;
  };

  it('keeps at most max_rows of a refused burst, counting and logging the pruned lines', async () => {
    const { log, lines } = capturedLog();
    const deps = testDeps({ log });
    const w = await start(deps, { max_rows: 2 });
    h.endpoint.respondNext({
      status: 400,
      message: 'partial write: field type conflict dropped=5',
    });
    await w.deliver([spooledBatch([0, 1, 2, 3, 4].map(entry), 1, 0)]);
    expect(w.deadLetters().map((d) => d.line.match(/high (\d)/)?.[1])).toEqual(['4', '3']);
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(5);
    expect(
      await metricValue(deps, 'fleetline_influxdb_dead_letters_pruned_total', { reason: 'rows' }),
    ).toBe(3);
    expect(w.deadLetterStats()).toMatchObject({ rows: 2, pruned: { rows: 3 } });
    expect(lines.filter((l) => l.event === 'influxdb_dead_letters_pruned')).toHaveLength(1);
  });

  it('prunes dead letters older than max_age at start and every prune interval', async () => {
    const clock = fakeClock();
    const deps = testDeps({ clock });
    let w = await start(deps, {});
    h.endpoint.respondNext({
      status: 400,
      message: 'partial write: field type conflict dropped=1',
    });
    await w.deliver([spooledBatch([entry(0)], 1, 0)]);
    expect(w.deadLetters()).toHaveLength(1);
    await w.stop();

    clock.advance(8 * DAY);
    w = await start(deps, {});
    expect(w.deadLetters()).toEqual([]);
    h.endpoint.respondNext({
      status: 400,
      message: 'partial write: field type conflict dropped=1',
    });
    await w.deliver([spooledBatch([entry(1)], 2, 1)]);
    await w.stop();

    w = await start(deps, {}, 10);
    expect(w.deadLetters()).toHaveLength(1);
    clock.advance(8 * DAY);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.deadLetters()).toEqual([]);
    expect(
      await metricValue(deps, 'fleetline_influxdb_dead_letters_pruned_total', { reason: 'age' }),
    ).toBe(2);
  });

  it('applies the defaults when the config has no dead_letters section', async () => {
    h.writer = createInfluxWriter(
      writerConfig({
        url: h.endpoint.url,
        api: 'v2',
        org: 'acme',
        bucket: 'logs',
        token: 'secret',
      }),
      SCHEMA,
      testDeps(),
      { store: h.store },
    );
    await h.writer.start();
    expect(h.writer.deadLetterStats().limits).toEqual({
      max_rows: 100_000,
      max_bytes: 64 * 1024 * 1024,
      max_age: '7d',
    });
  });
});
