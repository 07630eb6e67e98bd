import { Decoder, ExtensionCodec, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import type { Batch, RecordMap, RecordValue } from '../../src/core/entry.ts';
import { InvalidInputError } from '../../src/core/errors.ts';
import { rememberRawRecords } from '../../src/core/raw-record.ts';
import { createBatchCodec } from '../../src/spool/codec.ts';
import { BIGINT_EXT_TYPE, MAX_NESTING } from '../../src/spool/msgpack-writer.ts';
import { readPayload } from '../../src/spool/payload-reader.ts';
import { accessLogBatch } from '../helpers/spool-fixtures.ts';

const ext = new ExtensionCodec();
ext.register({
  type: BIGINT_EXT_TYPE,
  encode: () => null,
  decode: (d) => BigInt(new TextDecoder().decode(d)),
});
const reference = new Decoder({ extensionCodec: ext });

describe('spool codec', () => {
  const codec = createBatchCodec();

  it('round-trips bigint and Uint8Array values exactly, at any depth', () => {
    const batch: Batch = {
      origin: { input: 'influx-v1', database: 'telegraf', peerAddress: '10.1.2.3' },
      receivedAt: 1_764_244_800_123,
      entries: [
        {
          tag: 'cpu',
          sec: 1_764_244_800,
          nsec: 999_999_999,
          record: {
            small: 1n,
            negative: -42n,
            huge: 2n ** 64n + 7n,
            bytes: new Uint8Array([0, 1, 254, 255]),
            empty: new Uint8Array(0),
            nested: { list: [1n, new Uint8Array([9]), 'x', null, true, 1.5] },
            big_number: 2 ** 40,
            float: 0.1,
          },
          tags: { host: 'web-1' },
        },
      ],
    };
    const back = codec.decode(codec.encode(batch));
    expect(back).toEqual(batch);
    const r = back.entries[0]!.record;
    expect(typeof r.small).toBe('bigint');
    expect(typeof r.big_number).toBe('number');
    expect(r.bytes).toBeInstanceOf(Uint8Array);
    expect([...(r.bytes as Uint8Array)]).toEqual([0, 1, 254, 255]);
  });

  it('keeps labels, instanceId and the difference between an absent and a null instanceId', () => {
    const base = { tag: 't', sec: 1, nsec: 2, record: { a: 'b' } };
    const batch: Batch = {
      origin: { input: 'forward' },
      receivedAt: 5,
      entries: [
        { ...base },
        { ...base, instanceId: null },
        { ...base, instanceId: 'i-1', labels: { role: 'web', version: '1.4.2', slot: '0' } },
        { ...base, labels: { role: 'unknown' } },
      ],
    };
    const back = codec.decode(codec.encode(batch));
    expect(back).toEqual(batch);
    expect('instanceId' in back.entries[0]!).toBe(false);
    expect(back.entries[1]!.instanceId).toBeNull();
    expect('labels' in back.entries[1]!).toBe(false);
  });

  it('does not turn an undefined origin field into null', () => {
    const batch: Batch = {
      origin: { input: 'forward', authHostname: undefined },
      receivedAt: 1,
      entries: [{ tag: 't', sec: 1, nsec: 0, record: {} }],
    };
    expect('authHostname' in codec.decode(codec.encode(batch)).origin).toBe(false);
  });

  it('stores a 1,000-record access-log batch compactly (no per-entry key names)', () => {
    const batch = accessLogBatch(1000, 1, 1_764_244_800_000);
    const bytes = codec.encode(batch).byteLength;
    const json = Buffer.byteLength(JSON.stringify(batch));
    expect(bytes).toBeLessThan(json * 0.85);
    expect(codec.decode(codec.encode(batch))).toEqual(batch);
  });

  it('refuses a payload of an unknown format', () => {
    expect(() => codec.decode(new Uint8Array([0x93, 0x63, 0x80, 0x01]))).toThrow(/unknown format/);
  });

  it('stores a record registered with its msgpack bytes as those bytes, still standard msgpack', () => {
    const codec = createBatchCodec();
    const raw = encode({ level: 'info', n: 7, bytes: new Uint8Array([1, 2]) });
    const record = reference.decode(raw) as RecordMap;
    const other = { level: 'warn', big: 2n ** 70n };
    const batch: Batch = {
      origin: { input: 'forward' },
      receivedAt: 9,
      entries: [
        { tag: 't', sec: 1, nsec: 3, record: other },
        { tag: 't', sec: 1, nsec: 2, record, labels: Object.freeze({ role: 'web' }) },
      ],
    };
    // The bytes sit inside a larger block, as a Forward request's records do.
    const block = Buffer.concat([Buffer.from([0xc1, 0xc1]), raw, Buffer.from([0xc1])]);
    rememberRawRecords(batch.entries, {
      block,
      records: [undefined, record],
      starts: Uint32Array.of(0, 2),
      ends: Uint32Array.of(0, 2 + raw.length),
    });
    const payload = codec.encode(batch);
    expect(Buffer.from(payload).includes(Buffer.from(raw))).toBe(true);
    expect(codec.decode(payload)).toEqual(batch);
    expect(readPayload(payload)).toEqual(reference.decode(payload));
    // A copy is a different object: it is encoded from its fields, and stores its own values.
    const changed = { ...record, level: 'error' };
    const back = codec.decode(
      codec.encode({ ...batch, entries: [{ ...batch.entries[1]!, record: changed }] }),
    );
    expect(back.entries[0]!.record).toEqual(changed);
  });

  it('refuses a record nested deeper than a payload can be read back, as invalid input', () => {
    // A JSON body nests 20,000 levels in 40 KB (JSON.parse takes it). Such a record used to be
    // stored and acknowledged, or not, depending on the stack left: at a few thousand levels the
    // writer still got through and the reader (more stack per level) did not, leaving a row no
    // consumer could ever read, retried forever at the head of the spool.
    const nest = (depth: number, wrap: (v: RecordValue) => RecordValue) => {
      let v: RecordValue = 1;
      for (let i = 0; i < depth; i++) v = wrap(v);
      return v;
    };
    const batchOf = (x: RecordValue): Batch => ({
      origin: { input: 'http-fluentd' },
      receivedAt: 1,
      entries: [{ tag: 't', sec: 1, nsec: 0, record: { x } }],
    });
    for (const depth of [3_000, 5_000, 20_000])
      for (const wrap of [(v: RecordValue) => ({ a: v }), (v: RecordValue) => [v]])
        expect(() => codec.encode(batchOf(nest(depth, wrap)))).toThrow(InvalidInputError);
    // Up to the limit, far beyond what the Forward input accepts (64 levels), it round-trips.
    const deep = batchOf(nest(MAX_NESTING / 2, (v) => [{ a: v }]));
    expect(codec.decode(codec.encode(deep))).toEqual(deep);
    expect(() => codec.encode(batchOf(nest(MAX_NESTING + 1, (v) => [v])))).toThrow(
      InvalidInputError,
    );
    // A refused batch leaves the codec fine for the next one.
    const ok = accessLogBatch(3, 1);
    expect(codec.decode(codec.encode(ok))).toEqual(ok);
  });
});
