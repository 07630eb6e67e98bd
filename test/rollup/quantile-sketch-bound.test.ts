/**
 * The quantile sketch's bucket bound: whatever values arrive (1e-300…1e300, negatives,
 * subnormals), one sketch holds at most MAX_BUCKETS buckets; past it the lowest buckets are
 * folded upwards, so p95/p99 keep the documented relative error and only the lowest quantiles
 * lose accuracy; merging stays order-independent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeState } from '../../src/rollup/interval-state.ts';
import {
  MAX_BUCKETS,
  QuantileSketch,
  RELATIVE_ACCURACY,
} from '../../src/rollup/quantile-sketch.ts';
import { V1_WIDE_SKETCH_ANSWERS, V1_WIDE_SKETCH_BASE64 } from './sketch-v1-fixture.ts';

const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function sketchOf(values: readonly number[]): QuantileSketch {
  const s = new QuantileSketch();
  for (const v of values) s.add(v);
  return s;
}

/** Buckets the sketch holds, counted from its public bins (the zero bucket counts as one). */
function bucketsOf(s: QuantileSketch): number {
  return s.positive.size + s.negative.size + (s.zeroCount > 0 ? 1 : 0);
}

function withinBound(estimate: number, exact: number): boolean {
  return Math.abs(estimate - exact) <= RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-9) + 1e-12;
}

/**
 * The lower edge of the lowest bucket the sketch still holds: values above it sit in a kept
 * bucket and keep the bound. (Bucket i holds magnitudes in (γ^(i−1), γ^i]; zero holds
 * |v| < 1e-9.)
 */
function lowestKeptEdge(s: QuantileSketch): number {
  if (s.negative.size > 0) return -(GAMMA ** Math.max(...s.negative.keys()));
  if (s.zeroCount > 0) return -1e-9;
  return GAMMA ** (Math.min(...s.positive.keys()) - 1);
}

/** Log-uniform magnitudes over the whole double range, either sign, zeros and subnormals. */
const hostile = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -330, max: 308, noNaN: true }).map((e) => 10 ** e) },
  { weight: 3, arbitrary: fc.double({ min: -330, max: 308, noNaN: true }).map((e) => -(10 ** e)) },
  { weight: 1, arbitrary: fc.constantFrom(0, 5e-324, -5e-324, 2.2e-308, Number.MAX_VALUE) },
);
const hostileSets = fc.array(hostile, { minLength: 2_500, maxLength: 6_000 });
/** Realistic request latencies in ms: mostly 1…50, a tail to 30 s. */
const latency = fc.oneof(
  { weight: 9, arbitrary: fc.double({ min: 1, max: 50, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: 50, max: 30_000, noNaN: true }) },
);

const QS = [0, 0.001, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** Every bucket from 1e-9 to MAX_VALUE, both signs, and zero: ~73,000 buckets unbounded. */
function everyBucket(): number[] {
  const out = [0];
  for (let e = -9; e < 308.25; e += 0.004) out.push(10 ** e, -(10 ** e));
  return out;
}

describe('quantile sketch › bucket bound', () => {
  it('holds at most MAX_BUCKETS (2,048) buckets when every one of ~73,000 buckets is hit', () => {
    expect(MAX_BUCKETS).toBe(2048);
    const vs = everyBucket();
    const s = sketchOf(vs);
    expect(bucketsOf(s)).toBe(MAX_BUCKETS);
    expect(s.count).toBe(vs.length);
    expect(s.folded).toBeGreaterThan(70_000);
    // The encoded state is bounded too (it was 146 KB).
    expect(s.encode().byteLength).toBeLessThan(12 * 1024);
  });

  it('holds at most MAX_BUCKETS buckets for any hostile value set, counts and min/max exact', () => {
    fc.assert(
      fc.property(hostileSets, (vs) => {
        const s = sketchOf(vs);
        const sorted = [...vs].sort((a, b) => a - b);
        expect(bucketsOf(s)).toBeLessThanOrEqual(MAX_BUCKETS);
        expect(s.count).toBe(vs.length);
        expect(s.min).toBe(sorted[0]);
        expect(s.max).toBe(sorted.at(-1));
        let binned = s.zeroCount;
        for (const c of s.positive.values()) binned += c;
        for (const c of s.negative.values()) binned += c;
        expect(binned).toBe(vs.length);
      }),
      { numRuns: 40 },
    );
  });

  it('keeps every quantile above the lowest kept bucket within α; lower ones only over-estimate', () => {
    fc.assert(
      fc.property(hostileSets, (vs) => {
        const s = sketchOf(vs);
        const sorted = [...vs].sort((a, b) => a - b);
        const edge = lowestKeptEdge(s);
        for (const q of QS) {
          const exact = exactQuantile(sorted, q);
          const got = s.quantile(q);
          if (exact > edge)
            expect(withinBound(got, exact), `q=${q}: ${got} vs ${exact}`).toBe(true);
          else expect(got, `q=${q} below the kept buckets`).toBeGreaterThanOrEqual(exact);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps p95/p99 of latencies within α when hostile values flood the low end', () => {
    fc.assert(
      fc.property(
        fc.array(latency, { minLength: 4_000, maxLength: 6_000 }),
        fc.array(
          fc.oneof(
            // Below every latency: tiny positives, subnormals, and negatives of any size.
            fc.double({ min: -9, max: 0, noNaN: true }).map((e) => 10 ** e),
            fc.constantFrom(0, 5e-324, -5e-324),
            fc.double({ min: -9, max: 308, noNaN: true }).map((e) => -(10 ** e)),
            fc.double({ min: -9, max: 308, noNaN: true }).map((e) => -(10 ** e)),
          ),
          { minLength: 1_000, maxLength: 4_000 },
        ),
        (lat, junk) => {
          // Enough distinct low buckets to pass the bound whatever was drawn.
          const spread = Array.from({ length: 2_500 }, (_, k) => -(1.03 ** k));
          const vs = [...junk, ...spread, ...lat];
          const s = sketchOf(vs);
          const sorted = [...vs].sort((a, b) => a - b);
          expect(bucketsOf(s)).toBeLessThanOrEqual(MAX_BUCKETS);
          expect(s.folded).toBeGreaterThan(0);
          for (const q of [0.95, 0.99, 0.999]) {
            const exact = exactQuantile(sorted, q);
            const got = s.quantile(q);
            expect(withinBound(got, exact), `q=${q}: ${got} vs ${exact}`).toBe(true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('keeps every quantile of all-positive values within 17 decades of the max', () => {
    // 2,048 buckets of 2 % span γ^2047 ≈ 6e17: a value that far below the max is still kept.
    const span = GAMMA ** (MAX_BUCKETS - 1);
    expect(span).toBeGreaterThan(5e17);
    fc.assert(
      fc.property(
        fc.array(
          fc.double({ min: -300, max: 300, noNaN: true }).map((e) => 10 ** e),
          { minLength: 2_500, maxLength: 5_000 },
        ),
        (vs) => {
          const s = sketchOf(vs);
          const sorted = [...vs].sort((a, b) => a - b);
          for (const q of QS) {
            const exact = exactQuantile(sorted, q);
            if (exact * span >= s.max * (1 + 1e-9))
              expect(withinBound(s.quantile(q), exact), `q=${q}`).toBe(true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('never folds realistic ranges: latency 1 µs … 1 h in µs, or 1 ns … 10 days in ns', () => {
    for (const max of [3.6e9, 8.64e14]) {
      const s = new QuantileSketch();
      // Every bucket of the range, several times.
      for (let v = 1; v <= max; v *= 1.005) s.add(v);
      expect(s.folded).toBe(0);
      expect(bucketsOf(s)).toBeLessThan(MAX_BUCKETS);
    }
  });

  it('merging in any order and grouping gives the sketch of all values inserted into one', () => {
    fc.assert(
      fc.property(
        hostileSets,
        fc.array(fc.nat(7), { minLength: 6_000, maxLength: 6_000 }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        (vs, partOf, order) => {
          const parts: number[][] = Array.from({ length: 8 }, () => []);
          for (const [k, v] of vs.entries()) parts[partOf[k]!]!.push(v);
          const one = sketchOf(vs);
          const sketches = parts.map(sketchOf);
          // Left fold in index order.
          const left = sketches.map((s) => s.clone()).reduce((a, b) => a.merge(b));
          // Fold in a shuffled order, into a fresh sketch.
          const shuffled = sketches
            .map((s, k) => [order[k]!, s] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, s]) => s.clone());
          const mixed = shuffled.reduce((a, b) => b.merge(a));
          // A balanced tree.
          const c = sketches.map((s) => s.clone());
          const tree = c[0]!
            .merge(c[1]!)
            .merge(c[2]!.merge(c[3]!))
            .merge(c[4]!.merge(c[5]!).merge(c[6]!.merge(c[7]!)));
          // Inserting the values in reverse.
          const reversed = sketchOf([...vs].reverse());
          const scale = vs.reduce((a, v) => a + Math.abs(v), 0);
          for (const s of [left, mixed, tree, reversed]) {
            expect(bucketsOf(s)).toBeLessThanOrEqual(MAX_BUCKETS);
            expect(s.count).toBe(one.count);
            expect(s.min).toBe(one.min);
            expect(s.max).toBe(one.max);
            expect(s.zeroCount).toBe(one.zeroCount);
            expect(new Map([...s.positive].sort())).toEqual(new Map([...one.positive].sort()));
            expect(new Map([...s.negative].sort())).toEqual(new Map([...one.negative].sort()));
            for (const q of QS) expect(s.quantile(q)).toBe(one.quantile(q));
            // Sums are floats added in another order: equal up to rounding.
            if (Number.isFinite(scale))
              expect(Math.abs(s.sum - one.sum)).toBeLessThanOrEqual(scale * 1e-12);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('counts folded buckets, and a merge carries the count of what was merged in', () => {
    // 3,000 values one bucket apart (1.03 > γ), ascending: each past the bound folds one.
    const a = sketchOf(Array.from({ length: 3000 }, (_, k) => 1.03 ** k));
    expect(bucketsOf(a)).toBe(MAX_BUCKETS);
    expect(a.folded).toBe(3000 - MAX_BUCKETS);
    const b = sketchOf([1, 2, 3]);
    expect(b.folded).toBe(0);
    b.merge(a);
    expect(b.folded).toBeGreaterThanOrEqual(a.folded);
    expect(a.clone().folded).toBe(a.folded);
    a.folded = 0;
    expect(a.clone().folded).toBe(0);
  });

  it('decodes a state written before the bound, folds it to the bound, high quantiles unchanged', () => {
    const old = V1_WIDE_SKETCH_ANSWERS;
    const bytes = Buffer.from(V1_WIDE_SKETCH_BASE64, 'base64');
    const s = QuantileSketch.decode(bytes);
    expect(bucketsOf(s)).toBe(MAX_BUCKETS);
    expect(s.folded).toBe(old.buckets + 1 - MAX_BUCKETS);
    expect(s.count).toBe(old.count);
    expect(s.sum).toBe(old.sum);
    expect(s.min).toBe(old.min);
    expect(s.max).toBe(old.max);
    expect(s.quantile(0.9)).toBe(old.p90);
    expect(s.quantile(0.95)).toBe(old.p95);
    expect(s.quantile(0.99)).toBe(old.p99);
    expect(s.quantile(0.999)).toBe(old.p999);
    // The median was in a folded bucket: now over-estimated, never under.
    expect(s.quantile(0.5)).toBeGreaterThanOrEqual(old.p50);
    // Re-encoded it is smaller, and reads back the same.
    const again = s.encode();
    expect(again.byteLength).toBeLessThan(bytes.byteLength / 2);
    const back = QuantileSketch.decode(again);
    expect(back.folded).toBe(0);
    expect(new Map([...back.positive].sort())).toEqual(new Map([...s.positive].sort()));
    for (const q of QS) expect(back.quantile(q)).toBe(s.quantile(q));
  });

  it('decodes a stored interval row from before the bound into bounded sketches', () => {
    const row = JSON.stringify({
      e: 6005,
      l: { info: 1 },
      s: {},
      n: { reqtime: V1_WIDE_SKETCH_BASE64 },
    });
    const state = decodeState(row);
    const s = state.numeric.reqtime!;
    expect(bucketsOf(s)).toBe(MAX_BUCKETS);
    expect(s.quantile(0.99)).toBe(V1_WIDE_SKETCH_ANSWERS.p99);
  });

  it('answers from the current buckets when values arrive between quantile calls and after decode', () => {
    fc.assert(
      fc.property(fc.array(hostileSets, { minLength: 2, maxLength: 4 }), (chunks) => {
        // One sketch asked after every chunk (its cached bucket order must follow the adds and
        // folds), one decoded and added to, one built at once: all answer the same.
        const live = new QuantileSketch();
        let stored = new QuantileSketch();
        const seen: number[] = [];
        for (const chunk of chunks) {
          for (const v of chunk) live.add(v);
          stored = QuantileSketch.decode(stored.encode());
          stored.quantile(0.5);
          for (const v of chunk) stored.add(v);
          seen.push(...chunk);
          const fresh = sketchOf(seen);
          for (const q of QS) {
            expect(live.quantile(q)).toBe(fresh.quantile(q));
            expect(stored.quantile(q)).toBe(fresh.quantile(q));
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it('rejects stored bins it could not have written: unordered, out of range, too many', () => {
    // Format 1 by hand: version, count 2, sum, min, max, zeroCount 0, positive bins, negative bins.
    const head = (count: number) => {
      const b = Buffer.alloc(1 + 1 + 24 + 1);
      b[0] = 1;
      b[1] = count;
      return b;
    };
    const bins = (...bytes: number[]) => Buffer.from(bytes);
    const zz = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1);
    // Indexes 10 then 10 − 3: not ascending.
    expect(() =>
      QuantileSketch.decode(Buffer.concat([head(2), bins(2, zz(10), 1, zz(-3), 1, 0)])),
    ).toThrow(/not ascending/);
    // Index 40,000: past Number.MAX_VALUE's bucket.
    expect(() =>
      QuantileSketch.decode(
        Buffer.concat([head(1), bins(1, 0x80, 0xf1, 0x04, 1, 0)]), // zigzag(40000) = 80000
      ),
    ).toThrow(/out of range/);
    // A bin count far beyond the bytes left (would allocate 2^28 slots).
    expect(() =>
      QuantileSketch.decode(Buffer.concat([head(1), bins(0x80, 0x80, 0x80, 0x80, 0x01, 2, 1, 0)])),
    ).toThrow(/truncated/);
  });
});
