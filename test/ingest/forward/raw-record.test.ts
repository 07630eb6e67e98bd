import { gzipSync } from 'node:zlib';
import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Batch, Entry, RecordMap } from '../../../src/core/entry.ts';
import { rawRecordBytes, rawRecordsOf } from '../../../src/core/raw-record.ts';
import {
  type DecodeOptions,
  decode,
  type EventsRequest,
  MIN_RAW_RECORDS,
} from '../../../src/ingest/forward/decode.ts';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import { createKeyCache } from '../../../src/ingest/forward/msgpack-reader.ts';
import { createBatchCodec } from '../../../src/spool/codec.ts';
import { BIGINT_EXT_TYPE } from '../../../src/spool/msgpack-writer.ts';
import { readPayload } from '../../../src/spool/payload-reader.ts';
import { eventTime, pack } from './forward-harness.ts';
import {
  encodeNode,
  expectRawSafe,
  int,
  map,
  type Node,
  recordNode,
  safeFeatures,
  str,
  unsafeClasses,
} from './msgpack-ast.ts';

const ext = new ExtensionCodec();
ext.register({
  type: BIGINT_EXT_TYPE,
  encode: () => null,
  decode: (d) => BigInt(new TextDecoder().decode(d)),
});
const reference = new Decoder({ extensionCodec: ext });

const opts: DecodeOptions = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 4 * 1024 * 1024,
  nowMs: Date.UTC(2026, 10, 27),
};

/**
 * Deep equality that also holds key order, number vs bigint, -0 vs 0, a plain Uint8Array vs a
 * Buffer, and prototypes; throws with the path of the first difference.
 */
function assertSame(a: unknown, b: unknown, path = '$'): void {
  const fail = (why: string) => {
    throw new Error(`${path}: ${why}`);
  };
  if (typeof a !== typeof b) fail(`${typeof a} vs ${typeof b}`);
  if (a === null || b === null || typeof a !== 'object') {
    if (!Object.is(a, b)) fail(`${String(a)} vs ${String(b)}`);
    return;
  }
  const pa = Object.getPrototypeOf(a);
  if (pa !== Object.getPrototypeOf(b)) fail('different prototypes');
  if (a instanceof Uint8Array) {
    if (pa !== Uint8Array.prototype) fail('a Uint8Array subclass');
    if (!Buffer.from(a).equals(Buffer.from(b as Uint8Array))) fail('different bytes');
    return;
  }
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) fail(`length ${a.length} vs ${bb.length}`);
    for (let i = 0; i < a.length; i++) assertSame(a[i], bb[i], `${path}[${i}]`);
    return;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.join('\0') !== kb.join('\0')) fail(`keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`);
  for (const k of ka)
    assertSame(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
}

/** Whether a decoded value has an own `__proto__` key at any depth (the spool refuses those). */
function hasProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoKey);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return false;
  if (Object.hasOwn(v, '__proto__')) return true;
  return Object.values(v).some(hasProtoKey);
}

type Mode = 'message' | 'forward' | 'packed' | 'compressed';

const TIME: Node = { t: 'raw', bytes: pack(eventTime(1_764_244_800, 123)) };
const entryNode = (record: Node): Node => ({ t: 'arr', items: [TIME, record], w: 0 });
const str32 = (bytes: Uint8Array): Node => ({ t: 'str', bytes, w: 3 });

/** One Forward request carrying `records` (Message mode: only the first). */
function frame(mode: Mode, records: Node[]): Uint8Array {
  const tag = str('app.access');
  const option = map([[str('chunk'), str('c-1')]]);
  if (mode === 'message') return encodeNode({ t: 'arr', items: [tag, TIME, records[0]!], w: 0 });
  if (mode === 'forward') {
    const entries: Node = { t: 'arr', items: records.map(entryNode), w: 0 };
    return encodeNode({ t: 'arr', items: [tag, entries, option], w: 0 });
  }
  const packed = Buffer.concat(records.map((r) => encodeNode(entryNode(r))));
  if (mode === 'packed') return encodeNode({ t: 'arr', items: [tag, str32(packed), option], w: 0 });
  const gz: Node = { t: 'bin', bytes: gzipSync(packed), w: 3 };
  const gzOption = map([[str('compressed'), str('gzip')]]);
  return encodeNode({ t: 'arr', items: [tag, gz, gzOption], w: 0 });
}

/** Decodes one frame from a buffer that is overwritten right after, like a connection's. */
function decodeLikeAConnection(bytes: Uint8Array, keys = createKeyCache()): Entry[] {
  return requestLikeAConnection(bytes, keys).entries;
}

function requestLikeAConnection(bytes: Uint8Array, keys = createKeyCache()): EventsRequest {
  const buf = Buffer.alloc(bytes.length + 16, 0xee);
  buf.set(bytes, 8);
  const d = decode(buf.subarray(8, 8 + bytes.length), { ...opts, keys });
  if (d instanceof ForwardDecodeError) throw d;
  expect(d.messages).toHaveLength(1);
  const request = d.messages[0] as EventsRequest;
  buf.fill(0xc1); // 0xc1 is never valid msgpack: any byte still read from here would show.
  return request;
}

/** A record the decoder skips as invalid (`proto_key`): the spool would refuse it. */
const protoKeyed = (n: Node) => unsafeClasses(n).has('__proto__ key');

/** Raw-safe records that make a request big enough to keep raw bytes (MIN_RAW_RECORDS). */
const fillers = Array.from({ length: MIN_RAW_RECORDS }, (_, i) =>
  map([[str('filler'), int(BigInt(i), 'pfix')]]),
);

const batchOf = (entries: Entry[]): Batch => ({
  origin: { input: 'forward', peerAddress: '10.0.0.1' },
  receivedAt: 1_764_244_800_000,
  entries,
});

/** The same entries in a new array: no bytes are found, so every record is re-encoded. */
const reencoded = (entries: Entry[]): Entry[] => {
  const copy = entries.map((e) => ({ ...e }));
  expect(rawRecordsOf(copy)).toBeUndefined();
  return copy;
};

describe('raw Forward records in the spool', () => {
  it('stores a record as its bytes exactly when the spool reads them back as the same record', () => {
    const codec = createBatchCodec();
    const keys = createKeyCache(); // shared, as on a server: key-cache hits must be checked too
    const seen = {
      raw: 0,
      reencoded: 0,
      protoSkipped: 0,
      unsafe: new Map<string, number>(),
      safe: new Map<string, number>(),
    };
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    fc.assert(
      fc.property(
        fc.constantFrom<Mode>('message', 'forward', 'packed', 'compressed'),
        fc.array(recordNode, { minLength: 1, maxLength: 10 }),
        (mode, nodes) => {
          const sent = mode === 'message' ? nodes.slice(0, 1) : nodes;
          const request = requestLikeAConnection(frame(mode, sent), keys);
          const entries = request.entries;
          // A `__proto__` key (any depth) makes the decoder skip the record as invalid, since
          // the spool would refuse it; the other records of the request are kept.
          const used = sent.filter((n) => !protoKeyed(n));
          expect(entries).toHaveLength(used.length);
          expect(request.invalid.proto_key ?? 0).toBe(sent.length - used.length);
          seen.protoSkipped += sent.length - used.length;

          // The reader's verdict matches the rule worked out from both readers; requests with
          // too few raw-safe records (and Message mode, one event) keep no bytes at all.
          const safeCount = used.filter(expectRawSafe).length;
          const kept = mode !== 'message' && safeCount >= MIN_RAW_RECORDS;
          used.forEach((node, i) => {
            const safe = expectRawSafe(node);
            expect(rawRecordBytes(entries, i) !== undefined, `record ${i}`).toBe(safe && kept);
            if (!kept) return;
            if (safe) {
              seen.raw++;
              for (const f of safeFeatures(node)) count(seen.safe, f);
            } else {
              seen.reencoded++;
              for (const c of unsafeClasses(node)) count(seen.unsafe, c);
            }
          });

          expect(entries.some((e) => hasProtoKey(e.record))).toBe(false);
          const storable = entries;
          if (storable.length === 0) return;

          const payload = codec.encode(batchOf(storable));
          const back = codec.decode(payload);
          // What a consumer behind reads is what the Forward reader produced…
          for (const [i, e] of back.entries.entries())
            assertSame(e.record, storable[i]!.record, `record ${i}`);
          // …and the same as what the re-encoding path stores;
          assertSame(back, codec.decode(codec.encode(batchOf(reencoded(storable)))));
          // and the payload is standard msgpack that the general decoder reads the same way.
          assertSame(reference.decode(payload), readPayload(payload));
        },
      ),
      { numRuns: 2000 },
    );
    if (process.env.RAW_STATS) console.log(seen);
    // The generators must actually reach both paths and every class, or the test proves little.
    expect(seen.raw).toBeGreaterThan(100);
    expect(seen.reencoded).toBeGreaterThan(100);
    // Counted over stored records only: a record that also has a `__proto__` key is skipped.
    for (const c of ['big int', 'bad utf-8', 'ext', 'int key', 'bin key', 'nil key', 'f64 key'])
      expect(seen.unsafe.get(c) ?? 0, c).toBeGreaterThan(25);
    expect(seen.protoSkipped).toBeGreaterThan(50);
    for (const f of [
      'bin',
      'float32',
      'int64',
      'wide str',
      'non-ASCII',
      'wide map',
      'duplicate keys',
      'integer-like keys',
    ])
      expect(seen.safe.get(f) ?? 0, f).toBeGreaterThan(50);
  });

  it.each<[string, 'key' | 'value', Node, unknown]>([
    ['an int key (becomes the string "7")', 'key', int(7n, 'pfix'), '7'],
    ['a bin key', 'key', { t: 'bin', bytes: Buffer.from('k'), w: 1 }, 'k'],
    ['a nil key', 'key', { t: 'nil' }, 'null'],
    ['an invalid UTF-8 key', 'key', { t: 'str', bytes: new Uint8Array([0xff]), w: 0 }, '\uFFFD'],
    ['a uint64 of 2^53', 'value', int(2n ** 53n, 'u64'), 2n ** 53n],
    ['an int64 of -(2^53)', 'value', int(-(2n ** 53n), 'i64'), -(2n ** 53n)],
    ['an int64 of 2^63 - 1', 'value', int(2n ** 63n - 1n, 'i64'), 2n ** 63n - 1n],
    [
      'an EventTime ext 0',
      'value',
      { t: 'ext', type: 0, data: new Uint8Array(8) },
      '1970-01-01T00:00:00.000000000Z',
    ],
    [
      'a timestamp ext −1',
      'value',
      { t: 'ext', type: -1, data: new Uint8Array(4) },
      '1970-01-01T00:00:00.000000000Z',
    ],
    [
      'an ext 9',
      'value',
      { t: 'ext', type: 9, data: new Uint8Array([1, 2]) },
      new Uint8Array([1, 2]),
    ],
    ['invalid UTF-8', 'value', { t: 'str', bytes: new Uint8Array([0x61, 0xff]), w: 0 }, 'a\uFFFD'],
    [
      'an overlong NUL',
      'value',
      { t: 'str', bytes: new Uint8Array([0xc0, 0x80]), w: 1 },
      '\uFFFD\uFFFD',
    ],
    [
      'a UTF-16 surrogate in UTF-8',
      'value',
      { t: 'str', bytes: new Uint8Array([0xed, 0xa0, 0x80]), w: 0 },
      '\uFFFD\uFFFD\uFFFD',
    ],
    ['a genuine U+FFFD', 'value', str('x\uFFFD'), 'x\uFFFD'],
  ])(
    'falls back to re-encoding a record with %s, at the top or nested',
    (_name, where, bad, decoded) => {
      const pairs: [Node, Node][] =
        where === 'key'
          ? [
              [str('ok'), str('x')],
              [bad, str('v')],
            ]
          : [
              [str('ok'), str('x')],
              [str('bad'), bad],
            ];
      for (const nested of [false, true]) {
        const record = nested
          ? map([[str('outer'), { t: 'arr', items: [map(pairs)], w: 0 }]])
          : map(pairs);
        for (const mode of ['message', 'forward', 'packed', 'compressed'] as const) {
          const entries = decodeLikeAConnection(frame(mode, [record, ...fillers]));
          const e = entries[0]!;
          expect(rawRecordBytes(entries, 0), mode).toBeUndefined();
          if (mode !== 'message') expect(rawRecordBytes(entries, 1), mode).toBeDefined();
          const inner = nested ? (e.record.outer as RecordMap[])[0]! : e.record;
          if (where === 'key') expect(Object.keys(inner)).toContain(decoded);
          else expect(inner.bad).toEqual(decoded);
          const codec = createBatchCodec();
          assertSame(codec.decode(codec.encode(batchOf(entries))).entries[0]!.record, e.record);
        }
      }
    },
  );

  it('skips a record with a __proto__ key (which the spool refuses) and keeps the others raw', () => {
    for (const record of [
      map([[str('__proto__'), str('x')]]),
      map([[str('a'), map([[str('__proto__'), str('x')]])]]),
    ]) {
      const request = requestLikeAConnection(frame('packed', [record, ...fillers]));
      expect(request.invalid).toEqual({ proto_key: 1 });
      expect(request.entries).toHaveLength(fillers.length);
      expect(rawRecordBytes(request.entries, 0)).toBeDefined();
      const codec = createBatchCodec();
      const back = codec.decode(codec.encode(batchOf(request.entries)));
      expect(back.entries.map((e) => e.record)).toEqual(request.entries.map((e) => e.record));
    }
  });

  it('flags an invalid key every time it occurs, not only when the key cache first sees it', () => {
    const keys = createKeyCache();
    const record = map([[{ t: 'str', bytes: new Uint8Array([0x6b, 0xff]), w: 0 }, str('v')]]);
    for (let i = 0; i < 3; i++) {
      const entries = decodeLikeAConnection(frame('packed', [record, record, ...fillers]), keys);
      expect(rawRecordBytes(entries, 0)).toBeUndefined();
      expect(rawRecordBytes(entries, 1)).toBeUndefined();
      expect(rawRecordBytes(entries, 2)).toBeDefined();
    }
  });

  it.each<[string, Node]>([
    [
      'duplicate keys (the last value wins, at the first position, in both readers)',
      map([
        [str('a'), str('1')],
        [str('b'), str('2')],
        [str('a'), str('3')],
      ]),
    ],
    [
      'integer-like keys (ordered first by both)',
      map([
        [str('z'), str('1')],
        [str('10'), str('2')],
        [str('2'), str('3')],
      ]),
    ],
    ['bin values', map([[str('b'), { t: 'bin', bytes: new Uint8Array([0, 255]), w: 2 }]])],
    [
      'float32, -0 and NaN',
      map([
        [str('f'), { t: 'f32', v: 1.1 }],
        [str('z'), { t: 'f64', v: -0 }],
        [str('n'), { t: 'f32', v: Number.NaN }],
      ]),
    ],
    [
      'int64 and uint64 up to ±(2^53 − 1)',
      map([
        [str('u'), int(2n ** 53n - 1n, 'u64')],
        [str('i'), int(-(2n ** 53n - 1n), 'i64')],
        [str('s'), int(5n, 'i64')],
      ]),
    ],
    [
      'str8/16/32 keys and values, map16/map32',
      {
        t: 'map',
        w: 2,
        pairs: [
          [str('k', 3), str('ä€😀', 2)],
          [str('j', 1), { t: 'map', w: 1, pairs: [] }],
        ],
      },
    ],
  ])('stores the original bytes of a record with %s', (_name, record) => {
    for (const mode of ['forward', 'packed', 'compressed'] as const) {
      const entries = decodeLikeAConnection(frame(mode, [record, ...fillers]));
      const raw = rawRecordBytes(entries, 0);
      expect(raw, mode).toBeDefined();
      expect(Buffer.from(raw!).equals(Buffer.from(encodeNode(record)))).toBe(true);
      const codec = createBatchCodec();
      const payload = codec.encode(batchOf(entries));
      expect(Buffer.from(payload).includes(Buffer.from(encodeNode(record)))).toBe(true);
      assertSame(codec.decode(payload).entries[0]!.record, entries[0]!.record);
      assertSame(reference.decode(payload), readPayload(payload));
    }
  });

  it('keeps the bytes of a request after its buffer is reused for the next one', () => {
    const buf = Buffer.alloc(4096);
    const one = frame('forward', [map([[str('n'), str('first')]]), ...fillers]);
    const two = frame('forward', [map([[str('n'), str('second')]]), ...fillers]);
    buf.set(one);
    const a = (decode(buf.subarray(0, one.length), opts) as { messages: EventsRequest[] })
      .messages[0]!.entries;
    buf.set(two);
    const b = (decode(buf.subarray(0, two.length), opts) as { messages: EventsRequest[] })
      .messages[0]!.entries;
    const codec = createBatchCodec();
    for (const [entries, n] of [
      [a, 'first'],
      [b, 'second'],
    ] as const) {
      const payload = codec.encode(batchOf(entries));
      expect(Buffer.from(payload).includes(Buffer.from(rawRecordBytes(entries, 0)!))).toBe(true);
      expect(codec.decode(payload).entries[0]!.record.n).toBe(n);
    }
  });

  it('encodes anew a record that is not the one its bytes were taken from', () => {
    const records = [0, 1, 2, 3].map((i) => map([[str('level'), str(`info ${i}`)]]));
    const entries = decodeLikeAConnection(frame('packed', records));
    for (let i = 0; i < 4; i++) expect(rawRecordBytes(entries, i)).toBeDefined();
    const codec = createBatchCodec();
    // A changed copy put in place of the record, an entry replaced, one removed in place.
    entries[0] = { ...entries[0]!, record: { ...entries[0]!.record, level: 'error', x: 1 } };
    entries[1]!.record = { level: 'warn' };
    entries.splice(2, 1); // entries[2] is now the entry that was at index 3
    const back = codec.decode(codec.encode(batchOf(entries)));
    expect(back.entries.map((e) => e.record)).toEqual([
      { level: 'error', x: 1 },
      { level: 'warn' },
      { level: 'info 3' },
    ]);
    // A filtered (new) array has no bytes at all, and is encoded as before.
    const kept = entries.filter((e) => e.record.level !== 'warn');
    expect(rawRecordsOf(kept)).toBeUndefined();
    expect(codec.decode(codec.encode(batchOf(kept))).entries.map((e) => e.record.level)).toEqual([
      'error',
      'info 3',
    ]);
  });

  it('keeps no bytes for Message mode or a request with fewer raw-safe records than MIN_RAW_RECORDS', () => {
    const few = fillers.slice(1);
    for (const mode of ['forward', 'packed', 'compressed'] as const) {
      const entries = decodeLikeAConnection(frame(mode, few));
      expect(rawRecordsOf(entries), mode).toBeUndefined();
      // One unsafe record more does not count.
      const bad = map([[str('t'), { t: 'ext', type: -1, data: new Uint8Array(4) }]]);
      expect(rawRecordsOf(decodeLikeAConnection(frame(mode, [bad, ...few]))), mode).toBeUndefined();
      expect(rawRecordsOf(decodeLikeAConnection(frame(mode, fillers))), mode).toBeDefined();
    }
    expect(rawRecordsOf(decodeLikeAConnection(frame('message', fillers)))).toBeUndefined();
  });

  it('does not hold on to the bytes of records it skipped', () => {
    // A bad time skips the entry; the good one still gets its bytes (and only its own).
    const bad: Node = {
      t: 'arr',
      w: 0,
      items: [str('not a time'), map([[str('a'), str('skipped')]])],
    };
    const good = entryNode(map([[str('a'), str('kept')]]));
    const bytes = encodeNode({
      t: 'arr',
      w: 0,
      items: [str('t'), { t: 'arr', w: 0, items: [bad, good, ...fillers.map(entryNode)] }],
    });
    const entries = decodeLikeAConnection(bytes);
    expect(entries).toHaveLength(1 + MIN_RAW_RECORDS);
    expect(
      Buffer.from(rawRecordBytes(entries, 0)!).equals(
        Buffer.from(encodeNode(map([[str('a'), str('kept')]]))),
      ),
    ).toBe(true);
  });
});
