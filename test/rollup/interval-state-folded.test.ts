/** Counting the buckets an interval's sketches folded to stay within the bound. */
import { describe, expect, it } from 'vitest';
import {
  addRecord,
  decodeState,
  emptyState,
  encodeState,
  mergeState,
  takeFoldedBuckets,
} from '../../src/rollup/interval-state.ts';
import { MAX_BUCKETS } from '../../src/rollup/quantile-sketch.ts';
import { V1_WIDE_SKETCH_ANSWERS, V1_WIDE_SKETCH_BASE64 } from './sketch-v1-fixture.ts';

/** `n` values one bucket apart (1.03 > γ): each past the bound folds one bucket. */
function spread(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, k) => 1.03 ** (from + k));
}

describe('interval state › folded buckets', () => {
  it('counts what the sketches folded while built and merged, once', () => {
    const a = emptyState();
    for (const v of spread(MAX_BUCKETS + 10)) addRecord(a, { reqtime: v }, ['reqtime']);
    const b = emptyState();
    for (const v of spread(100, 5_000)) addRecord(b, { reqtime: v }, ['reqtime']);
    mergeState(a, b);
    // 10 while adding to a, 100 more when b's higher buckets came in.
    expect(takeFoldedBuckets(a)).toBe(110);
    expect(takeFoldedBuckets(a)).toBe(0);
    expect(takeFoldedBuckets(b)).toBe(0);
  });

  it('counts a row written before the bound, folded once on decode', () => {
    const row = JSON.stringify({ e: 6005, l: {}, s: {}, n: { reqtime: V1_WIDE_SKETCH_BASE64 } });
    const state = decodeState(row);
    // 5,173 buckets and the zero bucket, down to 2,048.
    expect(takeFoldedBuckets(state)).toBe(V1_WIDE_SKETCH_ANSWERS.buckets + 1 - MAX_BUCKETS);
    expect(takeFoldedBuckets(decodeState(encodeState(state)))).toBe(0);
  });
});
