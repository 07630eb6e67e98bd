/**
 * The msgpack bytes records arrived as, kept beside them so the spool can store those bytes
 * verbatim instead of encoding the records again (that re-encode was a quarter of the Forward
 * acknowledge path's CPU).
 *
 * Contract: an input registers bytes for a record only when the spool's payload reader turns
 * exactly those bytes back into a record equal to it (same keys in the same order, same values
 * and value types), and only bytes that nothing overwrites later. Records must not be mutated
 * after that: every stage treats records as read-only, and a stage that wants a changed record
 * makes a copy (`{...record}`), which has no bytes here and is encoded as usual.
 *
 * Bytes are kept per *entries array* (one table per Forward request), not per record, and the
 * table hangs off the array itself as a non-enumerable symbol property. Each slot remembers
 * which record object its bytes belong to, and a user must check that identity (`hasRawBytes`):
 * an entry that was replaced or given another record, or an array filtered, sliced or spread
 * into a new one (none of which copies a non-enumerable property), finds no bytes and is
 * encoded as before. So the table cannot give a record bytes that are not its own, wherever
 * the array goes. A property on the *record* could not be checked that way: object spread
 * would copy it onto a modified copy.
 *
 * Why not a WeakMap (from records or arrays to bytes), which would need no property: measured
 * on the Forward ack path, V8's young-generation GC handles WeakMap entries whose keys are
 * young objects so badly that GC went from ~3% to ~21% of the CPU, more than the re-encode
 * it was meant to save.
 *
 *   entries:  [ e0          e1          e2        ]     (the array the input produced)
 *   records:  [ e0.record   undefined   e2.record ]     (undefined: not raw-safe)
 *   starts:   [ 0           ·           151       ]  ┐ byte ranges of each record's map
 *   ends:     [ 151         ·           297       ]  ┘ in `block`
 */
import type { Entry, RecordMap } from './entry.ts';

export interface RawRecords {
  /** Bytes holding the records' msgpack maps; never overwritten. */
  block: Uint8Array;
  /** By entry index: the record whose bytes are `block[starts[i]..ends[i])`, if any. */
  records: (RecordMap | undefined)[];
  starts: Uint32Array;
  ends: Uint32Array;
}

const RAW = Symbol('fleetline.rawRecords');
type WithRaw = { [RAW]?: RawRecords };

/** Registers the raw bytes of (some of) the records of `entries`, by index. */
export function rememberRawRecords(entries: Entry[], raw: RawRecords): void {
  Object.defineProperty(entries, RAW, { value: raw, enumerable: false, configurable: true });
}

/** The table registered on this very array, if any; check each record with `hasRawBytes`. */
export function rawRecordsOf(entries: readonly Entry[]): RawRecords | undefined {
  return (entries as WithRaw)[RAW];
}

/**
 * Whether `raw` holds bytes for `record` at index `i` (the same object it was registered
 * with). Then they are `raw.block[raw.starts[i]..raw.ends[i])`.
 */
export function hasRawBytes(raw: RawRecords, i: number, record: RecordMap): boolean {
  return raw.records[i] === record;
}

/** The registered bytes of `entries[i].record`, or undefined (a copy of them, for tests). */
export function rawRecordBytes(entries: readonly Entry[], i: number): Uint8Array | undefined {
  const raw = rawRecordsOf(entries);
  const e = entries[i];
  if (raw === undefined || e === undefined || !hasRawBytes(raw, i, e.record)) return undefined;
  return raw.block.slice(raw.starts[i]!, raw.ends[i]!);
}
