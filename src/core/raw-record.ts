/**
 * The msgpack bytes a record arrived as, kept beside the record so the spool can store them
 * verbatim instead of encoding the record again (that re-encode was a quarter of the Forward
 * acknowledge path's CPU).
 *
 * Contract: an input registers bytes for a record only when the spool's payload reader turns
 * exactly those bytes back into a record equal to it (same keys in the same order, same
 * values and value types), and only bytes that nothing overwrites later. The record must not
 * be mutated after that: every stage treats records as read-only, and a stage that wants a
 * changed record makes a copy (`{...record}`), which is a new object with no bytes here, so it
 * is encoded as usual.
 *
 * Why a module-level WeakMap rather than a field or symbol on the record, or a field of
 * `Entry`: a property would be copied by object spread onto a modified copy, whose bytes would
 * then be wrong; a side table keyed by identity cannot be. It holds nothing once a record is
 * garbage, and the bytes are write-once facts about one object, not configuration or state a
 * test would need to replace, so it is the exception to "no module-level state".
 */
import type { RecordMap } from './entry.ts';

const rawRecords = new WeakMap<RecordMap, Uint8Array>();

/** Registers `bytes` (one complete msgpack map, never overwritten later) as `record`'s encoding. */
export function rememberRawRecord(record: RecordMap, bytes: Uint8Array): void {
  rawRecords.set(record, bytes);
}

/** The registered msgpack encoding of this very object, if any. */
export function rawRecordOf(record: RecordMap): Uint8Array | undefined {
  return rawRecords.get(record);
}
