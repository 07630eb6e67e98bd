/**
 * What one rollup interval of one (role, version, measurement) remembers, and the pure
 * operations on it: add an entry's record, merge two states, turn a state into the
 * `fleet_rollup` fields of docs/INFLUXDB-SCHEMA.md, and (de)serialise it for SQLite.
 *
 * Merging is exact (counts add, sketches merge bucket-wise), which is what lets a batch be
 * aggregated outside the transaction and folded into the stored state inside it.
 */
import type { RecordMap, RecordValue } from '../core/entry.ts';
import { QuantileSketch } from './quantile-sketch.ts';

export interface IntervalState {
  events: number;
  /** lower-cased level → count. */
  levels: Record<string, number>;
  /** status class digit ('1'…'5') → count. */
  statuses: Record<string, number>;
  /** numeric field name → sketch of every raw value seen (all instances together). */
  numeric: Record<string, QuantileSketch>;
}

/** Record keys read for the level, first present wins. */
const LEVEL_KEYS = ['level', 'severity', 'log_level'] as const;
const STATUS_KEYS = ['status', 'code'] as const;
/**
 * A level becomes a field name (`level_<level>`); anything that does not look like a level
 * (free text, 40-char junk) is folded into `level_other` so a misbehaving agent cannot create
 * unbounded field keys.
 */
const LEVEL_SHAPE = /^[a-z][a-z0-9_]{0,23}$/;

/**
 * `levels` and `statuses` have no prototype: their keys come from records (a level is any short
 * word an agent sends), and on a plain object a level named `constructor` would read
 * `Object.prototype.constructor` as its count — `Object + 1` is a string, BigInt() of it throws
 * at emission, and every later tick would fail on that interval.
 */
function counts(from?: Record<string, number>): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  // Only numbers: a row written before counts had no prototype may hold such a string.
  if (from) for (const [k, c] of Object.entries(from)) if (typeof c === 'number') out[k] = c;
  return out;
}

/** Keyed by configured field names, which may be any record key (`valueOf` too): no prototype. */
function sketches(): Record<string, QuantileSketch> {
  return Object.create(null) as Record<string, QuantileSketch>;
}

export function emptyState(): IntervalState {
  return { events: 0, levels: counts(), statuses: counts(), numeric: sketches() };
}

/**
 * Folds one entry's record into `state` (mutates it: used on a state the caller owns).
 * `tags` are a line-protocol point's tags: Telegraf-style writers put `level`/`status` there
 * rather than in the fields, so they are read when the record has none.
 */
export function addRecord(
  state: IntervalState,
  record: RecordMap,
  numericFields: readonly string[],
  tags?: Readonly<Record<string, string>>,
): void {
  state.events++;
  const level = levelOf(record) ?? (tags ? levelOf(tags) : undefined);
  if (level !== undefined) state.levels[level] = (state.levels[level] ?? 0) + 1;
  const cls = statusClassOf(record) ?? (tags ? statusClassOf(tags) : undefined);
  if (cls !== undefined) state.statuses[cls] = (state.statuses[cls] ?? 0) + 1;
  for (const f of numericFields) {
    const v = numberOf(record[f]);
    if (v === undefined) continue;
    let sketch = state.numeric[f];
    if (!sketch) {
      sketch = new QuantileSketch();
      state.numeric[f] = sketch;
    }
    sketch.add(v);
  }
}

/** Merges `from` into `into` (mutates `into`; `from` is left untouched). */
export function mergeState(into: IntervalState, from: IntervalState): IntervalState {
  into.events += from.events;
  for (const [k, c] of Object.entries(from.levels)) into.levels[k] = (into.levels[k] ?? 0) + c;
  for (const [k, c] of Object.entries(from.statuses))
    into.statuses[k] = (into.statuses[k] ?? 0) + c;
  for (const [f, s] of Object.entries(from.numeric)) {
    const mine = into.numeric[f];
    if (mine) mine.merge(s);
    else into.numeric[f] = s.clone();
  }
  return into;
}

export function cloneState(s: IntervalState): IntervalState {
  return mergeState(emptyState(), s);
}

/**
 * Buckets the state's sketches folded to stay within their bound (MAX_BUCKETS) since the last
 * call — while the state was built, merged into, or decoded from a row written before the
 * bound — and starts counting again from 0. For the rollup's counter: call it once on the
 * state a delivery produced.
 */
export function takeFoldedBuckets(s: IntervalState): number {
  let n = 0;
  for (const sk of Object.values(s.numeric)) {
    n += sk.folded;
    sk.folded = 0;
  }
  return n;
}

/**
 * The `fleet_rollup` fields. Integers are `bigint` so the line-protocol encoder writes them as
 * InfluxDB integers (`events=12i`), floats stay `number`. A numeric field with no values in the
 * interval writes nothing (a mean of nothing has no value).
 */
export function rollupFields(s: IntervalState): Record<string, bigint | number> {
  const out: Record<string, bigint | number> = { events: BigInt(s.events) };
  for (const k of Object.keys(s.levels).sort()) out[`level_${k}`] = BigInt(s.levels[k]!);
  for (const k of Object.keys(s.statuses).sort()) out[`status_${k}xx`] = BigInt(s.statuses[k]!);
  for (const f of Object.keys(s.numeric).sort()) {
    const sk = s.numeric[f]!;
    if (sk.count === 0) continue;
    out[`${f}_count`] = BigInt(sk.count);
    out[`${f}_sum`] = sk.sum;
    out[`${f}_mean`] = sk.mean();
    out[`${f}_max`] = sk.max;
    out[`${f}_p50`] = sk.quantile(0.5);
    out[`${f}_p95`] = sk.quantile(0.95);
    out[`${f}_p99`] = sk.quantile(0.99);
  }
  return out;
}

/** Serialised form: JSON with each sketch as base64 of its compact binary encoding. */
export function encodeState(s: IntervalState): string {
  const numeric: Record<string, string> = {};
  for (const [f, sk] of Object.entries(s.numeric))
    numeric[f] = Buffer.from(sk.encode()).toString('base64');
  return JSON.stringify({ e: s.events, l: s.levels, s: s.statuses, n: numeric });
}

export function decodeState(text: string): IntervalState {
  const raw = JSON.parse(text) as {
    e: number;
    l: Record<string, number>;
    s: Record<string, number>;
    n: Record<string, string>;
  };
  const numeric = sketches();
  for (const [f, b64] of Object.entries(raw.n))
    numeric[f] = QuantileSketch.decode(Buffer.from(b64, 'base64'));
  return { events: raw.e, levels: counts(raw.l), statuses: counts(raw.s), numeric };
}

/** Levels agents actually send, already in their canonical form (skips trim/case/regex). */
const COMMON_LEVELS: ReadonlySet<string> = new Set([
  'trace',
  'debug',
  'info',
  'notice',
  'warn',
  'warning',
  'error',
  'fatal',
  'critical',
]);

/** Status class digits as strings, by hundreds. */
const STATUS_CLASSES = ['0', '1', '2', '3', '4', '5'] as const;

function levelOf(record: Readonly<RecordMap>): string | undefined {
  for (const k of LEVEL_KEYS) {
    const v = record[k];
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' && COMMON_LEVELS.has(v)) return v;
    const text = (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '')
      .trim()
      .toLowerCase();
    if (text === '') continue;
    return LEVEL_SHAPE.test(text) ? text : 'other';
  }
  return undefined;
}

function statusClassOf(record: Readonly<RecordMap>): string | undefined {
  for (const k of STATUS_KEYS) {
    const v = numberOf(record[k]);
    if (v === undefined) continue;
    if (Number.isInteger(v) && v >= 100 && v <= 599) return STATUS_CLASSES[Math.floor(v / 100)];
  }
  return undefined;
}

/**
 * A finite decimal number, whole string. Each digit run can be matched one way only: the
 * former `\d+\.?\d*` split a run of digits between two quantifiers, and on a long run with junk
 * at the end the backtracking was quadratic (50 kB: seconds, with the event loop blocked).
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A number, a bigint, or a string that is entirely a finite decimal number. */
function numberOf(v: RecordValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '' || !DECIMAL.test(t)) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}
