/**
 * Names with backslashes and unsigned integers beyond int64, through the real writer into a
 * real InfluxDB 1.6.7: every acknowledged record must arrive, queryable, under the documented
 * name (docs/INFLUXDB-SCHEMA.md), and none may be dead-lettered for its names or number range.
 * Both encoder paths are driven: log records (the one-pass line encoder) and line-protocol
 * points with their own tags (the map-based `toPoint`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/entry.ts';
import { safeKey, storedMeasurement, storedTagValue } from '../../src/sinks/influxdb/encode.ts';
import { createInfluxWriter, type InfluxWriter } from '../../src/sinks/influxdb/writer.ts';
import type { Store } from '../../src/store/sqlite.ts';
import { metricValue, testDeps } from '../helpers/deps.ts';
import { freshDatabase, influxql, influxUrl } from '../helpers/influxdb.ts';
import {
  LABELS,
  SCHEMA,
  spooledBatch,
  tempStore,
  writerConfig,
} from '../sinks/influxdb/writer-fixture.ts';

const T = 1_700_000_000;

describe('InfluxDB names and numbers that 1.x cannot take as they are', () => {
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

  const start = async (database: string, deps = testDeps()) => {
    const w = createInfluxWriter(writerConfig({ url: influxUrl(), database }), SCHEMA, deps, {
      store,
    });
    writers.push(w);
    await w.start();
    return w;
  };

  /** Every point of the database: measurement, its non-empty tags and non-null fields. */
  const stored = async (db: string) => {
    const [series = []] = await influxql('SELECT * FROM /.*/ GROUP BY *', { db, epoch: 'ns' });
    return series.flatMap((s) =>
      s.values.map((v) => ({
        measurement: s.name,
        tags: Object.fromEntries(Object.entries(s.tags ?? {}).filter(([, tv]) => tv !== '')),
        fields: Object.fromEntries(
          s.columns.map((c, i) => [c, v[i]]).filter(([c, fv]) => c !== 'time' && fv !== null),
        ),
      })),
    );
  };

  it('writes every name with a backslash, none dead-lettered, under its documented name', async () => {
    const db = await freshDatabase('escaping');
    const deps = testDeps();
    const w = await start(db, deps);
    const entries: Entry[] = [
      // Log records: field keys 1.x refuses (400) and a tag_keys value ending in a backslash.
      {
        tag: 'esc.fields',
        sec: T,
        nsec: 0,
        record: {
          'C:\\ x': 1,
          'a\\,b': 2,
          'a\\=b': 3,
          'end\\': 4,
          'q\\"x': 5,
          'two\\\\ x': 6,
          'in\\side': 7,
          level: 'warn\\',
        },
        labels: LABELS,
      },
      // Measurements 1.x acknowledges but cannot query, or refuses.
      { tag: 'disk C:\\ x', sec: T, nsec: 0, record: { v: 1 }, labels: LABELS },
      { tag: 'm\\,n', sec: T, nsec: 0, record: { v: 2 }, labels: LABELS },
      { tag: 'm\\=n', sec: T, nsec: 0, record: { v: 3 }, labels: LABELS },
      { tag: 'm\\"n', sec: T, nsec: 0, record: { v: 4 }, labels: LABELS },
      { tag: 'm\\', sec: T, nsec: 0, record: { v: 5 }, labels: LABELS },
      // Label tags (relabel extras) with backslashes in keys and values.
      {
        tag: 'esc.labels',
        sec: T,
        nsec: 0,
        record: { v: 6 },
        labels: { ...LABELS, 'k\\ x': 'v\\ y', 'dir\\': 'C:\\dir\\' },
      },
      // A line-protocol point (its own tags): the map-based path.
      {
        tag: 'esc.lp\\',
        sec: T,
        nsec: 0,
        record: { 'f\\ k': 1n, 'g\\': 'x' },
        tags: { 'tk\\,': 'tv\\' },
      },
    ];
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(0);
    const labels = { role: 'web', version: '1.4.2', slot: '0' };
    expect((await stored(db)).sort((a, b) => (a.measurement < b.measurement ? -1 : 1))).toEqual([
      { measurement: 'disk C:\\/ x', tags: labels, fields: { v: 1 } },
      {
        measurement: 'esc.fields',
        tags: { ...labels, level: 'warn\\/' },
        fields: {
          'C:\\/ x': 1,
          'a\\/,b': 2,
          'a\\/=b': 3,
          'end\\/': 4,
          'q\\"x': 5,
          'two\\\\/ x': 6,
          'in\\side': 7,
        },
      },
      {
        measurement: 'esc.labels',
        tags: { ...labels, 'k\\/ x': 'v\\/ y', 'dir\\/': 'C:\\dir\\/' },
        fields: { v: 6 },
      },
      {
        measurement: 'esc.lp\\/',
        tags: { 'tk\\/,': 'tv\\/' },
        fields: { 'f\\/ k': 1, 'g\\/': 'x' },
      },
      { measurement: 'm\\/', tags: labels, fields: { v: 5 } },
      { measurement: 'm\\/"n', tags: labels, fields: { v: 4 } },
      { measurement: 'm\\/,n', tags: labels, fields: { v: 2 } },
      { measurement: 'm\\/=n', tags: labels, fields: { v: 3 } },
    ]);
    // The catalog records the field and tag names as stored.
    const fields = w.catalog().find((m) => m.name === 'esc.fields')?.fields ?? {};
    expect(Object.keys(fields)).toContain('C:\\/ x');
    expect(Object.keys(fields)).toContain('end\\/');
  });

  it('writes uint64 values beyond int64 as wrapped integers: one field type, nothing dead-lettered', async () => {
    const db = await freshDatabase('uint64');
    const deps = testDeps();
    const w = await start(db, deps);
    // A uint64 id (msgpack uint64, line-protocol `u`) takes any value: about half lie beyond
    // int64. Written in one shard with the small ones, they must keep the integer type.
    const ids = [5n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 63n - 1n, 2n ** 64n - 1000n];
    const entries: Entry[] = ids.map((id, i) => ({
      tag: 'u64',
      sec: T,
      nsec: i,
      record: { id, msg: `m${i}` },
      labels: LABELS,
    }));
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    const [series = []] = await influxql('SELECT id, msg FROM u64', { db, epoch: 'ns' });
    expect(series[0]?.values.map((v) => [v[2], v[1]])).toEqual([
      ['m0', 5],
      ['m1', -1],
      ['m2', -(2 ** 63)],
      ['m3', 2 ** 63],
      ['m4', -1000],
    ]);
    const [keys = []] = await influxql('SHOW FIELD KEYS FROM u64', { db });
    expect(keys[0]?.values).toContainEqual(['id', 'integer']);
    expect(w.catalog().find((m) => m.name === 'u64')?.fields.id).toBe('integer');
  });

  // 1.x splits a body into lines before parsing them, skipping backslash *pairs* from the
  // line's start: `\\ ` in a tag value (a backslash, then the escaped space) looks like the end
  // of the tags there, a later `\\,` like a field separator, and the quote bookkeeping goes
  // wrong: the newline inside the string field ends the line (400 for a valid record).
  it('writes a tag value with a backslash before a space next to a multi-line message', async () => {
    const db = await freshDatabase('escaping_split');
    const deps = testDeps();
    const w = await start(db, deps);
    const entries: Entry[] = [
      {
        tag: 'split',
        sec: T,
        nsec: 0,
        record: { level: 'C:\\ x\\,y', msg: 'first\nsecond' },
        labels: LABELS,
      },
      { tag: 'split', sec: T, nsec: 1, record: { level: 'ok', msg: 'next' }, labels: LABELS },
    ];
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    const labels = { role: 'web', version: '1.4.2', slot: '0' };
    expect(
      (await stored(db)).sort((a, b) => (String(a.fields.msg) < String(b.fields.msg) ? -1 : 1)),
    ).toEqual([
      {
        measurement: 'split',
        tags: { ...labels, level: storedTagValue('C:\\ x\\,y') },
        fields: { msg: 'first\nsecond' },
      },
      { measurement: 'split', tags: { ...labels, level: 'ok' }, fields: { msg: 'next' } },
    ]);
  });

  // 1.x skips leading spaces, tabs and NULs of a line (and of the field section): a
  // measurement starting with a tab or NUL lost it (or, before `#`, the line became a comment
  // and nothing was stored), and so did a first field key.
  it('stores measurements and first field keys that start with a tab or NUL under their names', async () => {
    const db = await freshDatabase('escaping_blank');
    const deps = testDeps();
    const w = await start(db, deps);
    const names = ['\t#m', '\tm', '\0m', '\t', '_#m'];
    const entries: Entry[] = names.map((tag, i) => ({
      tag,
      sec: T,
      nsec: i,
      record: { '\tk': 1, n: i },
      labels: LABELS,
    }));
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    const got = (await stored(db)).sort((a, b) => Number(a.fields.n) - Number(b.fields.n));
    expect(got.map((r) => r.measurement)).toEqual(names.map(storedMeasurement));
    expect(new Set(got.map((r) => r.measurement)).size).toBe(names.length);
    for (const r of got) expect(Object.keys(r.fields).sort()).toEqual([safeKey('\tk'), 'n']);
    expect(safeKey('\tk')).not.toBe('k');
  });

  // influxd repeats a refusal's reason in the X-Influxdb-Error header, control characters of
  // the field name included; Node's strict parser refused that response as a network error, so
  // the writer retried the batch forever and delivery behind it stopped.
  it('dead-letters a type conflict on a field whose name holds a control character', async () => {
    const db = await freshDatabase('escaping_ctl');
    const w = await start(db);
    const one = (i: number, v: number | string): Entry => ({
      tag: 'ctl',
      sec: T,
      nsec: i,
      record: { 'f\x01': v },
      labels: LABELS,
    });
    await w.deliver([spooledBatch([one(0, 1)], 1, 0)]);
    await w.deliver([spooledBatch([one(1, 'x')], 2, 1)]);
    const dead = w.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toMatch(/field type conflict/);
  });

  // A tag_keys value made the series key: a broken logger's 70 KB `level` exceeded 1.x's 64 KB
  // key limit and influxd refused the point, so the whole record was dead-lettered.
  it('keeps an oversized tag_keys value as a field: delivered, nothing dead-lettered', async () => {
    const db = await freshDatabase('escaping_long_tag');
    const deps = testDeps();
    const w = await start(db, deps);
    const level = 'x'.repeat(70_000);
    const entries: Entry[] = [
      { tag: 'long', sec: T, nsec: 0, record: { level, msg: 'huge' }, labels: LABELS },
      { tag: 'long', sec: T, nsec: 1, record: { level: 'info', msg: 'fine' }, labels: LABELS },
      // On both sides of the bound: 256 characters is still a tag, 257 a field.
      {
        tag: 'long',
        sec: T,
        nsec: 2,
        record: { method: 'm'.repeat(256), msg: 'at' },
        labels: LABELS,
      },
      {
        tag: 'long',
        sec: T,
        nsec: 3,
        record: { method: 'm'.repeat(257), msg: 'over' },
        labels: LABELS,
      },
    ];
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(0);
    const [series = []] = await influxql(
      'SELECT "level"::field, "level"::tag, "method"::field, "method"::tag, msg FROM long',
      { db, epoch: 'ns' },
    );
    const rows = series.flatMap((s) =>
      s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))),
    );
    expect(rows.map((r) => [r.level, r.level_1, r.method, r.method_1, r.msg])).toEqual([
      [level, null, null, null, 'huge'],
      [null, 'info', null, null, 'fine'],
      [null, null, null, 'm'.repeat(256), 'at'],
      [null, null, 'm'.repeat(257), null, 'over'],
    ]);
  });

  // `time` was stored as `time_`, and so was `time_`: one value overwrote the other.
  it('keeps both values of a record with keys time and time_', async () => {
    const db = await freshDatabase('escaping_time');
    const deps = testDeps();
    const w = await start(db, deps);
    const entries: Entry[] = [
      {
        tag: 'times',
        sec: T,
        nsec: 0,
        record: { time: 'a', time_: 'b', time__: 'c' },
        labels: LABELS,
      },
      // Label tags (relabel extras) named the same way: 1.x refuses duplicate tags.
      {
        tag: 'times',
        sec: T,
        nsec: 1,
        record: { n: 1 },
        labels: { ...LABELS, time: 'x', time_: 'y' },
      },
      // A line-protocol point: the map-based path.
      {
        tag: 'times_lp',
        sec: T,
        nsec: 0,
        record: { v: 1 },
        tags: { time: 'p', time_: 'q' },
      },
    ];
    await w.deliver([spooledBatch(entries, 1, 0)]);
    expect(w.deadLetters()).toEqual([]);
    expect(await metricValue(deps, 'fleetline_influxdb_dead_letters_total')).toBe(0);
    const got = (await stored(db)).sort((a, b) =>
      a.measurement < b.measurement ? -1 : a.measurement > b.measurement ? 1 : 0,
    );
    const labels = { role: 'web', version: '1.4.2', slot: '0' };
    expect(got).toEqual([
      { measurement: 'times', tags: labels, fields: { time_: 'a', time__: 'b', time___: 'c' } },
      { measurement: 'times', tags: { ...labels, time_: 'x', time__: 'y' }, fields: { n: 1 } },
      {
        measurement: 'times_lp',
        tags: { time_: 'p', time__: 'q' },
        fields: { v: 1 },
      },
    ]);
    expect([safeKey('time'), safeKey('time_'), safeKey('time__')]).toEqual([
      'time_',
      'time__',
      'time___',
    ]);
  });
});
