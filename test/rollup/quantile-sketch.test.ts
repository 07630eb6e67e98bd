import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  QuantileSketch,
  RELATIVE_ACCURACY,
  SketchDecodeError,
} from '../../src/rollup/quantile-sketch.ts';

/** The reference the documented bound is stated against: the lower order statistic. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function sketchOf(values: readonly number[]): QuantileSketch {
  const s = new QuantileSketch();
  for (const v of values) s.add(v);
  return s;
}

function withinBound(estimate: number, exact: number): boolean {
  // A hair of slack for float rounding in log/pow; the bound itself is α·|x|.
  return Math.abs(estimate - exact) <= RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-9) + 1e-12;
}

const QS = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1];
const value = fc.oneof(
  fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
  fc.double({ min: -1e3, max: -1e-6, noNaN: true }),
  fc.constant(0),
  fc.integer({ min: 1, max: 5000 }),
);
const values = fc.array(value, { minLength: 1, maxLength: 300 });

function sameSketch(a: QuantileSketch, b: QuantileSketch): void {
  expect(a.count).toBe(b.count);
  expect(a.min).toBe(b.min);
  expect(a.max).toBe(b.max);
  expect(a.zeroCount).toBe(b.zeroCount);
  expect(new Map([...a.positive].sort())).toEqual(new Map([...b.positive].sort()));
  expect(new Map([...a.negative].sort())).toEqual(new Map([...b.negative].sort()));
  expect(a.sum).toBeCloseTo(b.sum, 6);
  for (const q of QS) expect(a.quantile(q)).toBe(b.quantile(q));
}

describe('quantile sketch', () => {
  it('answers every quantile within α of the exact order statistic', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const sorted = [...vs].sort((a, b) => a - b);
        const s = sketchOf(vs);
        for (const q of QS) {
          if (!withinBound(s.quantile(q), exactQuantile(sorted, q))) return false;
        }
        return s.count === vs.length && s.min === sorted[0] && s.max === sorted.at(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('holds the bound for magnitudes up to Number.MAX_VALUE, where γ^i overflows', () => {
    const huge = Number.MAX_VALUE;
    // Values in the top buckets: a representative 2γ^i/(γ+1) that overflows to Infinity must
    // not be clamped to the max of a far larger bucket.
    const cases: number[][] = [
      [9e307, 9e307, 9e307, 1.7e308],
      [huge / 1.015, huge],
      [-9e307, -9e307, -huge, 1],
      [1e-9, 1, 1e100, 1e200, 1e300, 9e307, huge],
    ];
    for (const vs of cases) {
      const sorted = [...vs].sort((a, b) => a - b);
      const s = sketchOf(vs);
      for (const q of QS) {
        const got = s.quantile(q);
        expect(withinBound(got, exactQuantile(sorted, q)), `q=${q} of ${vs}: ${got}`).toBe(true);
      }
    }
    const anyMagnitude = fc.oneof(
      fc.double({ min: 1e-9, max: huge, noNaN: true }),
      fc.double({ min: -huge, max: -1e-9, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(anyMagnitude, { minLength: 1, maxLength: 100 }), (vs) => {
        const sorted = [...vs].sort((a, b) => a - b);
        const s = sketchOf(vs);
        return QS.every((q) => withinBound(s.quantile(q), exactQuantile(sorted, q)));
      }),
      { numRuns: 500 },
    );
  });

  it('merge is the sketch of all values inserted into one (exact bins, counts, min, max)', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        sameSketch(sketchOf(a).merge(sketchOf(b)), sketchOf([...a, ...b]));
      }),
      { numRuns: 200 },
    );
  });

  it('merge is commutative and associative', () => {
    fc.assert(
      fc.property(values, values, values, (a, b, c) => {
        sameSketch(sketchOf(a).merge(sketchOf(b)), sketchOf(b).merge(sketchOf(a)));
        sameSketch(
          sketchOf(a).merge(sketchOf(b)).merge(sketchOf(c)),
          sketchOf(a).merge(sketchOf(b).merge(sketchOf(c))),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('merged quantiles stay within the bound of the exact quantiles of the union', () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 2, maxLength: 6 }), (parts) => {
        const merged = parts.map(sketchOf).reduce((x, y) => x.merge(y));
        const sorted = parts.flat().sort((x, y) => x - y);
        return QS.every((q) => withinBound(merged.quantile(q), exactQuantile(sorted, q)));
      }),
      { numRuns: 150 },
    );
  });

  it('decode(encode(s)) is identical to s', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const s = sketchOf(vs);
        const back = QuantileSketch.decode(s.encode());
        sameSketch(back, s);
        expect(back.sum).toBe(s.sum);
      }),
      { numRuns: 200 },
    );
  });

  it('serialises compactly: 10,000 latencies over three decades fit in under 2 KiB', () => {
    const s = new QuantileSketch();
    for (let i = 0; i < 10_000; i++) s.add(1 + ((i * 7919) % 1000) * ((i % 3) + 1));
    expect(s.encode().byteLength).toBeLessThan(2048);
  });

  it('ignores NaN and infinities and is empty (NaN quantiles) without values', () => {
    const s = new QuantileSketch();
    s.add(Number.NaN);
    s.add(Number.POSITIVE_INFINITY);
    expect(s.count).toBe(0);
    expect(s.quantile(0.5)).toBeNaN();
    expect(s.mean()).toBeNaN();
    expect(QuantileSketch.decode(s.encode()).count).toBe(0);
  });

  it('rejects bytes it did not write with SketchDecodeError', () => {
    const good = sketchOf([1, 2, 3]).encode();
    expect(() => QuantileSketch.decode(good.slice(0, good.length - 1))).toThrow(SketchDecodeError);
    expect(() => QuantileSketch.decode(Uint8Array.of(9, ...good.slice(1)))).toThrow(/version 9/);
    expect(() => QuantileSketch.decode(Uint8Array.of(...good, 0))).toThrow(/trailing/);
  });
});
