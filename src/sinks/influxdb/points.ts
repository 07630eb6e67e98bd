/**
 * The point schema (docs/INFLUXDB-SCHEMA.md): how a spooled entry becomes one InfluxDB point.
 * `toPoint` is the rule in its general form (tag and field maps, then `encodeLine`); the writer
 * encodes through `lineEncoder(plan)` (`line-encoder.ts`), which writes the same bytes in one
 * pass for plain log records, and rebuilds the maps with `toPoint` only for the few points that
 * add to its catalog of measurements/tags/fields. `toLines` is the batch convenience.
 *
 * - Log records: tags = labels (role, version, slot, extras) + the `schema.tag_keys` record keys
 *   whose value is a scalar, a string at most MAX_TAG_VALUE_LENGTH long (`promotable`); fields =
 *   every other record key (flattened) + `instance_id`.
 * - Entries that carry their own tags (line-protocol points, and the `fleet_events`,
 *   `fleet_rollup`, `fleet_members` points other stages write): their tags plus the labels (the
 *   labels win: they are the registry's truth after relabelling), except `instance_id` and
 *   `host`, which become string fields — they are per-instance and would grow cardinality with
 *   every replacement.
 * - A field whose name equals a tag key is written as `<name>_field` (1.x would accept both, but
 *   InfluxQL then needs `::field` to tell them apart and 3.x rejects it).
 * - A point with no field left gets `_count=1i`.
 *
 * Time. Event points are written at the event time *plus `entry_seq mod 1,000,000` ns*: InfluxDB
 * keeps one value per (series, timestamp), and since instance_id is not a tag, two log lines of
 * one role/slot in the same second (fluentd's default precision) would otherwise overwrite each
 * other. The offset is stable across replay (entry_seq is the spool's global sequence), so a
 * replayed batch rewrites the same points. That is why every request goes out with
 * precision=ns: a coarser precision would truncate the offset away. `fleet_rollup` and
 * `fleet_members` get no offset — a late entry must rewrite the interval's point. `fleet_events`
 * are ms-precise and take their offset from a hash of `event_id`, so the same event written by
 * any replay or any writer lands on the same point.
 */
import type { SchemaConfig } from '../../config/schema.ts';
import type { Entry } from '../../core/entry.ts';
import type { SpooledBatch } from '../../spool/contract.ts';
import { encodeLine, type FieldScalar, flattenFields, promotable } from './encode.ts';
import { createLineEncoder, type LineEncoder, type LineEncoderOptions } from './line-encoder.ts';
import { pointTimeNs } from './point-time.ts';
import { compileRoutes, type RouteFn } from './routes.ts';

export { EVENTS_MEASUREMENT, MEMBERS_MEASUREMENT, ROLLUP_MEASUREMENT } from './point-time.ts';

/** Per-instance tags of line-protocol points that are demoted to fields. */
const DEMOTED_TAGS = ['instance_id', 'host'] as const;

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

/** Compiles the schema once; pass the plan to `toPoints` for every batch. */
export function compileSchema(schema: SchemaConfig): SchemaPlan {
  return { route: compileRoutes(schema.routes), tagKeys: schema.tag_keys };
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

/**
 * Builds one point from an entry, as tag and field maps plus its line; an `UnencodableEntry`
 * (with a reason) when it cannot be written. The general form of the schema: the line encoder
 * (`line-encoder.ts`) writes the same lines in one pass for plain log records and hands every
 * other entry to this function; the writer calls it for the few points that add to the catalog.
 */
export function toPoint(
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
      if (!promotable(v) || tags[k] !== undefined) continue;
      tags[k] = String(v);
      if (promoted) promoted.push(k);
      else promoted = [k];
    }
    flattenFields(entry.record, fields, promoted);
  }
  if (entry.instanceId) fields.instance_id = entry.instanceId;
  // Tags are few (labels + tag_keys); check them against the fields rather than the reverse.
  // `safeKey` is injective, so a tag and a field share a stored name only when their keys match.
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
  const line = encodeLine({ measurement, tags, fields, timeNs: pointTimeNs(entry, entrySeq) });
  if (line === undefined) return { entry, reason: 'entry has no encodable field' };
  return { line, measurement, tags, fields };
}

export interface BatchPoints {
  points: EncodedPoint[];
  unencodable: UnencodableEntry[];
}

/** The structured points of a spooled batch (see `toPoint`); `lineEncoder` is the fast form. */
export function toPoints(spooled: SpooledBatch, plan: SchemaPlan): BatchPoints {
  const points: EncodedPoint[] = [];
  const unencodable: UnencodableEntry[] = [];
  const { entries } = spooled.batch;
  for (let i = 0; i < entries.length; i++) {
    const p = toPoint(entries[i]!, spooled.firstEntrySeq + i, plan);
    if ('line' in p) points.push(p);
    else unencodable.push(p);
  }
  return { points, unencodable };
}

/** The lines of a spooled batch (entries that cannot be written are left out). */
export function toLines(spooled: SpooledBatch, schema: SchemaConfig | SchemaPlan): string[] {
  const plan = 'route' in schema ? schema : compileSchema(schema);
  const encoder = lineEncoder(plan);
  const lines: string[] = [];
  const { entries } = spooled.batch;
  for (let i = 0; i < entries.length; i++) {
    const line = encoder.encode(entries[i]!, spooled.firstEntrySeq + i);
    if (typeof line === 'string') lines.push(line);
  }
  return lines;
}

/** A line encoder for this schema (one per writer: it caches per key and per labels set). */
export function lineEncoder(plan: SchemaPlan, opts?: LineEncoderOptions): LineEncoder {
  return createLineEncoder(plan, (entry, entrySeq) => toPoint(entry, entrySeq, plan), opts);
}
