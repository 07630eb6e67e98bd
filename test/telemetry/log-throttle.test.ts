import { describe, expect, it } from 'vitest';
import { logThrottle } from '../../src/telemetry/log-throttle.ts';
import { fakeClock } from '../helpers/fake-clock.ts';

describe('logThrottle', () => {
  it('lets the first call through, then one per interval of the clock', () => {
    const clock = fakeClock(1_000_000);
    const ready = logThrottle(60_000, () => clock.now());
    expect([ready(), ready()]).toEqual([true, false]);
    clock.advance(59_999);
    expect(ready()).toBe(false);
    clock.advance(1);
    expect([ready(), ready()]).toEqual([true, false]);
  });
});
