/**
 * A mergeable quantile sketch for role rollups: a log-bucketed histogram in the style of
 * DDSketch (Masson, Rim & Lee, VLDB 2019) with relative accuracy α = 1%.
 *
 * Why this and not a t-digest: rollups are merged all the time (every delivery merges a batch
 * into the stored interval, a late entry merges into an emitted one, a replay must give the
 * same answer as the first run). A log-bucketed histogram merges by adding bucket counts, so
 * `merge(a, b)` is *exactly* the sketch of all values inserted into one — order and grouping do
 * not matter — and its error bound is a guarantee, not an empirical tendency. A t-digest's
 * centroids depend on insertion and merge order, so neither holds there.
 *
 * Error bound (the contract the rollup tests check): for 0 ≤ q ≤ 1 over n values, let
 * `x = sorted[floor(q · (n − 1))]` (the lower order statistic, 0-based). Then
 * `|quantile(q) − x| ≤ α · |x|` with α = 0.01 (past the bucket bound below: for x in the
 * buckets kept, which are the highest ones; lower quantiles are over-estimated). `count`, `min`, `max` are exact; `sum` is the
 * float sum (merging adds sums, so it can differ from a single pass by float rounding only).
 * Values with |v| < 1e-9 are counted as 0; NaN and ±Infinity are ignored by the caller.
 *
 * Layout: value v > 0 goes to bucket i = ceil(log_γ v) with γ = (1 + α)/(1 − α); bucket i
 * covers (γ^(i−1), γ^i] and is represented by 2γ^i/(γ + 1), which is within α of every value
 * in it. Negative values use a mirrored set of buckets. 1e-9…1e9 spans ~2,080 buckets;
 * latencies of one role typically use 200–400.
 *
 * Bucket bound: a sketch holds at most MAX_BUCKETS = 2,048 buckets (the zero bucket counts as
 * one), whatever the values: unbounded, hostile values (1e-300…1e300, either sign) would fill
 * ~73,000 buckets per field per interval, in memory and in SQLite. 2,048 buckets of 2 % cover
 * a ratio of γ^2047 ≈ 6·10^17 — latencies from 1 ns to 10 days in ns (~1,720 buckets) or 1 µs
 * to an hour in µs (~1,100) never reach it. Past the bound the lowest buckets *in value order*
 * (most negative first, then zero, then the smallest positives) are folded into the lowest
 * bucket kept: the sketch keeps exactly the 2,048 highest non-empty buckets, and the lowest of
 * them also counts every value below it. So:
 *   - the bound above still holds for every quantile whose order statistic x lies at or above
 *     the lowest kept bucket — for positive data, every x ≥ max/6·10^17. p99 keeps it unless
 *     the highest 1 % of the values alone fill more than 2,047 buckets above x's (p95: 5 %);
 *   - a quantile below it is over-estimated (never under): it answers the lowest kept bucket's
 *     value, clamped to the exact min; count, sum, min, max stay exact.
 * This is the same function of the multiset of values however they arrive: a value below the
 * lowest kept bucket is folded straight into it, a new bucket above pushes the lowest one into
 * its upper neighbour, and merge adds bins then folds to the 2,048 highest. The highest 2,048
 * non-empty buckets of a union are among those of its parts, so merge stays exactly
 * associative and commutative and equal to one sketch of all the values (`sum` up to float
 * rounding). `folded` counts the buckets folded (not stored), for the rollup's counter.
 *
 * Wire format (stored in SQLite, little-endian):
 *   u8 version=1 │ varint count │ f64 sum │ f64 min │ f64 max │ varint zeroCount
 *   │ bins(positive) │ bins(negative)
 *   bins = varint n │ n × (zigzag-varint index delta │ varint count)   (indexes ascending)
 * The bound did not change the format: a bounded sketch is an ordinary one with fewer bins.
 * A stored sketch from before the bound, with more buckets, decodes and is folded to the bound
 * on decode (its quantiles from the lowest kept bucket up are unchanged).
 */

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
const MIN_INDEXABLE = 1e-9;
const FORMAT_VERSION = 1;

/** Most buckets one sketch holds, the zero bucket included; see "Bucket bound" above. */
export const MAX_BUCKETS = 2048;
/** The bucket indexes a finite value ≥ MIN_INDEXABLE can have (ceil∘log is monotonic). */
const MIN_INDEX = bucketIndex(MIN_INDEXABLE);
const MAX_INDEX = bucketIndex(Number.MAX_VALUE);
/**
 * Folding walks the buckets in value order through one integer key per bucket:
 *
 *   negative bucket i → −SIDE − i   (bigger |v|, lower key)
 *   zero              → 0
 *   positive bucket i → SIDE + i
 *
 * SIDE > |index| for every index, so the three ranges do not overlap; keys fit an Int32.
 */
const SIDE = 1 << 21;

/** Thrown when stored bytes are not a sketch this code wrote; the data is not retryable. */
export class SketchDecodeError extends Error {
  override name = 'SketchDecodeError';
}

export class QuantileSketch {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  zeroCount = 0;
  /** bucket index → count, for values > 0 and for |values| of values < 0. */
  readonly positive = new Map<number, number>();
  readonly negative = new Map<number, number>();
  /**
   * Buckets folded into a kept one to stay within MAX_BUCKETS (a value landing below the kept
   * buckets counts one), by this sketch and the sketches merged into it, since it was made or
   * decoded; not stored. A reader that reports it sets it back to 0.
   */
  folded = 0;
  /** The lowest bucket key held, when known (kept up to date once the sketch is at the bound). */
  private floor: number | undefined;
  /**
   * Both maps' indexes ascending, until a bucket is created or removed (counts may change
   * meanwhile). The rollup answers three quantiles per field per interval; a decoded sketch
   * gets these from the stored order, so answering them sorts nothing.
   */
  private sorted: { positive: Int32Array; negative: Int32Array } | undefined;

  /** Adds one value. Non-finite values are ignored (they have no place in a latency). */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    // Only a new bucket can break the bound: the common path pays one untaken branch.
    if (value >= MIN_INDEXABLE) {
      const i = bucketIndex(value);
      if (bump(this.positive, i, 1)) this.grew(SIDE + i);
    } else if (value <= -MIN_INDEXABLE) {
      const i = bucketIndex(-value);
      if (bump(this.negative, i, 1)) this.grew(-SIDE - i);
    } else if (this.zeroCount++ === 0) this.grew(0);
  }

  /**
   * Adds every value of `other` into this sketch: bucket counts add, then the lowest buckets
   * fold to the bound — the same sketch as all the values inserted into one (see above).
   */
  merge(other: QuantileSketch): this {
    if (other.count === 0) return this;
    const before = this.buckets();
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.zeroCount += other.zeroCount;
    for (const [i, c] of other.positive) bump(this.positive, i, c);
    for (const [i, c] of other.negative) bump(this.negative, i, c);
    this.folded += other.folded;
    if (this.buckets() > MAX_BUCKETS) this.foldLowest();
    else if (this.buckets() !== before) {
      this.floor = undefined;
      this.sorted = undefined;
    }
    return this;
  }

  /** Buckets held, the zero bucket included: at most MAX_BUCKETS. */
  buckets(): number {
    return this.positive.size + this.negative.size + (this.zeroCount > 0 ? 1 : 0);
  }

  clone(): QuantileSketch {
    return new QuantileSketch().merge(this);
  }

  /** A bucket was just created for `key`; fold one bucket if that broke the bound. */
  private grew(key: number): void {
    this.sorted = undefined;
    if (this.buckets() <= MAX_BUCKETS) {
      if (this.floor !== undefined && key < this.floor) this.floor = key;
      return;
    }
    // Once here, the sketch stays at the bound and `floor` stays known: the scan is once.
    const floor = this.floor ?? this.lowestKey(key);
    if (key < floor) {
      // Below every kept bucket: it belongs in the lowest one.
      this.put(floor, this.take(key));
      this.floor = floor;
    } else {
      // The new bucket is kept; the lowest one goes into its upper neighbour. The floor only
      // rises, so the walks in keyAbove() add up to at most the whole key range per sketch.
      const next = this.keyAbove(floor);
      this.put(next, this.take(floor));
      this.floor = next;
    }
    this.folded++;
  }

  /** Folds the lowest buckets into the lowest of the MAX_BUCKETS highest ones. */
  private foldLowest(): void {
    const keys = new Int32Array(this.buckets());
    let n = 0;
    for (const i of this.negative.keys()) keys[n++] = -SIDE - i;
    if (this.zeroCount > 0) keys[n++] = 0;
    for (const i of this.positive.keys()) keys[n++] = SIDE + i;
    keys.sort();
    const excess = n - MAX_BUCKETS;
    if (excess <= 0) return;
    const floor = keys[excess]!;
    let moved = 0;
    for (let k = 0; k < excess; k++) moved += this.take(keys[k]!);
    this.put(floor, moved);
    this.floor = floor;
    this.folded += excess;
  }

  /** The lowest key held other than `except`. */
  private lowestKey(except: number): number {
    let low = Number.POSITIVE_INFINITY;
    for (const i of this.negative.keys()) {
      const k = -SIDE - i;
      if (k < low && k !== except) low = k;
    }
    if (low === Number.POSITIVE_INFINITY && this.zeroCount > 0 && except !== 0) return 0;
    if (low !== Number.POSITIVE_INFINITY) return low;
    for (const i of this.positive.keys()) {
      const k = SIDE + i;
      if (k < low && k !== except) low = k;
    }
    return low;
  }

  /** The next key held above `key` (one exists: the sketch holds MAX_BUCKETS + 1 buckets). */
  private keyAbove(key: number): number {
    let from = MIN_INDEX;
    if (key < 0) {
      for (let i = -key - SIDE - 1; i >= MIN_INDEX; i--) if (this.negative.has(i)) return -SIDE - i;
      if (this.zeroCount > 0) return 0;
    } else if (key > 0) from = key - SIDE + 1;
    for (let i = from; i <= MAX_INDEX; i++) if (this.positive.has(i)) return SIDE + i;
    throw new Error('quantile sketch: no bucket above the lowest one');
  }

  /** Removes the bucket `key` and returns its count. */
  private take(key: number): number {
    this.sorted = undefined;
    let c: number;
    if (key > 0) {
      c = this.positive.get(key - SIDE)!;
      this.positive.delete(key - SIDE);
    } else if (key < 0) {
      c = this.negative.get(-key - SIDE)!;
      this.negative.delete(-key - SIDE);
    } else {
      c = this.zeroCount;
      this.zeroCount = 0;
    }
    return c;
  }

  /** Adds `count` to the (held) bucket `key`. */
  private put(key: number, count: number): void {
    if (key > 0) bump(this.positive, key - SIDE, count);
    else if (key < 0) bump(this.negative, -key - SIDE, count);
    else this.zeroCount += count;
  }

  private sortedIndexes(): { positive: Int32Array; negative: Int32Array } {
    this.sorted ??= {
      positive: sortedIndexes(this.positive),
      negative: sortedIndexes(this.negative),
    };
    return this.sorted;
  }

  mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  /** The q-quantile (0 ≤ q ≤ 1) within the documented bound; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0 || !(q >= 0 && q <= 1)) return Number.NaN;
    if (q === 0) return this.min;
    if (q === 1) return this.max;
    const rank = Math.floor(q * (this.count - 1));
    let seen = 0;
    let estimate = Number.NaN;
    // Ascending value order: most negative first (largest |v| bucket), then 0, then positives.
    const { positive, negative: neg } = this.sortedIndexes();
    for (let k = neg.length - 1; k >= 0; k--) {
      const i = neg[k]!;
      seen += this.negative.get(i)!;
      if (seen > rank) {
        estimate = -bucketValue(i);
        break;
      }
    }
    if (Number.isNaN(estimate)) {
      seen += this.zeroCount;
      if (seen > rank) estimate = 0;
    }
    if (Number.isNaN(estimate)) {
      for (const i of positive) {
        seen += this.positive.get(i)!;
        if (seen > rank) {
          estimate = bucketValue(i);
          break;
        }
      }
    }
    // Clamping only moves the estimate towards the true value, so the bound still holds, and
    // it makes p99 never exceed the exact max.
    return Math.min(this.max, Math.max(this.min, estimate));
  }

  encode(): Uint8Array {
    const out = new ByteWriter(32 + 6 * (this.positive.size + this.negative.size));
    out.u8(FORMAT_VERSION);
    out.varint(this.count);
    out.f64(this.sum);
    out.f64(this.min);
    out.f64(this.max);
    out.varint(this.zeroCount);
    writeBins(out, this.positive);
    writeBins(out, this.negative);
    return out.bytes();
  }

  static decode(bytes: Uint8Array): QuantileSketch {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== FORMAT_VERSION)
      throw new SketchDecodeError(`unknown quantile sketch format version ${version}`);
    const s = new QuantileSketch();
    s.count = r.varint();
    s.sum = r.f64();
    s.min = r.f64();
    s.max = r.f64();
    s.zeroCount = r.varint();
    let binned = s.zeroCount;
    const positive = new Int32Array(r.binCount());
    binned += readBins(r, positive, s.positive);
    const negative = new Int32Array(r.binCount());
    binned += readBins(r, negative, s.negative);
    s.sorted = { positive, negative };
    if (!r.done()) throw new SketchDecodeError('trailing bytes after quantile sketch');
    if (binned !== s.count)
      throw new SketchDecodeError(
        `quantile sketch bins hold ${binned} values, header says ${s.count}`,
      );
    // Written before the bound (or by a build with a higher one): fold it now.
    if (s.buckets() > MAX_BUCKETS) s.foldLowest();
    return s;
  }
}

function bucketIndex(magnitude: number): number {
  return Math.ceil(Math.log(magnitude) / LN_GAMMA);
}

function bucketValue(index: number): number {
  const v = (2 * GAMMA ** index) / (GAMMA + 1);
  if (v <= Number.MAX_VALUE) return v;
  // The top buckets (values above ~8.8e307): 2γ^i overflows. The same representative is
  // (1 + α)·γ^(i−1); where even that overflows, every value in the bucket is above
  // MAX_VALUE/(1 + α), so MAX_VALUE is within α of each of them. (Returning Infinity would be
  // clamped to the max, which can sit in a far higher bucket.)
  return Math.min(Number.MAX_VALUE, GAMMA ** (index - 1) * (1 + RELATIVE_ACCURACY));
}

/** Bucket indexes ascending. Typed-array sort is numeric and much faster than a comparator. */
function sortedIndexes(bins: Map<number, number>): Int32Array {
  return Int32Array.from(bins.keys()).sort();
}

/** Adds `by` to bucket `index`; true when that created the bucket. */
function bump(bins: Map<number, number>, index: number, by: number): boolean {
  const c = bins.get(index);
  bins.set(index, c === undefined ? by : c + by);
  return c === undefined;
}

function writeBins(out: ByteWriter, bins: Map<number, number>): void {
  const indexes = sortedIndexes(bins);
  out.varint(indexes.length);
  let prev = 0;
  for (const i of indexes) {
    out.varint(zigzag(i - prev));
    out.varint(bins.get(i)!);
    prev = i;
  }
}

/** Reads `sorted.length` bins (the count was read by the caller) into `sorted` and `bins`. */
function readBins(r: ByteReader, sorted: Int32Array, bins: Map<number, number>): number {
  let index = 0;
  let total = 0;
  for (let k = 0; k < sorted.length; k++) {
    const delta = unzigzag(r.varint());
    // writeBins() writes each index once, ascending; the cached order relies on it.
    if (k > 0 && delta <= 0)
      throw new SketchDecodeError('quantile sketch bucket indexes are not ascending');
    index += delta;
    // No value has a bucket outside these; folding walks only this range.
    if (index < MIN_INDEX || index > MAX_INDEX)
      throw new SketchDecodeError(`quantile sketch bucket index ${index} out of range`);
    const c = r.varint();
    sorted[k] = index;
    bins.set(index, c);
    total += c;
  }
  return total;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Unsigned LEB128 over JS numbers (safe up to 2^53, far beyond any count we keep). */
class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  varint(v: number): void {
    this.room(8);
    let n = v;
    while (n >= 0x80) {
      this.u8((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.u8(n);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

class ByteReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new SketchDecodeError('truncated quantile sketch');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new SketchDecodeError('varint too long in quantile sketch');
  }
  /** A bin count, checked against the bytes left (a bin takes at least two). */
  binCount(): number {
    const n = this.varint();
    if (n > (this.buf.length - this.pos) / 2)
      throw new SketchDecodeError('truncated quantile sketch');
    return n;
  }
  done(): boolean {
    return this.pos === this.buf.length;
  }
}
