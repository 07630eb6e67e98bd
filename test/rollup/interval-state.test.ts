import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordMap } from '../../src/core/entry.ts';
import { aggregateEntries, intervalStart } from '../../src/rollup/aggregate.ts';
import {
  addRecord,
  decodeState,
  emptyState,
  encodeState,
  mergeState,
  rollupFields,
} from '../../src/rollup/interval-state.ts';
import { entry, T0 } from './fixtures.ts';

function fieldsState(records: RecordMap[], numeric: string[] = ['reqtime']) {
  const s = emptyState();
  for (const r of records) addRecord(s, r, numeric);
  return s;
}

function fieldsOf(records: RecordMap[], numeric: string[] = ['reqtime']) {
  const s = emptyState();
  for (const r of records) addRecord(s, r, numeric);
  return rollupFields(s);
}

describe('interval state', () => {
  it.each<[string, RecordMap, Record<string, bigint>]>([
    ['level is lower-cased', { level: 'WARN' }, { level_warn: 1n }],
    ['severity when level is absent', { severity: 'Error' }, { level_error: 1n }],
    ['log_level when the others are absent', { log_level: 'debug' }, { level_debug: 1n }],
    ['level wins over severity', { level: 'info', severity: 'error' }, { level_info: 1n }],
    [
      'an empty level falls through to severity',
      { level: ' ', severity: 'crit' },
      { level_crit: 1n },
    ],
    ['free text becomes other', { level: 'Disk is full!' }, { level_other: 1n }],
    ['a numeric level (syslog) is other', { level: 3 }, { level_other: 1n }],
    ['status number → class', { status: 204 }, { status_2xx: 1n }],
    ['status numeric string → class', { status: '404' }, { status_4xx: 1n }],
    ['code when status is absent', { code: 503 }, { status_5xx: 1n }],
    ['code when status is not numeric', { status: 'ok', code: '101' }, { status_1xx: 1n }],
    ['status wins over code', { status: 301, code: 500 }, { status_3xx: 1n }],
    ['out of range status is no class', { status: 600 }, {}],
    ['fractional status is no class', { status: 200.5 }, {}],
    ['bigint status', { status: 502n }, { status_5xx: 1n }],
  ])('%s', (_title, record, want) => {
    expect(fieldsOf([record])).toEqual({ events: 1n, ...want });
  });

  it('reads level and status from line-protocol tags when the fields have none', () => {
    const s = emptyState();
    addRecord(s, { reqtime: 3 }, ['reqtime'], { level: 'ERROR', status: '500', host: 'h' });
    addRecord(s, { level: 'info', status: 200 }, ['reqtime'], { level: 'error', status: '500' });
    expect(rollupFields(s)).toMatchObject({
      events: 2n,
      level_error: 1n,
      level_info: 1n,
      status_5xx: 1n,
      status_2xx: 1n,
    });
  });

  it('reads numeric fields from numbers, bigints and numeric strings only', () => {
    const f = fieldsOf([
      { reqtime: 10 },
      { reqtime: '20.5' },
      { reqtime: 30n },
      { reqtime: '1e1' },
      { reqtime: 'fast' },
      { reqtime: '' },
      { reqtime: true },
      { reqtime: null },
      { reqtime: [1] },
      { other: 99 },
    ]);
    expect(f).toMatchObject({ events: 10n, reqtime_count: 4n, reqtime_sum: 70.5, reqtime_max: 30 });
    expect(f.reqtime_mean).toBeCloseTo(70.5 / 4, 12);
  });

  it('writes no numeric fields for a field without values, integers as bigint, floats as number', () => {
    const f = fieldsOf([{ level: 'info' }], ['reqtime', 'bytes']);
    expect(f).toEqual({ events: 1n, level_info: 1n });
    const g = fieldsOf([{ reqtime: 5 }]);
    expect(typeof g.reqtime_count).toBe('bigint');
    expect(typeof g.reqtime_p99).toBe('number');
  });

  it('survives encode/decode and merges like one pass over all records', () => {
    const a = emptyState();
    const b = emptyState();
    const all = emptyState();
    const records: RecordMap[] = Array.from({ length: 200 }, (_, i) => ({
      level: i % 7 === 0 ? 'error' : 'info',
      status: 200 + (i % 4) * 100,
      reqtime: (i * 37) % 500,
    }));
    records.forEach((r, i) => {
      addRecord(i % 2 ? a : b, r, ['reqtime']);
      addRecord(all, r, ['reqtime']);
    });
    const merged = mergeState(decodeState(encodeState(a)), decodeState(encodeState(b)));
    const want = rollupFields(all);
    const got = rollupFields(merged);
    expect({ ...got, reqtime_sum: 0, reqtime_mean: 0 }).toEqual({
      ...want,
      reqtime_sum: 0,
      reqtime_mean: 0,
    });
    expect(got.reqtime_sum as number).toBeCloseTo(want.reqtime_sum as number, 9);
    // mergeState leaves its source untouched.
    expect(rollupFields(b).events).toBe(100n);
  });

  it('counts a level named like an Object.prototype member (constructor) as a plain level', () => {
    // A level is a record value, so any agent can send it. `levels` must not be a plain object
    // whose prototype supplies a value for that key: `Object + 1` is a string, and BigInt() of
    // it throws at emission, which would fail every tick (and every late delivery) for good.
    const s = emptyState();
    addRecord(s, { level: 'Constructor' }, []);
    addRecord(s, { level: 'constructor' }, [], undefined);
    addRecord(s, { msg: 'x' }, [], { level: 'constructor' });
    expect(rollupFields(s)).toEqual({ events: 3n, level_constructor: 3n });
    const merged = mergeState(decodeState(encodeState(emptyState())), s);
    mergeState(merged, decodeState(encodeState(s)));
    expect(rollupFields(merged)).toEqual({ events: 6n, level_constructor: 6n });
    const fresh = decodeState(encodeState(fieldsState([{ level: 'info' }])));
    addRecord(fresh, { level: 'constructor' }, []);
    expect(rollupFields(fresh)).toEqual({ events: 2n, level_info: 1n, level_constructor: 1n });
  });

  it('reads a long non-numeric string in linear time (no regex backtracking)', () => {
    // A record is the agent's to shape: a 50 kB run of digits with a letter at the end took
    // seconds per key (quadratic backtracking), with the event loop blocked throughout.
    const junk = `${'7'.repeat(50_000)}x`;
    const s = emptyState();
    const t = performance.now();
    addRecord(s, { status: junk, code: junk, reqtime: junk }, ['reqtime'], { status: junk });
    expect(performance.now() - t).toBeLessThan(250);
    expect(rollupFields(s)).toEqual({ events: 1n });
  });

  it.each<[string, number | undefined]>([
    ['1.', 1],
    ['.5', 0.5],
    ['+1.5E-3', 0.0015],
    ['-2e2', -200],
    [' 42 ', 42],
    ['1.2.3', undefined],
    ['1e', undefined],
    ['.', undefined],
    ['e5', undefined],
    ['0x10', undefined],
    ['1_000', undefined],
  ])('numeric string %j → %s', (text, want) => {
    const f = fieldsOf([{ reqtime: text }]);
    if (want === undefined) expect(f.reqtime_count).toBeUndefined();
    else expect(f.reqtime_sum).toBe(want);
  });

  it('summarises numeric fields named like Object.prototype members (valueOf, constructor)', () => {
    const fields = ['valueOf', 'constructor'];
    const s = emptyState();
    addRecord(s, { valueOf: 3, constructor: 4 }, fields);
    const t = decodeState(encodeState(s));
    addRecord(t, { valueOf: 5 }, fields);
    const merged = mergeState(emptyState(), t);
    expect(rollupFields(merged)).toMatchObject({
      events: 2n,
      valueOf_count: 2n,
      valueOf_sum: 8,
      constructor_count: 1n,
      constructor_max: 4,
    });
  });

  it('decodes a state stored with a non-numeric count (written before the fix) without it', () => {
    const poisoned = decodeState(
      '{"e":2,"l":{"constructor":"function Object() { [native code] }1","info":1},"s":{},"n":{}}',
    );
    expect(rollupFields(poisoned)).toEqual({ events: 2n, level_info: 1n });
  });
});

describe('aggregateEntries', () => {
  it('floors entry time to the interval start, using nanoseconds', () => {
    expect(intervalStart(T0 / 1000 + 9, 999_999_999, 10_000)).toBe(T0);
    expect(intervalStart(T0 / 1000 + 10, 0, 10_000)).toBe(T0 + 10_000);
    expect(intervalStart(T0 / 1000, 500_000_000, 250)).toBe(T0 + 500);
  });

  it('groups by role, version, measurement and interval, skipping derived measurements', () => {
    const agg = aggregateEntries(
      [
        entry(T0 + 1, { reqtime: 1 }),
        entry(T0 + 9_999, { reqtime: 1 }),
        entry(T0 + 10_000, { reqtime: 1 }),
        entry(T0 + 1, { reqtime: 1 }, { role: 'web', version: '' }),
        entry(T0 + 1, {}, undefined, 'fleet_members'),
      ],
      { intervalMs: 10_000, numericFields: ['reqtime'] },
    );
    expect(agg.aggregated).toBe(4);
    expect(
      [...agg.deltas.values()].map((d) => [d.role, d.version, d.startMs - T0, d.state.events]),
    ).toEqual([
      ['web', '1.0', 0, 2],
      ['web', '1.0', 10_000, 1],
      ['web', 'unknown', 0, 1],
    ]);
  });
});

describe('aggregation over deliveries', () => {
  const record = fc.record(
    {
      level: fc.constantFrom('info', 'warn', 'ERROR'),
      status: fc.constantFrom(200, 204, 301, 404, 500, '503'),
      reqtime: fc.double({ min: 0.001, max: 10_000, noNaN: true }),
    },
    { requiredKeys: [] },
  );
  it('any split of the entries into deliveries, in any order, gives the fields of one pass', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(record, fc.integer({ min: 0, max: 29_999 })), {
          minLength: 1,
          maxLength: 120,
        }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (items, cuts) => {
          const entries = items.map(([r, ms]) => entry(T0 + ms, r as RecordMap));
          const opts = { intervalMs: 10_000, numericFields: ['reqtime'] };
          const one = aggregateEntries(entries, opts);
          // Deliveries in reverse order, each one's state round-tripped through storage.
          const stored = new Map<string, ReturnType<typeof emptyState>>();
          let at = 0;
          const chunks: (typeof entries)[] = [];
          for (let i = 0; at < entries.length; i++) {
            const n = cuts[i % cuts.length]!;
            chunks.push(entries.slice(at, at + n));
            at += n;
          }
          for (const chunk of chunks.reverse()) {
            for (const [k, d] of aggregateEntries(chunk, opts).deltas) {
              const prev = stored.get(k);
              stored.set(k, decodeState(encodeState(prev ? mergeState(prev, d.state) : d.state)));
            }
          }
          expect([...stored.keys()].sort()).toEqual([...one.deltas.keys()].sort());
          for (const [k, d] of one.deltas) {
            const want = rollupFields(d.state);
            const got = rollupFields(stored.get(k)!);
            for (const f of Object.keys(want)) {
              if (f.endsWith('_sum') || f.endsWith('_mean'))
                expect(got[f] as number).toBeCloseTo(want[f] as number, 6);
              else expect(got[f]).toEqual(want[f]);
            }
            expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
