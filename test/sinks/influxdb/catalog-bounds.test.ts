import { describe, expect, it } from 'vitest';
import {
  type Catalog,
  type CatalogLimits,
  createCatalog,
} from '../../../src/sinks/influxdb/catalog.ts';
import type { PointShape } from '../../../src/sinks/influxdb/line-encoder.ts';
import { metricValue } from '../../helpers/deps.ts';
import { useWriterTables } from './writer-fixture.ts';

const LOOSE: CatalogLimits = { maxMeasurements: 1000, maxFields: 1000, maxTagKeys: 1000 };

const shape = (measurement: string, tags: string[], fields: string[]): PointShape => ({
  measurement,
  tagNames: tags,
  tagCount: tags.length,
  fieldNames: fields,
  fieldCount: fields.length,
});
const fieldsOf = (names: string[]) => Object.fromEntries(names.map((n) => [n, 1.5]));
const tagsOf = (names: string[]) => Object.fromEntries(names.map((n) => [n, 'x']));

describe('catalog bounds', () => {
  const t = useWriterTables();

  const open = (limits: Partial<CatalogLimits>): Catalog => {
    const c = createCatalog(() => t.store.db, { limits: { ...LOOSE, ...limits }, deps: t.deps });
    c.load();
    return c;
  };
  const refused = (kind: string) =>
    metricValue(t.deps, 'fleetline_influxdb_catalog_names_refused_total', { kind });
  const storedRows = (kind: string) =>
    (
      t.store.db.prepare('SELECT count(*) AS n FROM influxdb_catalog WHERE kind = ?').get(kind) as {
        n: number;
      }
    ).n;
  const limitLogs = () => t.logLines.filter((l) => l.event === 'influxdb_catalog_limit');

  it('records at most max_fields fields per measurement, the first seen, in memory and SQLite', async () => {
    const c = open({ maxFields: 3 });
    c.note('app', {}, fieldsOf(['a', 'b']), 1);
    c.note('app', {}, fieldsOf(['c', 'req_1', 'req_2']), 2);
    c.note('other', {}, fieldsOf(['x', 'y', 'z', 'w']), 3);
    c.report();
    expect(c.models().find((m) => m.name === 'app')?.fields).toEqual({
      a: 'float',
      b: 'float',
      c: 'float',
    });
    expect(Object.keys(c.models().find((m) => m.name === 'other')!.fields)).toEqual([
      'x',
      'y',
      'z',
    ]);
    expect(storedRows('field')).toBe(6);
    expect(await refused('field')).toBe(3);
  });

  it('records at most max_tag_keys tag keys per measurement', async () => {
    const c = open({ maxTagKeys: 2 });
    c.note('cpu', tagsOf(['host', 'cpu', 'request_id']), fieldsOf(['usage']), 1);
    c.report();
    expect(c.models()[0]).toMatchObject({ name: 'cpu', tagKeys: ['cpu', 'host'] });
    expect(storedRows('tag')).toBe(2);
    expect(await refused('tag')).toBe(1);
  });

  it("records at most max_measurements measurements, and fleetline's own always", async () => {
    const c = open({ maxMeasurements: 2 });
    for (const m of ['a', 'b', 'c', 'fleet_rollup', 'fleet_members', 'fleet_events'])
      c.note(m, {}, fieldsOf(['v']), 1);
    c.report();
    expect(c.models().map((m) => m.name)).toEqual([
      'a',
      'b',
      'fleet_events',
      'fleet_members',
      'fleet_rollup',
    ]);
    expect(await refused('measurement')).toBe(1);
    expect(c.isNovelShape(shape('d', [], ['v']))).toBe(false);
  });

  it('does not call a point novel when all its unknown names are beyond the bounds', async () => {
    const c = open({ maxFields: 2, maxTagKeys: 1 });
    c.note('app', tagsOf(['host']), fieldsOf(['a', 'b']), 1);
    // The writer rebuilds a point's maps only for novel shapes: with generated keys beyond
    // the bound that would be every point, for nothing.
    expect(c.isNovelShape(shape('app', ['host'], ['a', 'req_9']))).toBe(false);
    expect(c.isNovelShape(shape('app', ['host', 'request_id'], ['a']))).toBe(false);
    expect(c.isNovelShape(shape('app', [], ['a', 'b']))).toBe(false);
    expect(c.isNovelShape(shape('new', [], ['a']))).toBe(true);
    c.report();
    expect(await refused('field')).toBe(1);
    expect(await refused('tag')).toBe(1);
  });

  it('counts the names beyond a bound of a novel point once, when it is noted', async () => {
    const c = open({ maxFields: 2 });
    c.note('app', {}, fieldsOf(['a', 'b']), 1);
    c.note('app', tagsOf(['host']), {}, 1);
    // A new tag key makes the point novel: its field beyond the bound is counted by `note`
    // once the point was written, not by the check before (the server may refuse the point).
    expect(c.isNovelShape(shape('app', ['host', 'zone'], ['a', 'req_1']))).toBe(true);
    c.report();
    expect(await refused('field')).toBe(0);
    c.note('app', tagsOf(['host', 'zone']), fieldsOf(['a', 'req_1']), 2);
    c.report();
    expect(await refused('field')).toBe(1);
    expect(c.models()[0]!.tagKeys).toEqual(['host', 'zone']);
  });

  it('trims a catalog an earlier run grew beyond the bounds, keeping the names seen first', () => {
    const unbounded = createCatalog(() => t.store.db);
    unbounded.load();
    unbounded.note('app', tagsOf(['host']), fieldsOf(['msg', 'level']), 1);
    for (let i = 0; i < 50; i++) unbounded.note('app', {}, fieldsOf([`req_${i}`]), 10 + i);
    for (let i = 0; i < 5; i++) unbounded.note(`gen_${i}`, {}, fieldsOf(['v']), 100 + i);
    const c = open({ maxFields: 3, maxMeasurements: 3 });
    expect(c.models().map((m) => m.name)).toEqual(['app', 'gen_0', 'gen_1']);
    expect(Object.keys(c.models()[0]!.fields)).toEqual(['level', 'msg', 'req_0']);
    expect(storedRows('field')).toBe(5);
    // What the offline `dashboards` command reads from SQLite is the trimmed catalog too.
    const offline = createCatalog(() => t.store.db);
    offline.load();
    expect(offline.models()).toEqual(c.models());
    expect(t.logLines.find((l) => l.event === 'influxdb_catalog_trimmed')).toMatchObject({
      removed: { measurement: 3, field: 49 + 3 },
    });
  });

  it('logs each measurement that reaches a bound once, at most one line a minute', () => {
    const c = open({ maxFields: 1 });
    c.note('a', {}, fieldsOf(['v', 'x1']), 1);
    c.report();
    c.note('b', {}, fieldsOf(['v', 'x1']), 1);
    c.note('a', {}, fieldsOf(['v', 'x2']), 1);
    c.report();
    expect(limitLogs()).toHaveLength(1);
    expect(limitLogs()[0]).toMatchObject({ measurements: ['a'], kinds: { field: 1 } });
    t.clock.advance(60_000);
    c.note('a', {}, fieldsOf(['v', 'x3']), 1);
    c.report();
    expect(limitLogs()).toHaveLength(2);
    expect(limitLogs()[1]).toMatchObject({ measurements: ['b'] });
    t.clock.advance(60_000);
    c.note('a', {}, fieldsOf(['v', 'x4']), 1);
    c.note('b', {}, fieldsOf(['v', 'x4']), 1);
    c.report();
    expect(limitLogs()).toHaveLength(2);
  });
});
