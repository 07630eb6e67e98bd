/**
 * How a `Batch` is stored in a spool row: compact msgpack, exact for every `RecordValue`.
 *
 * Entries are encoded as positional arrays rather than maps so that the keys `tag`, `sec`, …
 * are not repeated a thousand times per batch:
 *
 *   batch  = [FORMAT, origin, receivedAt, [entry, …]]
 *   entry  = [tag, sec, nsec, record]                                  (no fleet fields)
 *          | [tag, sec, nsec, record, tags|false, labels|false, instanceId|false]
 *
 * `false` marks an absent optional field (none of them can legitimately be `false`), so
 * "absent" and `instanceId: null` stay distinct. `bigint` values go through extension type 0
 * (decimal text, any size) because msgpack's int64 would come back as a `number` for small
 * values, or turn large `number`s into bigints on the way back; `Uint8Array` is msgpack `bin`.
 * Encoding uses the specialised `MsgpackWriter` (the hot path of every acknowledgement) and
 * decoding its counterpart `readPayload` (the path of every backlog); both are standard msgpack,
 * which @msgpack/msgpack's decoder reads the same way (the tests hold them to that).
 *
 * A record whose original msgpack bytes an input registered for the batch's entries array
 * (src/core/raw-record.ts: only bytes that `readPayload` turns back into exactly that record)
 * is stored as those bytes, copied, instead of being encoded again: the Forward input's
 * records arrive as msgpack maps.
 *
 * A codec holds a reusable writer, so create one per spool, not per call.
 */
import type { Batch, Entry, Origin, RecordMap } from '../core/entry.ts';
import { hasRawBytes, type RawRecords, rawRecordsOf } from '../core/raw-record.ts';
import { MsgpackWriter } from './msgpack-writer.ts';
import { createPayloadKeyCache, readPayload } from './payload-reader.ts';

/** Bumped if the row layout ever changes; decode refuses formats it does not know. */
const FORMAT = 1;

export interface BatchCodec {
  encode(batch: Batch): Uint8Array;
  decode(payload: Uint8Array): Batch;
}

export function createBatchCodec(): BatchCodec {
  const writer = new MsgpackWriter();
  const keys = createPayloadKeyCache();

  const writeEntry = (e: Entry, raw: RawRecords | undefined, i: number): void => {
    const hasFleet = e.tags !== undefined || e.labels !== undefined || e.instanceId !== undefined;
    writer.arrayHeader(hasFleet ? 7 : 4);
    // A batch's entries mostly share one tag, and an instance's entries one instance id.
    writer.repeatedString(e.tag);
    writer.number(e.sec);
    writer.number(e.nsec);
    if (raw !== undefined && hasRawBytes(raw, i, e.record))
      writer.raw(raw.block, raw.starts[i]!, raw.ends[i]!);
    else writer.map(e.record);
    if (!hasFleet) return;
    writer.value(e.tags ?? false);
    if (e.labels === undefined) writer.value(false);
    else writer.frozenMap(e.labels);
    const id = e.instanceId;
    if (typeof id === 'string') writer.repeatedString(id);
    else writer.value(id === undefined ? false : id);
  };

  const unpackEntry = (a: unknown[]): Entry => {
    const entry: Entry = {
      tag: a[0] as string,
      sec: a[1] as number,
      nsec: a[2] as number,
      record: a[3] as RecordMap,
    };
    if (a.length > 4) {
      if (a[4] !== false) entry.tags = a[4] as Record<string, string>;
      if (a[5] !== false) entry.labels = a[5] as Record<string, string>;
      if (a[6] !== false) entry.instanceId = a[6] as string | null;
    }
    return entry;
  };

  return {
    encode(batch) {
      writer.reset();
      writer.arrayHeader(4);
      writer.number(FORMAT);
      writer.map(batch.origin as unknown as Record<string, unknown>);
      writer.number(batch.receivedAt);
      const entries = batch.entries;
      const raw = rawRecordsOf(entries);
      writer.arrayHeader(entries.length);
      for (let i = 0; i < entries.length; i++) writeEntry(entries[i]!, raw, i);
      return writer.finish();
    },
    decode(payload) {
      const top = readPayload(payload, keys) as [number, Origin, number, unknown[][]];
      if (!Array.isArray(top) || top[0] !== FORMAT)
        throw new Error(`spool payload has unknown format ${JSON.stringify(top?.[0])}`);
      return { origin: top[1], receivedAt: top[2], entries: top[3].map(unpackEntry) };
    },
  };
}
