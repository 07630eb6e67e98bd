import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/core/entry.ts';
import { createCatalog } from '../../../src/sinks/influxdb/catalog.ts';
import { compileSchema } from '../../../src/sinks/influxdb/points.ts';
import type { InfluxWriter } from '../../../src/sinks/influxdb/writer.ts';
import type { Db, Store } from '../../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../../helpers/deps.ts';
import { type InfluxV2Endpoint, startInfluxV2Endpoint } from '../../helpers/influx-v2-endpoint.ts';
import { referenceToPoint } from './reference-encoder.ts';
import { LABELS, SCHEMA, spooledBatch, startV2Writer, tempStore } from './writer-fixture.ts';

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

  const start = async (deps = testDeps()) => {
    writer = await startV2Writer(endpoint.url, store, {}, deps);
    return writer;
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
    endpoint.respondNext({ status: 400, message: 'bad' }, { status: 400, message: 'bad' });
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
});
