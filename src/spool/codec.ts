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
 * A JavaScript `-0` is stored as `0` (msgpack integers have no negative zero).
 *
 * A codec holds a reusable encoder/decoder, so create one per spool, not per call.
 */
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import type { Batch, Entry, Origin, RecordMap } from '../core/entry.ts';

/** Bumped if the row layout ever changes; decode refuses formats it does not know. */
const FORMAT = 1;
const BIGINT_EXT = 0;

export interface BatchCodec {
  encode(batch: Batch): Uint8Array;
  decode(payload: Uint8Array): Batch;
}

export function createBatchCodec(): BatchCodec {
  const ext = new ExtensionCodec();
  const text = new TextEncoder();
  const untext = new TextDecoder();
  ext.register({
    type: BIGINT_EXT,
    encode: (value) => (typeof value === 'bigint' ? text.encode(value.toString()) : null),
    decode: (data) => BigInt(untext.decode(data)),
  });
  // ignoreUndefined: an optional Origin field set to `undefined` must not come back as `null`.
  const encoder = new Encoder({ extensionCodec: ext, ignoreUndefined: true });
  const decoder = new Decoder({ extensionCodec: ext });

  const packEntry = (e: Entry): unknown[] => {
    const hasFleet = e.tags !== undefined || e.labels !== undefined || e.instanceId !== undefined;
    if (!hasFleet) return [e.tag, e.sec, e.nsec, e.record];
    return [
      e.tag,
      e.sec,
      e.nsec,
      e.record,
      e.tags ?? false,
      e.labels ?? false,
      e.instanceId === undefined ? false : e.instanceId,
    ];
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
      return encoder.encode([FORMAT, batch.origin, batch.receivedAt, batch.entries.map(packEntry)]);
    },
    decode(payload) {
      const top = decoder.decode(payload) as [number, Origin, number, unknown[][]];
      if (!Array.isArray(top) || top[0] !== FORMAT)
        throw new Error(`spool payload has unknown format ${JSON.stringify(top?.[0])}`);
      return { origin: top[1], receivedAt: top[2], entries: top[3].map(unpackEntry) };
    },
  };
}
