import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/spool/backoff.ts';

describe('spool backoff', () => {
  const policy = { initialMs: 100, maxMs: 30_000 };

  it.each([
    [1, 0, 50],
    [1, 0.999, 100],
    [2, 0, 100],
    [3, 0.5, 300],
    [9, 0, 12_800],
    [10, 0, 15_000],
    [50, 0.999, 29_985],
    [1000, 0, 15_000],
  ])('attempt %i with random %f waits %i ms', (attempt, random, want) => {
    expect(backoffDelay(policy, attempt, random)).toBe(want);
  });

  it('never exceeds the cap', () => {
    for (let a = 1; a < 100; a++)
      expect(backoffDelay(policy, a, 0.99999)).toBeLessThanOrEqual(30_000);
  });
});
