import { describe, expect, it } from 'vitest';
import { retryDelay } from '../../../src/sinks/influxdb/retry-delay.ts';

describe('retry delay', () => {
  const opts = (r: number) => ({ minMs: 100, maxMs: 1000, random: () => r });

  it('doubles per attempt between half and all of the exponential step, capped at max', () => {
    expect([1, 2, 3, 4, 5, 10].map((a) => retryDelay(a, opts(0)))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 10].map((a) => retryDelay(a, opts(0.999)))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('uses Retry-After instead, with at most 10 % jitter, still capped at max', () => {
    expect(retryDelay(1, opts(0), 700)).toBe(700);
    expect(retryDelay(1, opts(0.5), 700)).toBe(735);
    expect(retryDelay(1, opts(0), 60_000)).toBe(1000);
  });

  it('never retries sooner than the first backoff step, whatever Retry-After says', () => {
    // `Retry-After: 0` (or an HTTP date in the past) from a proxy answering every request so
    // would otherwise make the writer send back to back as fast as the answers come.
    expect(retryDelay(1, opts(0), 0)).toBe(50);
    expect(retryDelay(7, opts(0.5), 0)).toBe(50);
    expect(retryDelay(1, opts(0), 20)).toBe(50);
    expect(retryDelay(1, opts(0), 80)).toBe(80);
  });
});
