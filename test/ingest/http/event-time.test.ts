import { describe, expect, it } from 'vitest';
import {
  EventTimeValue,
  isStorableTime,
  parseEpochSeconds,
  timeFromValue,
} from '../../../src/ingest/http/event-time.ts';

describe('event times from fluentd HTTP clients', () => {
  it.each([
    ['1518756037.3137116', { sec: 1518756037, nsec: 313711600 }],
    ['1518756037', { sec: 1518756037, nsec: 0 }],
    ['1518756037.', { sec: 1518756037, nsec: 0 }],
    ['1518756037.123456789999', { sec: 1518756037, nsec: 123456789 }],
    ['-1.25', { sec: -2, nsec: 750000000 }],
    [' 12 ', { sec: 12, nsec: 0 }],
    ['1e9', undefined],
    ['abc', undefined],
    ['', undefined],
  ])('reads epoch seconds %j exactly', (text, want) => {
    expect(parseEpochSeconds(text)).toEqual(want);
  });

  it.each([
    [1700000000, { sec: 1700000000, nsec: 0 }],
    [1700000000.5, { sec: 1700000000, nsec: 500000000 }],
    ['1700000000.000000001', { sec: 1700000000, nsec: 1 }],
    ['2026-11-27T12:00:00Z', { sec: 1795780800, nsec: 0 }],
    ['2026-11-27T13:00:00.5+01:00', { sec: 1795780800, nsec: 500000000 }],
    ['2026-11-27 12:00:00.000000007z', { sec: 1795780800, nsec: 7 }],
    [new EventTimeValue(1700000000, 999999999), { sec: 1700000000, nsec: 999999999 }],
    ['27/Nov/2026:12:00:00 +0000', undefined],
    [true, undefined],
    [null, undefined],
    [Number.NaN, undefined],
  ])('reads a record time value %j', (value, want) => {
    expect(timeFromValue(value)).toEqual(want);
  });

  it('calls times beyond InfluxDB int64 nanoseconds unstorable', () => {
    expect(isStorableTime({ sec: 9_223_372_035, nsec: 0 })).toBe(true);
    expect(isStorableTime({ sec: 1e15, nsec: 0 })).toBe(false);
    expect(isStorableTime({ sec: -1e12, nsec: 0 })).toBe(false);
  });
});
