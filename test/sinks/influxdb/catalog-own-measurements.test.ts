/**
 * fleetline's own measurements are what the dashboards are built on: `signalCatalog` finds the
 * numeric fields, levels and status classes from `fleet_rollup`'s field names (7 per rollup
 * field, levels folded into `level_other`, five status classes). `max_fields` / `max_tag_keys`,
 * set low to keep a client's generated keys out, must not cut them, at runtime or when an
 * earlier run's catalog is trimmed at start; they keep at least the defaults. Still bounded: a
 * client's records can be routed to a measurement of that name.
 */
import { describe, expect, it } from 'vitest';
import { signalCatalog } from '../../../src/generate/signal-catalog.ts';
import { type CatalogLimits, createCatalog } from '../../../src/sinks/influxdb/catalog.ts';
import { useWriterTables } from './writer-fixture.ts';

const TIGHT: CatalogLimits = { maxMeasurements: 10, maxFields: 4, maxTagKeys: 2 };

const rollupFields = Object.fromEntries(
  ['reqtime', 'upstream_time'].flatMap((f) =>
    ['count', 'sum', 'min', 'max', 'p50', 'p95', 'p99'].map((s) => [`${f}_${s}`, 1.5]),
  ),
);
const levelFields = { _count: 3, level_error: 1, level_info: 2, status_2xx: 3, status_5xx: 1 };

describe('catalog bounds › fleetline’s own measurements', () => {
  const t = useWriterTables();

  const signals = (c: ReturnType<typeof createCatalog>) =>
    signalCatalog({ roles: [], measurements: c.models(), instances: [] });

  it('keeps every field and tag key of fleet_rollup beyond max_fields / max_tag_keys', () => {
    const c = createCatalog(() => t.store.db, { limits: TIGHT, deps: t.deps });
    c.load();
    c.note('app', {}, { a: 1, b: 2, c: 3, d: 4, req_1: 5 }, 1);
    c.note(
      'fleet_rollup',
      { role: 'web', version: '1.0', measurement: 'app' },
      { ...levelFields, ...rollupFields },
      2,
    );
    c.report();
    expect(Object.keys(c.models().find((m) => m.name === 'app')!.fields)).toHaveLength(4);
    const rollup = c.models().find((m) => m.name === 'fleet_rollup')!;
    expect(Object.keys(rollup.fields)).toHaveLength(5 + 14);
    expect(rollup.tagKeys).toEqual(['measurement', 'role', 'version']);
    expect(signals(c)).toMatchObject({
      numericFields: ['reqtime', 'upstream_time'],
      levels: ['error', 'info'],
      statusClasses: ['2xx', '5xx'],
    });
    // Not novel any more: the writer does not rebuild its points again and again.
    expect(
      c.isNovelShape({
        measurement: 'fleet_rollup',
        tagNames: ['role', 'version', 'measurement'],
        tagCount: 3,
        fieldNames: Object.keys(rollupFields),
        fieldCount: 14,
      }),
    ).toBe(false);
  });

  it('keeps them when a catalog of an earlier run is trimmed at start', () => {
    const unbounded = createCatalog(() => t.store.db);
    unbounded.load();
    unbounded.note('fleet_rollup', { role: 'web', version: '1.0' }, levelFields, 1);
    unbounded.note('fleet_rollup', {}, rollupFields, 2);
    const c = createCatalog(() => t.store.db, { limits: TIGHT, deps: t.deps });
    c.load();
    expect(Object.keys(c.models()[0]!.fields)).toHaveLength(5 + 14);
    expect(signals(c).numericFields).toEqual(['reqtime', 'upstream_time']);
    expect(t.logLines.find((l) => l.event === 'influxdb_catalog_trimmed')).toBeUndefined();
  });

  it('still bounds them, at the default bounds, against generated keys', () => {
    const c = createCatalog(() => t.store.db, { limits: TIGHT, deps: t.deps });
    c.load();
    for (let i = 0; i < 1100; i++) c.note('fleet_rollup', { [`t${i}`]: 'x' }, { [`f${i}`]: 1 }, i);
    const rollup = c.models()[0]!;
    expect(Object.keys(rollup.fields)).toHaveLength(1000);
    expect(rollup.tagKeys).toHaveLength(100);
  });
});
