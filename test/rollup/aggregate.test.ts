import { describe, expect, it } from 'vitest';
import type { Entry, Labels } from '../../src/core/entry.ts';
import { aggregateEntries, keyString } from '../../src/rollup/aggregate.ts';

const web = Object.freeze({ role: 'web', version: '1' }) as Labels;
const web2 = Object.freeze({ role: 'web', version: '2' }) as Labels;
const entry = (labels: Labels | undefined, tag: string, sec: number, level = 'info'): Entry => ({
  tag,
  sec,
  nsec: 0,
  record: { level, status: 200, reqtime: 0.1 },
  ...(labels ? { labels } : {}),
});

describe('aggregateEntries', () => {
  it('groups by role, version, measurement and interval even when consecutive entries switch group', () => {
    const entries = [
      entry(web, 'app', 100),
      entry(web, 'app', 101),
      entry(web2, 'app', 102),
      entry(web, 'app', 103, 'error'),
      entry(web, 'db', 104),
      entry(web, 'app', 111), // next 10 s interval
      entry({ role: 'web', version: '1' }, 'app', 105), // equal labels, another object
      entry(undefined, 'app', 106),
      entry(web, 'fleet_rollup', 107), // derived: never rolled up
    ];
    const { deltas, aggregated } = aggregateEntries(entries, {
      intervalMs: 10_000,
      numericFields: ['reqtime'],
    });
    expect(aggregated).toBe(8);
    const byKey = Object.fromEntries(
      [...deltas].map(([k, d]) => [k, { events: d.state.events, levels: d.state.levels }]),
    );
    const k = (role: string, version: string, measurement: string, startMs: number) =>
      keyString({ role, version, measurement, startMs });
    expect(byKey).toEqual({
      [k('web', '1', 'app', 100_000)]: { events: 4, levels: { info: 3, error: 1 } },
      [k('web', '2', 'app', 100_000)]: { events: 1, levels: { info: 1 } },
      [k('web', '1', 'db', 100_000)]: { events: 1, levels: { info: 1 } },
      [k('web', '1', 'app', 110_000)]: { events: 1, levels: { info: 1 } },
      [k('unknown', 'unknown', 'app', 100_000)]: { events: 1, levels: { info: 1 } },
    });
  });

  it('adds to the groups of an earlier call, which it is given', () => {
    const opts = { intervalMs: 10_000, numericFields: [] };
    const agg = aggregateEntries([entry(web, 'app', 100)], opts);
    aggregateEntries([entry(web, 'app', 101), entry(web, 'app', 102)], opts, agg);
    expect(agg.aggregated).toBe(3);
    expect([...agg.deltas.values()].map((d) => d.state.events)).toEqual([3]);
  });
});
