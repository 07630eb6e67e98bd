/**
 * The line-protocol encoding exactly as it was before the one-pass encoder (commit 56a838a:
 * `encode.ts` and `toPoint` in `points.ts`, copied verbatim apart from exports and names), kept
 * as the oracle the differential test and the A/B benchmark hold the new encoder to. Do not
 * "fix" it: its output is the definition of byte-identical.
 *
 * Changed deliberately once since, with the rule itself (docs/INFLUXDB-SCHEMA.md): backslashes
 * 1.x cannot store get a `/` after them (`safeKey`, `escapeMeasurement`, `escapeTagValue`),
 * field keys escape `"` (`escapeFieldKey`), and uint64 values beyond int64 are written as their
 * wrapped int64 (`encodeFieldValue`, `fieldType`). Only those functions changed. Then: a tag
 * value's backslash before a space gets its `/` too, a measurement or key starting with a tab
 * (a measurement also `#`), after any underscores, gets a `_` in front, and a NUL in a name is
 * written as `\0` like a newline. Then: the `time` rename became injective (a key matching
 * /^time_*$/ gets one more `_`, `safeKey`), so a tag `time_` no longer clashes with a field
 * `time` (both clash loops), and a `tag_keys` string value longer than 256 UTF-16 code units is
 * not promoted (`referenceToPoint`).
 */
import type { Entry, RecordMap, RecordValue } from '../../../src/core/entry.ts';
import type { RouteFn } from '../../../src/sinks/influxdb/routes.ts';

function entryTimeNs(e: Pick<Entry, 'sec' | 'nsec'>): bigint {
  return BigInt(e.sec) * 1_000_000_000n + BigInt(e.nsec);
}

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

const KEY_GUARD = /\\(?=\/*(?:[ ,=]|$))/g;
const MEASUREMENT_GUARD = /\\(?=\/*(?:[ ,="]|$))/g;
const TAG_VALUE_GUARD = /\\(?=\/*(?: |$))/g;
const MEASUREMENT_LEAD = /^_*[#\t]/;
const KEY_LEAD = /^_*\t/;

/** A key InfluxDB would reject or drop, renamed. */
export function safeKey(key: string): string {
  if (/^time_*$/.test(key)) return `${key}_`;
  const k = key.replace(KEY_GUARD, '\\/');
  return KEY_LEAD.test(k) ? `_${k}` : k;
}

function escapeIdentifier(s: string, specials: RegExp): string {
  return s.replace(specials, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\0') return '\\0';
    return `\\${c}`;
  });
}

const MEASUREMENT_SPECIALS = /[, \n\r\0]/g;
const KEY_SPECIALS = /[,= \n\r\0]/g;
const FIELD_KEY_SPECIALS = /[,= \n\r\0"]/g;
const STRING_NEEDS_WORK = /["\\]/;

export function escapeMeasurement(name: string): string {
  const escaped = escapeIdentifier(name.replace(MEASUREMENT_GUARD, '\\/'), MEASUREMENT_SPECIALS);
  return MEASUREMENT_LEAD.test(escaped) ? `_${escaped}` : escaped;
}

/** Escaping for tag keys (after safeKey). */
export function escapeKey(s: string): string {
  return escapeIdentifier(s, KEY_SPECIALS);
}

/** Escaping for field keys (after safeKey). */
export function escapeFieldKey(s: string): string {
  return escapeIdentifier(s, FIELD_KEY_SPECIALS);
}

export function escapeTagValue(s: string): string {
  return escapeIdentifier(s.replace(TAG_VALUE_GUARD, '\\/'), KEY_SPECIALS);
}

export function escapeStringField(s: string): string {
  if (!STRING_NEEDS_WORK.test(s)) return `"${s}"`;
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
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
      return v > INT64_MAX && v <= UINT64_MAX ? `${BigInt.asIntN(64, v)}i` : String(Number(v));
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
    out[prefix] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    return;
  }
  if (Array.isArray(v)) {
    out[prefix] = JSON.stringify(v, jsonReplacer);
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

export const ROLLUP_MEASUREMENT = 'fleet_rollup';
export const MEMBERS_MEASUREMENT = 'fleet_members';
export const EVENTS_MEASUREMENT = 'fleet_events';

/** Per-instance tags of line-protocol points that are demoted to fields. */
const DEMOTED_TAGS = ['instance_id', 'host'] as const;

const OFFSET_MODULO = 1_000_000n;

export interface EncodedPoint {
  line: string;
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldScalar>;
}

/** An entry that yields no line (empty tag, nothing encodable); the writer dead-letters it. */
export interface UnencodableEntry {
  entry: Entry;
  reason: string;
}

export interface SchemaPlan {
  route: RouteFn;
  tagKeys: readonly string[];
}

function isScalar(v: unknown): v is string | number | boolean | bigint {
  const t = typeof v;
  return (
    t === 'string' || (t === 'number' && Number.isFinite(v)) || t === 'boolean' || t === 'bigint'
  );
}

/** FNV-1a 32-bit: a stable, dependency-free hash for the event offset. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function pointTime(entry: Entry, entrySeq: number): bigint {
  const ns = entryTimeNs(entry);
  if (entry.tag === ROLLUP_MEASUREMENT || entry.tag === MEMBERS_MEASUREMENT) return ns;
  if (entry.tag === EVENTS_MEASUREMENT) {
    const id = entry.record.event_id;
    if (typeof id === 'string' && id !== '') {
      const ms = ns - (ns % 1_000_000n);
      return ms + (BigInt(fnv1a(id)) % OFFSET_MODULO);
    }
  }
  return ns + (BigInt(entrySeq) % OFFSET_MODULO);
}

/**
 * Moves each clashing field `k` to `k_field`, appended in tag order. Common, since agents put
 * role/version in their records too. Rebuilding the object beats `delete`, which would switch
 * `fields` to V8's slow dictionary mode for the rest of the encoding; the unusual case where a
 * `k_field` name is itself taken keeps the sequential move-and-delete, whose outcome is defined.
 */
function renameClashes(
  fields: Record<string, FieldScalar>,
  clashes: readonly string[],
  tags: Record<string, string>,
): Record<string, FieldScalar> {
  const plain = clashes.every(
    (k, i) =>
      fields[`${k}_field`] === undefined &&
      tags[`${k}_field`] === undefined &&
      clashes.indexOf(k) === i &&
      !clashes.includes(`${k}_field`),
  );
  if (!plain) {
    // A move may create a name a later tag clashes with: decide each one as it comes.
    for (const t in tags) {
      if (fields[t] === undefined) continue;
      fields[`${t}_field`] = fields[t]!;
      delete fields[t];
    }
    return fields;
  }
  const out: Record<string, FieldScalar> = {};
  for (const f in fields) if (!clashes.includes(f)) out[f] = fields[f]!;
  for (const k of clashes) out[`${k}_field`] = fields[k]!;
  return out;
}

/** Builds one point from an entry; undefined (with a reason) when it cannot be written. */
export function referenceToPoint(
  entry: Entry,
  entrySeq: number,
  plan: SchemaPlan,
): EncodedPoint | UnencodableEntry {
  const measurement = plan.route(entry.tag);
  if (measurement === '') return { entry, reason: 'entry has an empty tag: no measurement' };
  const tags: Record<string, string> = {};
  let fields: Record<string, FieldScalar> = {};
  if (entry.tags) {
    for (const [k, v] of Object.entries(entry.tags)) {
      if ((DEMOTED_TAGS as readonly string[]).includes(k)) continue;
      tags[k] = v;
    }
    if (entry.labels) Object.assign(tags, entry.labels);
    flattenFields(entry.record, fields);
    for (const k of DEMOTED_TAGS) {
      const v = entry.tags[k];
      if (v !== undefined && v !== '' && fields[k] === undefined) fields[k] = v;
    }
  } else {
    if (entry.labels) Object.assign(tags, entry.labels);
    let promoted: string[] | undefined;
    for (const k of plan.tagKeys) {
      const v = entry.record[k];
      if (!isScalar(v) || (typeof v === 'string' && v.length > 256) || tags[k] !== undefined)
        continue;
      tags[k] = String(v);
      if (promoted) promoted.push(k);
      else promoted = [k];
    }
    flattenFields(entry.record, fields, promoted);
  }
  if (entry.instanceId) fields.instance_id = entry.instanceId;
  // Tags are few (labels + tag_keys); check them against the fields rather than the reverse.
  let clashes: string[] | undefined;
  for (const t in tags) {
    if (fields[t] === undefined) continue;
    if (clashes) clashes.push(t);
    else clashes = [t];
  }
  if (clashes) fields = renameClashes(fields, clashes, tags);
  let empty = true;
  for (const _ in fields) {
    empty = false;
    break;
  }
  if (empty) fields._count = 1n;
  const line = encodeLine({ measurement, tags, fields, timeNs: pointTime(entry, entrySeq) });
  if (line === undefined) return { entry, reason: 'entry has no encodable field' };
  return { line, measurement, tags, fields };
}

/** The line the previous implementation wrote for an entry, or its unencodable reason. */
export function referenceLine(entry: Entry, entrySeq: number, plan: SchemaPlan): string {
  const p = referenceToPoint(entry, entrySeq, plan);
  return 'line' in p ? p.line : `unencodable: ${p.reason}`;
}
