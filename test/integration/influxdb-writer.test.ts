import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InfluxdbConfig } from '../../src/config/schema.ts';
import type { Entry } from '../../src/core/entry.ts';
import { InfluxWriterStoppedError } from '../../src/sinks/influxdb/errors.ts';
import { createInfluxWriter, type InfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { freshDatabase, influxql, influxRows, influxUrl } from '../helpers/influxdb.ts';
import {
  LABELS,
  logEntries,
  SCHEMA,
  settlesWithin,
  spooledBatch,
  tempStore,
  writerConfig,
} from '../sinks/influxdb/writer-fixture.ts';

describe('InfluxDB writer against a real InfluxDB 1.6.7', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const writers: InfluxWriter[] = [];

  beforeEach(async () => {
    ({ store, cleanup } = await tempStore());
  });
  afterEach(async () => {
    for (const w of writers.splice(0)) await w.stop();
    await cleanup();
  });

  const start = async (database: string, over: Partial<InfluxdbConfig> = {}, deps = testDeps()) => {
    const w = createInfluxWriter(
      writerConfig({ url: influxUrl(), database, ...over }),
      SCHEMA,
      deps,
      { store },
    );
    writers.push(w);
    await w.start();
    return w;
  };

  it('writes 1,000 same-second entries of one instance as 1,000 points, and a replay keeps 1,000', async () => {
    const db = await freshDatabase('writer');
    const deps = testDeps();
    const w = await start(db, { batch_lines: 300, concurrency: 2 }, deps);
    const batch = spooledBatch(logEntries(1000), 1, 5_000);
    await w.deliver([batch]);
    const count = async () => (await influxRows('SELECT count(msg) FROM "app.log"', db))[0]?.count;
    expect(await count()).toBe(1000);
    await w.deliver([batch]);
    expect(await count()).toBe(1000);
    const [series = []] = await influxql('SHOW SERIES FROM "app.log"', { db });
    expect(series[0]?.values.map((v) => v[0])).toEqual([
      'app.log,level=error,role=web,slot=0,version=1.4.2',
      'app.log,level=info,role=web,slot=0,version=1.4.2',
    ]);
    expect(
      await metricValue(deps, 'fleetline_influxdb_points_written_total', {
        measurement: 'app.log',
      }),
    ).toBe(2000);
    expect(await metricValue(deps, 'fleetline_influxdb_requests_total', { status: '204' })).toBe(8);
  });

  it('dead-letters exactly the lines with a field type conflict, with the server message, and delivers the rest', async () => {
    const db = await freshDatabase('writer');
    const deps = testDeps();
    const w = await start(db, {}, deps);
    const entry = (i: number, reqtime: number | string): Entry => ({
      tag: 'app.log',
      sec: 1_700_000_100,
      nsec: 0,
      record: { msg: `m${i}`, reqtime },
      labels: LABELS,
    });
    await w.deliver([spooledBatch([entry(0, 0.5)], 1, 0)]);
    const mixed = Array.from({ length: 40 }, (_, i) =>
      entry(i + 1, i === 7 || i === 31 ? 'slow' : i),
    );
    await w.deliver([spooledBatch(mixed, 2, 1)]);

    const rows = await influxRows('SELECT msg, reqtime FROM "app.log"', db);
    expect(rows).toHaveLength(39);
    expect(rows.map((r) => r.msg)).not.toContain('m8');
    expect(rows.map((r) => r.msg)).not.toContain('m32');
    const dead = w.deadLetters();
    expect(dead.map((d) => d.line.match(/msg="(m\d+)"/)?.[1]).sort()).toEqual(['m32', 'm8']);
    for (const d of dead) {
      expect(d.reason).toMatch(
        /partial write: field type conflict: input field "reqtime" on measurement "app.log" is type string, already exists as type float/,
      );
      expect(d.measurement).toBe('app.log');
      expect(d.count).toBe(1);
    }
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(2);
    expect(await metricValue(deps, 'fleetline_influxdb_bisect_requests_total')).toBeGreaterThan(0);

    // A replay of the same batch does not duplicate dead letters; it counts them again.
    await w.deliver([spooledBatch(mixed, 2, 1)]);
    expect(w.deadLetters().map((d) => d.count)).toEqual([2, 2]);
  });

  it('dead-letters an entry that has no measurement without blocking the batch', async () => {
    const db = await freshDatabase('writer');
    const w = await start(db);
    await w.deliver([
      spooledBatch([{ tag: '', sec: 1, nsec: 0, record: { a: 1 } }, ...logEntries(3)], 1, 0),
    ]);
    expect((await influxRows('SELECT count(msg) FROM "app.log"', db))[0]?.count).toBe(3);
    expect(w.deadLetters().map((d) => d.reason)).toEqual([
      'entry has an empty tag: no measurement',
    ]);
  });

  it('records every measurement, tag key and typed field it wrote, and keeps the catalog across restarts', async () => {
    const db = await freshDatabase('writer');
    const w = await start(db);
    await w.deliver([
      spooledBatch(
        [
          ...logEntries(2),
          {
            tag: 'fleet_rollup',
            sec: 1_700_000_000,
            nsec: 0,
            record: { events: 2n, reqtime_p95: 0.2 },
            tags: { role: 'web', version: '1.4.2', measurement: 'app.log' },
          },
          { tag: 'app.flags', sec: 1_700_000_000, nsec: 0, record: { ok: true }, labels: LABELS },
        ],
        1,
        0,
      ),
    ]);
    const expected = [
      { name: 'app.flags', tagKeys: ['role', 'slot', 'version'], fields: { ok: 'boolean' } },
      {
        name: 'app.log',
        tagKeys: ['level', 'role', 'slot', 'version'],
        fields: { instance_id: 'string', msg: 'string', reqtime: 'float' },
      },
      {
        name: 'fleet_rollup',
        tagKeys: ['measurement', 'role', 'version'],
        fields: { events: 'integer', reqtime_p95: 'float' },
      },
    ];
    expect(w.catalog()).toEqual(expected);
    await w.stop();
    const again = await start(db);
    expect(again.catalog()).toEqual(expected);
  });

  it('creates a missing database on start and again when it disappears (404)', async () => {
    const db = `writer_missing_${Date.now()}`;
    const deps = testDeps();
    const w = await start(db, {}, deps);
    await w.deliver([spooledBatch(logEntries(5), 1, 0)]);
    await influxql(`DROP DATABASE "${db}"`);
    await w.deliver([spooledBatch(logEntries(5, 1_700_000_001), 2, 5)]);
    expect((await influxRows('SELECT count(msg) FROM "app.log"', db))[0]?.count).toBe(5);
    expect(await metricValue(deps, 'fleetline_influxdb_database_created_total')).toBe(2);
    expect(await metricValue(deps, 'fleetline_influxdb_requests_total', { status: '404' })).toBe(1);
    await influxql(`DROP DATABASE "${db}"`);
  });

  it('keeps retrying a 404 when it may not create the database, and rejects on stop so the spool keeps the data', async () => {
    const db = `writer_absent_${Date.now()}`;
    const deps = testDeps();
    const w = await start(db, { create_database: false }, deps);
    const pending = w.deliver([spooledBatch(logEntries(5), 1, 0)]);
    expect(await settlesWithin(pending, 400)).toBe(false);
    expect(
      await metricValue(deps, 'fleetline_influxdb_retries_total', { reason: '404' }),
    ).toBeGreaterThanOrEqual(2);
    await w.stop();
    await expect(pending).rejects.toBeInstanceOf(InfluxWriterStoppedError);
    await expect(w.deliver([spooledBatch(logEntries(1), 2, 5)])).rejects.toBeInstanceOf(
      InfluxWriterStoppedError,
    );
  });
});
