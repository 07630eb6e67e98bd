import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/core/entry.ts';
import { pointTimeNs, pointTimeText } from '../../../src/sinks/influxdb/point-time.ts';

const entry = (tag: string, sec: number, nsec: number, eventId?: string): Entry => ({
  tag,
  sec,
  nsec,
  record: eventId === undefined ? {} : { event_id: eventId },
});

describe('point time text', () => {
  it('is String(pointTimeNs) for any time, tag and sequence, carries included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('app', 'fleet_rollup', 'fleet_members', 'fleet_events'),
        fc.oneof(
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
          fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
          fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1),
        ),
        fc.oneof(
          fc.constantFrom(0, 1, 999_000_000, 999_999_999, 998_999_999),
          fc.integer({ min: 0, max: 999_999_999 }),
        ),
        fc.oneof(
          fc.constantFrom(0, 999_999, 1_000_000, 2_999_999, -1, -1_000_001),
          fc.integer({ min: 0, max: 3_000_000 }),
          fc.maxSafeInteger(),
        ),
        fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
        (tag, sec, nsec, seq, eventId) => {
          const e = entry(tag, sec, nsec, eventId);
          expect(pointTimeText(e, seq)).toBe(String(pointTimeNs(e, seq)));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('writes the edge cases as the BigInt sum', () => {
    expect(pointTimeText(entry('app', 0, 5), 0)).toBe('5');
    expect(pointTimeText(entry('app', 0, 999_999_999), 1)).toBe('1000000000');
    expect(pointTimeText(entry('app', 1, 999_999_999), 1)).toBe('2000000000');
    expect(pointTimeText(entry('app', 1_700_000_000, 999_999_000), 2_001_999)).toBe(
      '1700000001000000999',
    );
    expect(pointTimeText(entry('app', -2, 500), 3)).toBe('-1999999497');
    expect(pointTimeText(entry('app', Number.MAX_SAFE_INTEGER, 999_999_999), 1)).toBe(
      `${2n ** 53n}000000000`,
    );
    expect(pointTimeText(entry('fleet_rollup', 1_700_000_000, 42), 7)).toBe('1700000000000000042');
    expect(pointTimeText(entry('fleet_events', 5, 123_456_789, 'ev-1'), 9)).toBe(
      String(pointTimeNs(entry('fleet_events', 5, 123_456_789, 'ev-1'), 9)),
    );
  });
});
