/**
 * The line-protocol encoder: pure functions from a point (measurement, tags, flat fields, ns
 * time) to one line of InfluxDB line protocol, plus the record flattening that turns a fluentd
 * record into flat scalar fields. No I/O; the writer and the benchmarks call it directly.
 *
 * Rules (each checked against a real InfluxDB 1.6.7, see test/sinks/influxdb/encode.test.ts):
 * - Measurement: `,` and space are backslash-escaped. A leading `#` would turn the line into a
 *   comment (the server answers 204 and stores nothing), so such a name gets a `_` prefix (see
 *   leading blanks below).
 * - Tag keys, tag values: `,` `=` space are backslash-escaped. Field keys: the same, and `"`.
 * - Newlines: a raw newline ends the line in names and tags, so in measurement, tag keys/values
 *   and field keys `\n` / `\r` are *replaced* by the two characters `\n` / `\r` (stored
 *   literally; names and tags are identifiers, losing a newline there is harmless). A NUL is
 *   replaced the same way, by `\0`: 1.x would store it, but InfluxQL reads a NUL as the end of
 *   the query (inside quotes too), so no query could name it. Inside
 *   string field values a raw newline is accepted by 1.x (the parser honours the quotes;
 *   measured), so log messages with stack traces stay byte-exact.
 * - Backslashes are kept, except where 1.x cannot store one (measured on 1.6.7): at the end of
 *   any name or tag value it escapes the separator after it (400); in a field key before a
 *   space, comma or `=` (the field scanner reads `\\` as a pair, so an odd run there is a 400);
 *   in a measurement before a space, comma, `=` or `"` (204, but the point is never queryable,
 *   or the backslash is dropped). There, and in tag keys (so a record key is stored under one
 *   name whether it becomes a tag or a field), a `/` is put right after the backslash:
 *   `C:\dir\` → `C:\dir\/`, `a\ b` → `a\/ b`. The rule is injective: a backslash already
 *   followed by slashes and then such a position gets one more (`a\/ b` → `a\// b`), so two
 *   distinct names are never stored as one; dropping one `/` after each such backslash gives the
 *   original name back. Tag values need it at the end and before a space: 1.x splits a body into
 *   lines before parsing, skipping backslash *pairs* from the line's start, so `a\\ b` (the
 *   value's backslash, then the escaped space) looks like the end of the tags there; a later
 *   `\\,` or quote then upsets its quote bookkeeping, and a newline in a string field ends
 *   the line (400), or the line runs on into the next ones. `a\,b` as a value is stored exactly.
 *   `safeKey` applies it to keys, so the catalog records the names InfluxDB stores.
 * - Leading blanks: 1.x skips spaces, tabs and NULs at the start of a line and of its field
 *   section, so a measurement or a (first) field key starting with a tab would lose it, or be
 *   refused, or (a tab before `#`) turn the line into a comment (a NUL is already `\0`, a
 *   space escaped). Such a measurement, like one starting with `#`, and such a key get a `_` in
 *   front; to stay injective, so does a name that already starts with underscores followed by
 *   one of those (`_#x` → `__#x`).
 * - String field values: wrapped in `"`, with `"` and `\` escaped.
 * - Numbers: a JS `number` is always written as a float, even when it is integral. fluentd JSON
 *   carries `1` and `1.5` for the same key, and InfluxDB fixes a field's type with its first
 *   write per shard, so "integral → integer" would dead-letter every later fractional value.
 *   Only a `bigint` (msgpack int64, or a producer that asks for it explicitly, e.g. rollup
 *   counts) becomes an integer (`42i`). NaN/±Infinity have no line-protocol form and are skipped.
 * - Unsigned beyond int64 (line-protocol `u`, msgpack uint64 above 2^63 − 1): 1.x has no
 *   unsigned type (it refuses `5u`) and refuses `i` beyond int64; a float would not do either,
 *   since the field's other values are integers and a shard keeps a field's first type (the
 *   line would be dead-lettered for a type conflict). So such a value is written as the int64
 *   with the same 64 bits (`v − 2^64`: 2^64 − 1 → `-1i`, 2^63 → `-9223372036854775808i`):
 *   lossless, one integer field, the unsigned value is `v + 2^64` for a negative `v`. A bigint
 *   beyond both ranges (only a producer's own) falls back to a float.
 * - Booleans `true`/`false`; `Uint8Array` → base64 string; nested maps flattened as `a.b`;
 *   arrays → JSON string; `null` skipped.
 * - Names InfluxDB rejects or silently drops: a tag or field key `time` (1.x drops a `time`
 *   field without error and rejects a `time` tag) is written as `time_`; to stay injective, a
 *   key that is `time` followed by underscores gets one more (`time_` → `time__`).
 * - Tags are sorted by key (what the server would do anyway; it also makes lines comparable);
 *   tags with an empty key or value are dropped. Fields keep the order of the point's field map
 *   (record order), which is deterministic, so a replay gives byte-identical lines; sorting
 *   them would cost time and buy nothing. Timestamps are integer nanoseconds.
 */
import type { RecordMap, RecordValue } from '../../core/entry.ts';

export type FieldScalar = string | number | bigint | boolean;
export type FieldType = 'float' | 'integer' | 'string' | 'boolean';

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  /** Flat scalar fields (see `flattenFields`). */
  fields: Record<string, FieldScalar>;
  /** Epoch nanoseconds. */
  timeNs: bigint;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const TWO_64 = 2n ** 64n;

/**
 * The longest `schema.tag_keys` record value promoted to a tag, in UTF-16 code units (a string's
 * `length`: O(1), where a UTF-8 byte count would scan it). Such values (level, status, method)
 * are short; a longer one is a broken logger's, and as a tag it would grow the series key
 * towards 1.x's 64 KB limit (65,535 bytes, past which influxd refuses the point and the record is
 * dead-lettered) and create a series per value. 256 units are at most 768 UTF-8 bytes, 1,536
 * escaped: a few such tags stay far below the limit. A longer value stays an ordinary string
 * field under its own key.
 */
export const MAX_TAG_VALUE_LENGTH = 256;

/** Whether a `tag_keys` record value becomes a tag: a finite scalar, a string not too long. */
export function promotable(v: unknown): v is string | number | boolean | bigint {
  switch (typeof v) {
    case 'string':
      return v.length <= MAX_TAG_VALUE_LENGTH;
    case 'number':
      return Number.isFinite(v);
    case 'boolean':
    case 'bigint':
      return true;
    default:
      return false;
  }
}

/** The InfluxDB type a scalar is written as. */
export function fieldType(v: FieldScalar): FieldType {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return v >= INT64_MIN && v <= UINT64_MAX ? 'integer' : 'float';
    default:
      return 'float';
  }
}

/**
 * A backslash 1.x cannot store where it stands, with the slashes already after it: followed by
 * a space, comma or `=` (keys), also `"` (measurements), or the end (all).
 */
const KEY_GUARD = /\\(?=\/*(?:[ ,=]|$))/g;
const MEASUREMENT_GUARD = /\\(?=\/*(?:[ ,="]|$))/g;
const TAG_VALUE_GUARD = /\\(?=\/*(?: |$))/g;
const TAG_VALUE_GUARDED = /\\\/*(?: |$)/;

/** Names 1.x would strip or read as a comment at the start of a line or field section. */
const MEASUREMENT_LEAD = /^_*[#\t]/;
const KEY_LEAD = /^_*\t/;

function leadNeedsPrefix(s: string, lead: RegExp, hash: boolean): boolean {
  // Most names start with a letter: one char test, no regex.
  const c = s.charCodeAt(0);
  return c === 0x09 || (hash && c === 0x23) || (c === 0x5f && lead.test(s));
}

/** `time` and the names its rename could meet: `time`, `time_`, `time__`, … */
const TIME_KEY = /^time_*$/;

/**
 * The name InfluxDB stores for a tag or field key: `time` → `time_` (1.x drops a `time` field
 * and rejects a `time` tag), and a `/` after each backslash it cannot store (see above). The
 * rename is injective: every key matching /^time_*$/ gets one more `_` (`time_` → `time__`), so
 * a record with both `time` and `time_` keeps both values, and two such tags are not refused as
 * duplicates.
 */
export function safeKey(key: string): string {
  if (key.startsWith('time') && TIME_KEY.test(key)) return `${key}_`;
  const k = key.includes('\\') ? key.replace(KEY_GUARD, '\\/') : key;
  return leadNeedsPrefix(k, KEY_LEAD, false) ? `_${k}` : k;
}

function escapeIdentifier(s: string, specials: RegExp, needsWork: RegExp): string {
  // Most names and tag values are plain; skip the replace (and its allocation) for them.
  if (!needsWork.test(s)) return s;
  return s.replace(specials, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\0') return '\\0';
    return `\\${c}`;
  });
}

const MEASUREMENT_SPECIALS = /[, \n\r\0]/g;
const MEASUREMENT_NEEDS_WORK = /[, \n\r\0]/;
const KEY_SPECIALS = /[,= \n\r\0]/g;
const KEY_NEEDS_WORK = /[,= \n\r\0]/;
const FIELD_KEY_SPECIALS = /[,= \n\r\0"]/g;
const FIELD_KEY_NEEDS_WORK = /[,= \n\r\0"]/;

export function escapeMeasurement(name: string): string {
  const guarded = name.includes('\\') ? name.replace(MEASUREMENT_GUARD, '\\/') : name;
  const escaped = escapeIdentifier(guarded, MEASUREMENT_SPECIALS, MEASUREMENT_NEEDS_WORK);
  return leadNeedsPrefix(escaped, MEASUREMENT_LEAD, true) ? `_${escaped}` : escaped;
}

/** Escaping for a tag key already through `safeKey`. */
export function escapeKey(s: string): string {
  return escapeIdentifier(s, KEY_SPECIALS, KEY_NEEDS_WORK);
}

/**
 * Escaping for a field key already through `safeKey`. `"` too: 1.x unescapes `\"` in field keys
 * (not in tags), so without it a backslash before a quote would be lost.
 */
export function escapeFieldKey(s: string): string {
  return escapeIdentifier(s, FIELD_KEY_SPECIALS, FIELD_KEY_NEEDS_WORK);
}

/** A cheap pre-check for TAG_VALUE_GUARD: Windows paths have backslashes, rarely before a space. */
function tagValueNeedsGuard(s: string): boolean {
  if (!s.includes('\\')) return false;
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) === 0x2f /* / */) i--;
  if (i >= 0 && s.charCodeAt(i) === 0x5c /* \ */) return true;
  return s.includes(' ') && TAG_VALUE_GUARDED.test(s);
}

/** Escaping for a tag value: a backslash before a space or at the end gets its `/`. */
export function escapeTagValue(s: string): string {
  const guarded = tagValueNeedsGuard(s) ? s.replace(TAG_VALUE_GUARD, '\\/') : s;
  return escapeIdentifier(guarded, KEY_SPECIALS, KEY_NEEDS_WORK);
}

/** Newlines and NULs as the two characters `\n` / `\r` / `\0`, as the encoder writes them. */
export function spelledControls(s: string): string {
  return /[\n\r\0]/.test(s)
    ? s.replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\0/g, '\\0')
    : s;
}

/**
 * The text InfluxDB holds for a tag value after these rules (what an InfluxQL query must name):
 * newlines and NULs as the two characters `\n` / `\r` / `\0`, a backslash before a space or at
 * the end with its `/`.
 */
export function storedTagValue(s: string): string {
  return spelledControls(s.includes('\\') ? s.replace(TAG_VALUE_GUARD, '\\/') : s);
}

/** The name InfluxDB holds for a measurement after these rules (see `storedTagValue`). */
export function storedMeasurement(name: string): string {
  const guarded = name.includes('\\') ? name.replace(MEASUREMENT_GUARD, '\\/') : name;
  const t = spelledControls(guarded);
  return leadNeedsPrefix(t, MEASUREMENT_LEAD, true) ? `_${t}` : t;
}

export function escapeStringField(s: string): string {
  return `"${escapeStringContent(s)}"`;
}

/** A string field value between its quotes: `"` and `\\` escaped. */
export function escapeStringContent(s: string): string {
  // Two native scans beat a regex test on the short strings of log records, and the
  // hand-written escape beats a replace (its callback or `$&` pattern) on those that need it.
  const quote = s.indexOf('"');
  const backslash = s.indexOf('\\');
  if (quote < 0 && backslash < 0) return s;
  let out = '';
  let from = 0;
  const first = quote < 0 ? backslash : backslash < 0 ? quote : Math.min(quote, backslash);
  for (let i = first; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      out += `${s.slice(from, i)}\\`;
      from = i;
    }
  }
  return out + s.slice(from);
}

/** One field value in line-protocol form, or undefined when it has none (NaN, ±Infinity). */
export function encodeFieldValue(v: FieldScalar): string | undefined {
  switch (typeof v) {
    case 'string':
      return escapeStringField(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      if (v >= INT64_MIN && v <= INT64_MAX) return `${v}i`;
      return v > INT64_MAX && v <= UINT64_MAX ? `${v - TWO_64}i` : String(Number(v));
    default:
      if (!Number.isFinite(v)) return undefined;
      // String(-0) is "0"; exponents like 1e+21 are valid line protocol.
      return String(v);
  }
}

/** Keys in code-unit order; an insertion sort, since a point has a handful of tags. */
function sortedKeys(o: Record<string, string>): string[] {
  const keys: string[] = [];
  for (const k in o) {
    let i = keys.length;
    while (i > 0 && keys[i - 1]! > k) i--;
    keys.splice(i, 0, k);
  }
  return keys;
}

/**
 * Encodes one point. Returns undefined when nothing is left to write (empty measurement or no
 * encodable field): a line without fields is a parse error on the server.
 */
export function encodeLine(p: Point): string | undefined {
  if (p.measurement === '') return undefined;
  // Parts joined once: `+=` would build a rope of ~2 nodes per part, and the writer keeps the
  // lines alive until acknowledged, so every rope node would be copied by each scavenge.
  const parts: string[] = [escapeMeasurement(p.measurement)];
  for (const k of sortedKeys(p.tags)) {
    const v = p.tags[k];
    if (k === '' || v === undefined || v === '') continue;
    parts.push(',', escapeKey(safeKey(k)), '=', escapeTagValue(v));
  }
  let sep = ' ';
  let any = false;
  for (const k in p.fields) {
    if (k === '') continue;
    const encoded = encodeFieldValue(p.fields[k]!);
    if (encoded === undefined) continue;
    parts.push(sep, escapeFieldKey(safeKey(k)), '=', encoded);
    sep = ',';
    any = true;
  }
  if (!any) return undefined;
  parts.push(' ', String(p.timeNs));
  return parts.join('');
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v >= INT64_MIN && v <= INT64_MAX ? Number(v) : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

/** An array field value: JSON text (bigints as numbers within int64, bytes as base64). */
export function arrayFieldText(v: readonly RecordValue[]): string {
  return JSON.stringify(v, jsonReplacer);
}

/** A byte-string field value: base64 text. */
export function bytesFieldText(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function flattenInto(out: Record<string, FieldScalar>, prefix: string, v: RecordValue): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'number') {
    if (Number.isFinite(v)) out[prefix] = v;
    return;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') {
    out[prefix] = v;
    return;
  }
  if (v instanceof Uint8Array) {
    out[prefix] = bytesFieldText(v);
    return;
  }
  if (Array.isArray(v)) {
    out[prefix] = arrayFieldText(v);
    return;
  }
  for (const [k, inner] of Object.entries(v)) flattenInto(out, `${prefix}.${k}`, inner);
}

/**
 * Flattens a record into scalar fields: nested maps become `a.b` keys, arrays a JSON string,
 * byte strings base64, nulls and non-finite numbers disappear. Adds to `out` and returns it.
 */
export function flattenFields(
  record: RecordMap,
  out: Record<string, FieldScalar> = {},
  skip?: readonly string[],
): Record<string, FieldScalar> {
  for (const k in record) {
    // An empty key has no line-protocol form; dropping it here lets `_count` cover the point.
    if (k === '' || skip?.includes(k)) continue;
    const v = record[k];
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      for (const [ik, inner] of Object.entries(v)) flattenInto(out, `${k}.${ik}`, inner);
    } else {
      flattenInto(out, k, v);
    }
  }
  return out;
}
