import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/entry.ts';
import { InfluxWriterStoppedError } from '../../src/sinks/influxdb/errors.ts';
import { createInfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { type Influxd, startInfluxd } from '../helpers/influxd.ts';
import {
  capturedLog,
  LABELS,
  logEntries,
  SCHEMA,
  settlesWithin,
  spooledBatch,
  tempStore,
  writerConfig,
} from '../sinks/influxdb/writer-fixture.ts';

/**
 * A private InfluxDB 1.6.7 with authentication on (so the writer's basic auth is real too) and a
 * low `max-values-per-tag`, to see a cardinality rejection.
 */
describe('InfluxDB writer through an outage of a private, authenticated InfluxDB', () => {
  let influxd: Influxd;
  let store: Store;
  let cleanup: () => Promise<void>;

  const query = async (q: string, db?: string) => {
    const params = new URLSearchParams({ q });
    if (db) params.set('db', db);
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      body: params,
    });
    return (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
  };

  beforeAll(async () => {
    influxd = await startInfluxd({
      env: { INFLUXDB_HTTP_AUTH_ENABLED: 'true', INFLUXDB_DATA_MAX_VALUES_PER_TAG: '50' },
    });
    // With auth on and no users yet, 1.x accepts exactly this statement unauthenticated.
    await fetch(`${influxd.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES` }),
    });
  });
  afterAll(async () => {
    await influxd?.destroy();
  });
  // A store per test: dead letters one test provokes must not show up in another's.
  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => {
    await cleanup?.();
  });

  it('holds deliver while InfluxDB is down for ~5 s and resolves after restart with every point present', async () => {
    const deps = testDeps();
    const w = createInfluxWriter(
      writerConfig({
        url: influxd.url,
        database: 'outage',
        username: 'admin',
        password: 'pw',
        min_retry_delay: '100ms',
        max_retry_delay: '1s',
        timeout: '2s',
      }),
      SCHEMA,
      deps,
      { store },
    );
    await w.start();
    try {
      await w.deliver([spooledBatch(logEntries(500, 1_700_000_000), 1, 0)]);
      const down = Date.now();
      await influxd.stop();
      const pending = w.deliver([spooledBatch(logEntries(500, 1_700_000_001), 2, 500)]);
      expect(await settlesWithin(pending, Math.max(0, 5000 - (Date.now() - down)))).toBe(false);
      await influxd.restart();
      await pending;
      const res = await query('SELECT count(msg) FROM "app.log"', 'outage');
      expect(res.results[0]?.series?.[0]?.values[0]?.[1]).toBe(1000);
      expect(
        await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: 'network' }),
      ).toBeGreaterThanOrEqual(2);
      expect(await metricValue(deps, 'fleetline_influxdb_points_written_total')).toBe(1000);
    } finally {
      await w.stop();
    }
  });

  it('answers a wrong password with retries and an error log, never a dead letter', async () => {
    const deps = testDeps();
    const { log, lines } = capturedLog();
    const w = createInfluxWriter(
      writerConfig({ url: influxd.url, database: 'outage', username: 'admin', password: 'nope' }),
      SCHEMA,
      { ...deps, log },
      { store },
    );
    await w.start();
    const pending = w.deliver([spooledBatch(logEntries(3, 1_700_000_002), 3, 1000)]);
    expect(await settlesWithin(pending, 300)).toBe(false);
    await w.stop();
    await expect(pending).rejects.toBeInstanceOf(InfluxWriterStoppedError);
    expect(
      await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: '401' }),
    ).toBeGreaterThanOrEqual(1);
    const retry = lines.find((l) => l.event === 'influxdb_write_retry');
    expect(retry?.level).toBe(50);
    expect(String(retry?.msg)).toMatch(
      /401: authorization failed.*check influxdb.username\/password\/token/,
    );
    expect(w.deadLetters()).toEqual([]);
  });

  it('dead-letters exactly the points refused by the max-values-per-tag limit', async () => {
    const deps = testDeps();
    const w = createInfluxWriter(
      writerConfig({
        url: influxd.url,
        database: 'cardinality',
        username: 'admin',
        password: 'pw',
      }),
      SCHEMA,
      deps,
      { store },
    );
    await w.start();
    try {
      const point = (i: number): Entry => ({
        tag: 'disk',
        sec: 1_700_000_000,
        nsec: 0,
        record: { used: i },
        tags: { device: `sd${i}` },
        labels: LABELS,
      });
      // The limit is checked against the count before a batch: 45 values pass, then 5 more
      // pass (45 < 50), then every new value is refused.
      await w.deliver([
        spooledBatch(
          Array.from({ length: 45 }, (_, i) => point(i)),
          10,
          10_000,
        ),
      ]);
      await w.deliver([
        spooledBatch(
          Array.from({ length: 5 }, (_, i) => point(45 + i)),
          11,
          10_045,
        ),
      ]);
      const mixed = [point(0), point(60), point(1), point(61)];
      await w.deliver([spooledBatch(mixed, 12, 10_050)]);
      const dead = w.deadLetters();
      expect(dead.map((d) => d.line.match(/device=(sd\d+)/)?.[1]).sort()).toEqual(['sd60', 'sd61']);
      expect(dead[0]?.reason).toMatch(
        /max-values-per-tag limit exceeded \(5\d\/50\): measurement="disk" tag="device"/,
      );
      const res = await query('SELECT count(used) FROM disk', 'cardinality');
      expect(res.results[0]?.series?.[0]?.values[0]?.[1]).toBe(52);
    } finally {
      await w.stop();
    }
  });
});
