/**
 * The sketch right at its bucket bound: values over ~1,850…2,250 distinct buckets mixing
 * negatives, zero and positives, so the fold boundary lands on either side of zero, on the zero
 * bucket itself, or nowhere. Split into random parts, added in a shuffled order, merged in a
 * random tree with some parts going through encode/decode on the way: the result must be the
 * sketch of all values added to one, and every quantile must keep the documented bound (within
 * α at or above the lowest kept bucket, never under-estimated below it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_BUCKETS,
  QuantileSketch,
  RELATIVE_ACCURACY,
} from '../../src/rollup/quantile-sketch.ts';

const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** A value in the middle of bucket `k` (k > 0 positive, k < 0 negative, 0 the zero bucket). */
function bucketValue(k: number, tiny: boolean): number {
  if (k === 0) return tiny ? 1e-12 : 0;
  const v = GAMMA ** (Math.abs(k) - 600 - 0.5);
  return k > 0 ? v : -v;
}

function state(s: QuantileSketch) {
  return {
    count: s.count,
    min: s.min,
    max: s.max,
    zero: s.zeroCount,
    positive: [...s.positive].sort((a, b) => a[0] - b[0]),
    negative: [...s.negative].sort((a, b) => a[0] - b[0]),
  };
}

/** A small seeded generator, so a run (and its shrinking) replays the same draws. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

const nearBound = fc
  .record({
    negSpan: fc.integer({ min: 0, max: 1_000 }),
    extra: fc.integer({ min: -200, max: 200 }),
    n: fc.integer({ min: 0, max: 6_000 }),
    seed: fc.integer(),
  })
  .map(({ negSpan, extra, n, seed }) => {
    const posSpan = Math.max(1, MAX_BUCKETS - negSpan + extra);
    const rnd = lcg(seed);
    // Every bucket of the span once (so the count of buckets is known: ~2,048 + extra), then
    // random draws over it.
    const values: number[] = [bucketValue(0, false)];
    for (let k = 1; k <= negSpan; k++) values.push(bucketValue(-k, false));
    for (let k = 1; k <= posSpan; k++) values.push(bucketValue(k, false));
    for (let j = 0; j < n; j++) {
      const r = rnd();
      const k =
        r < 0.1
          ? 0
          : r < 0.4 && negSpan > 0
            ? -1 - Math.floor(rnd() * negSpan)
            : 1 + Math.floor(rnd() * posSpan);
      values.push(bucketValue(k, rnd() < 0.5));
    }
    return { values, seed };
  });

describe('quantile sketch › at the bucket bound', () => {
  it('merges in any order, grouping and through encode/decode to the sketch of all values', () => {
    let foldedRuns = 0;
    fc.assert(
      fc.property(nearBound, fc.integer({ min: 1, max: 6 }), ({ values, seed }, parts) => {
        const rnd = lcg(seed ^ 0x5bd1e995);
        const one = new QuantileSketch();
        for (const v of values) one.add(v);
        if (one.folded > 0) foldedRuns++;
        const shuffled = [...values].sort(() => rnd() - 0.5);
        const ps = Array.from({ length: parts }, () => new QuantileSketch());
        for (const v of shuffled) ps[Math.floor(rnd() * parts)]!.add(v);
        const roundTrip = (s: QuantileSketch) =>
          rnd() < 0.3 ? QuantileSketch.decode(s.encode()) : s;
        const pool = ps.map(roundTrip);
        while (pool.length > 1) {
          const a = pool.splice(Math.floor(rnd() * pool.length), 1)[0]!;
          const b = pool.splice(Math.floor(rnd() * pool.length), 1)[0]!;
          pool.push(roundTrip(rnd() < 0.5 ? a.merge(b) : b.merge(a)));
        }
        const reversed = new QuantileSketch();
        for (const v of shuffled.reverse()) reversed.add(v);
        for (const s of [pool[0]!, reversed]) {
          expect(s.buckets()).toBeLessThanOrEqual(MAX_BUCKETS);
          expect(state(s)).toEqual(state(one));
          for (const q of QS) expect(s.quantile(q)).toBe(one.quantile(q));
        }
      }),
      { numRuns: 25 },
    );
    // The generator must reach the bound in some runs, or this tests unbounded merging only.
    expect(foldedRuns).toBeGreaterThan(0);
  });

  it('answers every quantile within α at or above the lowest kept bucket, never under below it', () => {
    fc.assert(
      fc.property(nearBound, ({ values }) => {
        const s = new QuantileSketch();
        for (const v of values) s.add(v);
        const sorted = values.map((v) => (Math.abs(v) < 1e-9 ? 0 : v)).sort((a, b) => a - b);
        const edge =
          s.negative.size > 0
            ? -(GAMMA ** Math.max(...s.negative.keys()))
            : s.zeroCount > 0
              ? -1e-9
              : GAMMA ** (Math.min(...s.positive.keys()) - 1);
        for (let q = 0; q <= 1; q += 0.005) {
          const x = sorted[Math.floor(q * (sorted.length - 1))]!;
          const est = s.quantile(q);
          if (x > edge)
            expect(Math.abs(est - x)).toBeLessThanOrEqual(
              RELATIVE_ACCURACY * Math.abs(x) * (1 + 1e-9) + 1e-12,
            );
          else expect(est).toBeGreaterThanOrEqual(x);
        }
      }),
      { numRuns: 25 },
    );
  });
});
