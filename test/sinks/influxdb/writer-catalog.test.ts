import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/core/entry.ts';
import { signalCatalog } from '../../../src/generate/signal-catalog.ts';
import { createCatalog } from '../../../src/sinks/influxdb/catalog.ts';
import { compileSchema } from '../../../src/sinks/influxdb/points.ts';
import type { Db } from '../../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { referenceToPoint } from './reference-encoder.ts';
import {
  capturedLog,
  LABELS,
  SCHEMA,
  spooledBatch,
  startV2Writer,
  useV2Writer,
} from './writer-fixture.ts';

const T = 1_700_000_000;
const plan = compileSchema(SCHEMA);

/**
 * The catalog as the writer used to build it: per point, `isNovel` on the map-based point's
 * tags and fields; after the call, `note` for the novel points the server accepted, in order.
 */
function referenceCatalog(deliveries: { entries: Entry[]; firstSeq: number; refused: number[] }[]) {
  const noDb = { prepare: () => ({ run: () => undefined, all: () => [] }) } as unknown as Db;
  const catalog = createCatalog(() => noDb);
  for (const d of deliveries) {
    const novel: Parameters<typeof catalog.note>[] = [];
    let line = 0;
    d.entries.forEach((e, i) => {
      const p = referenceToPoint(e, d.firstSeq + i, plan);
      if (!('line' in p)) return;
      const accepted = !d.refused.includes(line++);
      if (accepted && catalog.isNovel(p.measurement, p.tags, p.fields))
        novel.push([p.measurement, p.tags, p.fields, 0]);
    });
    for (const args of novel) catalog.note(...args);
  }
  return catalog.models();
}

const log = (record: Entry['record'], tag = 'app.log'): Entry => ({
  tag,
  sec: T,
  nsec: 0,
  record,
  labels: LABELS,
  instanceId: 'i-0abc',
});

describe('InfluxDB writer catalog', () => {
  const h = useV2Writer();

  const start = async (deps = testDeps()) => {
    h.writer = await startV2Writer(h.endpoint.url, h.store, {}, deps);
    return h.writer;
  };

  it('records the same measurements, tags and first-seen field types as the map-based rule', async () => {
    const w = await start();
    const first: Entry[] = [
      log({ msg: 'a', v: 'text', role: 'db', level: 'info', http: { status: 200, ua: 'x' } }),
      log({ msg: 'b', v: 1.5, version: '9', time: 3n, list: [1, 2] }),
      log({ n: null, big: 2n ** 70n, ok: true }, 'app.access.web'),
      {
        tag: 'cpu',
        sec: T,
        nsec: 0,
        record: { usage: 0.5 },
        tags: { host: 'h1', cpu: 'cpu0', instance_id: 'i-1' },
      },
      { tag: 'fleet_events', sec: T, nsec: 5, record: { event_id: 'ev-1', kind: 'replace' } },
    ];
    const second: Entry[] = [
      log({ msg: 'c', v: true, extra: 'new', level: '' }),
      log({ status: 'teapot', method: 418 }),
    ];
    await w.deliver([spooledBatch(first, 1, 0)]);
    await w.deliver([spooledBatch(second, 2, first.length)]);
    const want = referenceCatalog([
      { entries: first, firstSeq: 0, refused: [] },
      { entries: second, firstSeq: first.length, refused: [] },
    ]);
    expect(w.catalog()).toEqual(want);
    expect(want.find((m) => m.name === 'app.log')?.fields).toMatchObject({
      v: 'string',
      role_field: 'string',
      'http.status': 'float',
      time_: 'integer',
    });
  });

  it('leaves out what the server refused: the next accepted point sets the type', async () => {
    const deps = testDeps();
    const w = await start(deps);
    const entries = [log({ v: 'refused' }, 'app.typed'), log({ v: 2.5 }, 'app.typed')];
    // The two-line body is refused, then its first half alone: that line is dead-lettered.
    h.endpoint.respondNext({ status: 400, message: 'bad' }, { status: 400, message: 'bad' });
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toHaveLength(1);
    expect(w.catalog()).toEqual(referenceCatalog([{ entries, firstSeq: 0, refused: [0] }]));
    expect(w.catalog().find((m) => m.name === 'app.typed')?.fields).toEqual({
      instance_id: 'string',
      v: 'float',
    });
    expect(
      await metricValue(deps, 'fleetline_influxdb_points_written_total', {
        measurement: 'app.typed',
      }),
    ).toBe(1);
    expect(
      await metricValue(deps, 'fleetline_influxdb_dead_letters_total', {
        measurement: 'app.typed',
      }),
    ).toBe(1);
  });

  it('keeps a bounded catalog for records with generated keys, and writes every point', async () => {
    const { log: logger, lines } = capturedLog();
    const deps = testDeps({ log: logger });
    h.writer = await startV2Writer(
      h.endpoint.url,
      h.store,
      { catalog: { max_measurements: 1000, max_fields: 4, max_tag_keys: 100 } },
      deps,
    );
    // A field per request id: 100 distinct names, in two deliveries.
    const withIds = (from: number) =>
      Array.from({ length: 50 }, (_, i) => log({ msg: 'done', [`req_${from + i}`]: 1 }));
    await h.writer.deliver([spooledBatch(withIds(0), 1, 0)]);
    await h.writer.deliver([spooledBatch(withIds(50), 2, 50)]);

    expect(h.endpoint.lines()).toHaveLength(100);
    expect(h.endpoint.lines()[99]).toMatch(/req_99=1/);
    expect(h.writer.catalog().find((m) => m.name === 'app.log')?.fields).toEqual({
      instance_id: 'string',
      msg: 'string',
      req_0: 'float',
      req_1: 'float',
    });
    const stored = h.store.db
      .prepare("SELECT count(*) AS n FROM influxdb_catalog WHERE kind = 'field'")
      .get() as { n: number };
    expect(stored.n).toBe(4);
    // Every written point whose field was left out, once.
    expect(
      await metricValue(deps, 'fleetline_influxdb_catalog_names_refused_total', { kind: 'field' }),
    ).toBe(98);
    const limit = lines.filter((l) => l.event === 'influxdb_catalog_limit');
    expect(limit).toHaveLength(1);
    expect(limit[0]).toMatchObject({ measurements: ['app.log'] });
  });

  it('bounds the catalog by default', async () => {
    h.writer = await start();
    await h.writer.deliver([
      spooledBatch(
        [log(Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i])))],
        1,
        0,
      ),
    ]);
    expect(Object.keys(h.writer.catalog()[0]!.fields)).toHaveLength(1000);
  });

  it('still gives the dashboards their signals when a flood of measurements fills the catalog', async () => {
    h.writer = await startV2Writer(h.endpoint.url, h.store, {
      catalog: { max_measurements: 2, max_fields: 1000, max_tag_keys: 100 },
    });
    // Measurement names generated per client (a tag per request path, say) arrive first…
    const flood = Array.from({ length: 20 }, (_, i) =>
      log({ msg: 'x', status: '200' }, `app.path_${i}`),
    );
    await h.writer.deliver([spooledBatch(flood, 1, 0)]);
    // …then the rollup engine's first interval.
    const rollup: Entry = {
      tag: 'fleet_rollup',
      sec: T,
      nsec: 0,
      tags: { role: 'web', version: '1.4.2', measurement: 'app.path_0' },
      record: { _count: 20n, reqtime_p95: 0.2, level_info: 20n, status_2xx: 20n },
    };
    await h.writer.deliver([spooledBatch([rollup], 2, flood.length)]);
    expect(h.endpoint.lines()).toHaveLength(21);
    const names = h.writer.catalog().map((m) => m.name);
    expect(names).toEqual(['app.path_0', 'app.path_1', 'fleet_rollup']);
    const signals = signalCatalog({ roles: [], measurements: h.writer.catalog(), instances: [] });
    expect(signals).toMatchObject({
      requestMeasurements: ['app.path_0', 'app.path_1'],
      numericFields: ['reqtime'],
      levels: ['info'],
      statusClasses: ['2xx'],
    });
  });
});
