import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  type DecodeOptions,
  decode,
  type EventsRequest,
} from '../../../src/ingest/forward/decode.ts';
import { ForwardDecodeError } from '../../../src/ingest/forward/errors.ts';
import { createFrameScanner } from '../../../src/ingest/forward/frame-scanner.ts';
import { decodeJsonFrame } from '../../../src/ingest/forward/json-frames.ts';
import { createKeyCache } from '../../../src/ingest/forward/msgpack-reader.ts';
import { createBatchCodec } from '../../../src/spool/codec.ts';
import { concat, eventTime, pack } from './forward-harness.ts';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const opts: DecodeOptions = {
  maxFrameBytes: 1024 * 1024,
  maxDecompressedBytes: 1024 * 1024,
  nowMs: NOW,
};

function one(bytes: Uint8Array, o: Partial<DecodeOptions> = {}): EventsRequest {
  const d = decode(bytes, { ...opts, ...o });
  if (d instanceof ForwardDecodeError) throw d;
  expect(d.messages).toHaveLength(1);
  expect(d.consumed).toBe(bytes.length);
  const m = d.messages[0]!;
  if (m.kind === 'heartbeat') throw new Error('heartbeat');
  return m;
}

function fail(bytes: Uint8Array, o: Partial<DecodeOptions> = {}): ForwardDecodeError {
  const d = decode(bytes, { ...opts, ...o });
  if (!(d instanceof ForwardDecodeError)) throw new Error(`decoded: ${JSON.stringify(d)}`);
  return d;
}

/** str32 header + raw bytes, the way fluentd's out_forward carries packed entries. */
const str32 = (b: Uint8Array) => {
  const h = Buffer.alloc(5);
  h[0] = 0xdb;
  h.writeUInt32BE(b.length, 1);
  return concat(h, b);
};

const ET = eventTime(1441588984, 500);
const rec = { k: 'v' };
const entry = (t: unknown = ET, r: unknown = rec) => pack([t, r]);

describe('decode › carrier modes', () => {
  it('decodes Message mode with an EventTime (fixext8) to sec + nsec', () => {
    const m = one(pack(['tag.a', ET, rec]));
    expect(m.kind).toBe('message');
    expect(m.entries).toEqual([{ tag: 'tag.a', sec: 1441588984, nsec: 500, record: rec }]);
  });

  it('decodes the spec hex example of Message mode with a chunk option', () => {
    const hex =
      '94a57461672e61d70055ece6f8000001f481a16ba17681a56368756e6bb870386e39676d7854515643382f6e6832776c4b4b65513d3d';
    const m = one(Buffer.from(hex, 'hex'));
    expect(m.entries[0]).toMatchObject({ sec: 1441588984, nsec: 500, record: { k: 'v' } });
    expect(Buffer.from(m.chunk!).toString('hex')).toBe(
      `b8${Buffer.from('p8n9gmxTQVC8/nh2wlKKeQ==').toString('hex')}`,
    );
  });

  it('accepts EventTime written as ext8 (c7 08 00) as well as fixext8', () => {
    const ext8 = Buffer.from('c7080055ece6f8000001f4', 'hex');
    const m = one(concat([0x93, 0xa1, 0x74], ext8, pack(rec)));
    expect(m.entries[0]).toMatchObject({ sec: 1441588984, nsec: 500 });
  });

  it('accepts integer seconds and an option that is absent, nil or empty', () => {
    for (const frame of [
      ['t', 1700000000, rec],
      ['t', 1700000000, rec, null],
      ['t', 1700000000, rec, {}],
    ]) {
      const m = one(pack(frame));
      expect(m.entries[0]).toMatchObject({ sec: 1700000000, nsec: 0 });
      expect(m.chunk).toBeUndefined();
    }
  });

  it('decodes Forward mode with many entries', () => {
    const m = one(
      pack([
        'tag.a',
        [
          [ET, { a: 1 }],
          [1700000001, { a: 2 }],
        ],
        { chunk: 'abc' },
      ]),
    );
    expect(m.kind).toBe('forward');
    expect(m.entries.map((e) => e.record.a)).toEqual([1, 2]);
    expect(m.entries[1]).toMatchObject({ sec: 1700000001, nsec: 0 });
  });

  it('decodes PackedForward whose entries are bin', () => {
    const m = one(pack(['tag.a', concat(entry(), entry(ET, { b: 2 })), { size: 2 }]));
    expect(m.kind).toBe('packed');
    expect(m.entries.map((e) => e.record)).toEqual([rec, { b: 2 }]);
  });

  it('decodes PackedForward whose entries are str32 holding binary (fluentd) without corrupting them', () => {
    const entries = concat(entry(eventTime(1795777442, 999_999_999), { x: 'ü' }), entry());
    const frame = concat(
      [0x93, 0xa5],
      Buffer.from('tag.a'),
      str32(entries),
      pack({ size: 2, compressed: 'text' }),
    );
    const m = one(frame);
    expect(m.kind).toBe('packed');
    expect(m.entries[0]).toMatchObject({ sec: 1795777442, nsec: 999_999_999, record: { x: 'ü' } });
  });

  it('decodes CompressedPackedForward with several gzip members concatenated', () => {
    const members = concat(
      gzipSync(entry(ET, { n: 1 })),
      gzipSync(entry(ET, { n: 2 })),
      gzipSync(entry(ET, { n: 3 })),
    );
    const m = one(pack(['tag.a', members, { compressed: 'gzip' }]));
    expect(m.kind).toBe('compressed');
    expect(m.entries.map((e) => e.record.n)).toEqual([1, 2, 3]);
  });

  it('treats compressed: "text" as uncompressed', () => {
    expect(one(pack(['t', entry(), { compressed: 'text' }])).kind).toBe('packed');
  });

  it('refuses zstd payloads with a clear error', () => {
    const zstd = concat([0x28, 0xb5, 0x2f, 0xfd], [0, 0, 0, 0]);
    const err = fail(pack(['t', zstd, { compressed: 'zstd' }]));
    expect(err.code).toBe('unsupported_compression');
    expect(err.message).toMatch(/zstd/);
  });

  it('returns a heartbeat for a nil request', () => {
    const d = decode(Buffer.from([0xc0]), opts);
    expect(d).toEqual({ messages: [{ kind: 'heartbeat', frameBytes: 1 }], consumed: 1 });
  });
});

describe('decode › times', () => {
  it('accepts the [time, {metadata}] entry form that Fluent Bit ≥ 5 sends', () => {
    const m = one(
      pack([
        't',
        [
          [[ET, {}], rec],
          [[1700000000, { otlp: 1 }], rec],
        ],
      ]),
    );
    expect(m.kind).toBe('forward');
    expect(m.entries.map((e) => [e.sec, e.nsec])).toEqual([
      [1441588984, 500],
      [1700000000, 0],
    ]);
  });

  it('tells a Message with a [time, {meta}] time apart from Forward mode', () => {
    const m = one(pack(['t', [ET, {}], rec]));
    expect(m.kind).toBe('message');
    expect(m.entries[0]).toMatchObject({ sec: 1441588984, nsec: 500, record: rec });
  });

  it('accepts float seconds and counts them as off-spec', () => {
    const m = one(pack(['t', 1700000000.25, rec]));
    expect(m.entries[0]).toMatchObject({ sec: 1700000000, nsec: 250_000_000 });
    expect(m.floatTimes).toBe(1);
  });

  it('replaces time 0, nil and EventTime(0) with now', () => {
    for (const t of [0, null, eventTime(0, 0)]) {
      const m = one(pack(['t', [[t, rec]]]));
      expect(m.entries[0]).toMatchObject({ sec: NOW / 1000, nsec: 0 });
    }
  });

  it('skips and counts events with a bad time, keeping the valid ones', () => {
    const m = one(
      pack([
        't',
        [
          ['yesterday', rec],
          [eventTime(1, 1_000_000_000), rec],
          [-5, rec],
          [ET, rec],
        ],
      ]),
    );
    expect(m.entries).toHaveLength(1);
    expect(m.invalid).toEqual({ bad_time: 3 });
  });
});

describe('decode › records and encodings', () => {
  it('reads keys right when a reused buffer holds new bytes of the same hash', () => {
    // The connection decodes every request from one reused buffer. "aB" and "b#" hash to the
    // same key-cache slot: a cache that kept a view of that buffer would find the new bytes
    // where the old ones were and answer "aB" for "b#".
    const keys = createKeyCache();
    const buf = Buffer.from(pack(['t', 1, { aB: 1 }]));
    expect(one(buf, { keys }).entries[0]!.record).toEqual({ aB: 1 });
    buf.set(pack(['t', 1, { 'b#': 2 }]));
    expect(one(buf, { keys }).entries[0]!.record).toEqual({ 'b#': 2 });
    buf.set(pack(['t', 1, { aB: 3 }]));
    expect(one(buf, { keys }).entries[0]!.record).toEqual({ aB: 3 });
  });

  it('accepts non-minimal encodings: str32 tag, array32, map32 option, uint64 time, int64 value', () => {
    const frame = concat(
      [0xdd, 0, 0, 0, 4],
      [0xdb, 0, 0, 0, 1, 0x74],
      [0xcf, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00],
      [0xdf, 0, 0, 0, 1, 0xd9, 1, 0x6b, 0xd3, 0, 0, 0, 0, 0, 0, 0, 7],
      [0xdf, 0, 0, 0, 1],
      pack('chunk'),
      [0xda, 0, 2, 0x69, 0x64],
    );
    const m = one(frame);
    expect(m.entries[0]).toMatchObject({ tag: 't', sec: 0x6553f100, record: { k: 7 } });
    expect(Buffer.from(m.chunk!)).toEqual(Buffer.from([0xda, 0, 2, 0x69, 0x64]));
  });

  it('decodes str → string, bin → Uint8Array, big uint64 → bigint, ext −1 → ISO time, odd keys → strings', () => {
    const record = concat(
      [0x86],
      pack('s'),
      pack('text'),
      pack('b'),
      pack(new Uint8Array([1, 2, 3])),
      pack('big'),
      [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      pack('ts'),
      [0xd6, 0xff, 0x65, 0x53, 0xf1, 0x00],
      [0xc4, 3, 0x6b, 0x65, 0x79],
      pack(1),
      [0x05],
      pack(null),
    );
    const m = one(concat(pack(['t', ET]).subarray(0, 0), [0x93], pack('t'), pack(ET), record));
    expect(m.entries[0]!.record).toEqual({
      s: 'text',
      b: new Uint8Array([1, 2, 3]),
      big: 18446744073709551615n,
      ts: '2023-11-14T22:13:20.000000000Z',
      key: 1,
      '5': null,
    });
  });

  it('skips and counts a record with a "__proto__" key at any depth, keeping the others', () => {
    // The spool refuses such records; refusing the request for one of them would make the
    // sender retry the whole chunk forever.
    const proto = concat([0x81], pack('__proto__'), pack({ x: 1 }));
    const nested = concat(
      [0x82],
      pack('a'),
      pack(1),
      pack('b'),
      [0x81],
      pack('__proto__'),
      pack(2),
    );
    const m = one(
      concat(
        [0x92],
        pack('t'),
        [0x94],
        [0x92],
        pack(1),
        pack({ ok: 1 }),
        [0x92],
        pack(1),
        proto,
        [0x92],
        pack(1),
        nested,
        [0x92],
        pack(1),
        pack({ ok: 2 }),
      ),
    );
    expect(m.entries.map((e) => e.record)).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(m.invalid).toEqual({ proto_key: 2 });
    expect(one(concat([0x93], pack('t'), pack(1), proto)).invalid).toEqual({ proto_key: 1 });
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });

  it('skips a JSON-mode record with a "__proto__" key the same way', () => {
    const request = decodeJsonFrame(
      JSON.stringify([
        't',
        [
          [1, { ok: 1 }],
          [1, { a: [{ b: 1 }] }],
        ],
      ]).replace('"b"', '"__proto__"'),
      NOW,
    );
    if (request instanceof ForwardDecodeError || request.kind === 'heartbeat') throw request;
    expect(request.entries.map((e) => e.record)).toEqual([{ ok: 1 }]);
    expect(request.invalid).toEqual({ proto_key: 1 });
  });

  it('skips a JSON-mode record nested deeper than the spool stores, keeping the others', () => {
    const deep = (levels: number): unknown => (levels === 0 ? 1 : [deep(levels - 1)]);
    const request = decodeJsonFrame(
      JSON.stringify([
        't',
        [
          [1, { a: deep(300) }],
          [1, { a: deep(200) }],
        ],
      ]),
      NOW,
    );
    if (request instanceof ForwardDecodeError || request.kind === 'heartbeat') throw request;
    expect(request.invalid).toEqual({ too_deep: 1 });
    expect(request.entries).toHaveLength(1);
    // What is kept, the spool stores (it refuses beyond its own limit).
    const codec = createBatchCodec();
    expect(() =>
      codec.encode({ entries: request.entries, origin: { input: 'forward' }, receivedAt: 0 }),
    ).not.toThrow();
  });

  it('skips entries that are not [time, record] and records that are not maps, still returning the request', () => {
    const m = one(
      pack(['t', [[ET, 'not a map'], 'junk', [ET], [ET, null], [ET, rec]], { chunk: 'c' }]),
    );
    expect(m.entries).toHaveLength(1);
    expect(m.invalid).toEqual({ bad_record: 2, bad_entry: 2 });
    expect(m.chunk).toBeDefined();
  });

  it('keeps the chunk id as the exact bytes and type it arrived with (str with "\\n", or bin)', () => {
    const fd = 'Zm9vYmFyYmF6cXV4cXV1eA==\n';
    expect(Buffer.from(one(pack(['t', 1, rec, { chunk: fd }])).chunk!)).toEqual(
      Buffer.from(pack(fd)),
    );
    const bin = new Uint8Array([9, 8, 7]);
    expect(Buffer.from(one(pack(['t', 1, rec, { chunk: bin }])).chunk!)).toEqual(
      Buffer.from(pack(bin)),
    );
  });
});

describe('decode › bad requests', () => {
  const cases: [string, Uint8Array, string, boolean][] = [
    ['a request that is not an array', pack({ a: 1 }), 'not_an_array', true],
    ['a tag that is not a string', pack([1, 1, rec]), 'bad_tag', false],
    ['an array with one element', pack(['t']), 'bad_shape', false],
    ['the never-used type byte 0xc1', Buffer.from([0x93, 0xc1, 1, 2]), 'malformed_msgpack', false],
    ['packed entries cut short', pack(['t', entry().subarray(0, 5)]), 'bad_entries', false],
    [
      'corrupt gzip',
      pack(['t', concat([0x1f, 0x8b], [1, 2, 3, 4]), { compressed: 'gzip' }]),
      'bad_gzip',
      false,
    ],
  ];
  it.each(cases)('rejects %s', (_name, bytes, code, canContinue) => {
    const err = fail(bytes);
    expect(err.code).toBe(code);
    expect(err.canContinue).toBe(canContinue);
  });

  it('rejects msgpack nested deeper than 64 levels instead of recursing without bound', () => {
    const deep = concat(
      [0x93],
      pack('t'),
      pack(1),
      [0x81, 0xa1, 0x6b],
      Array(200).fill(0x91),
      [0x01],
    );
    expect(fail(deep).code).toBe('malformed_msgpack');
  });

  it('accepts a Fluent Bit style request: map32 option with fluent_signal, metadata entry times', () => {
    const option = concat(
      [0xdf, 0, 0, 0, 3],
      pack('fluent_signal'),
      pack(0),
      pack('size'),
      pack(1),
      pack('chunk'),
      pack('fb=='),
    );
    const frame = concat([0x93], pack('fb.tag'), pack([[[ET, {}], { log: 'x' }]]), option);
    const m = one(frame);
    expect(m.entries).toEqual([
      { tag: 'fb.tag', sec: 1441588984, nsec: 500, record: { log: 'x' } },
    ]);
    expect(Buffer.from(m.chunk!)).toEqual(Buffer.from(pack('fb==')));
  });

  it('rejects a frame larger than max_frame_bytes before it has fully arrived', () => {
    const big = pack(['t', new Uint8Array(5000)]);
    const err = fail(big.subarray(0, 100), { maxFrameBytes: 2048 });
    expect(err.code).toBe('frame_too_large');
    expect(err.message).toMatch(/max_frame_bytes 2048/);
  });

  it('rejects a payload that decompresses beyond max_decompressed_bytes', () => {
    const bomb = gzipSync(entry(ET, { pad: 'x'.repeat(100_000) }));
    const err = fail(pack(['t', bomb, { compressed: 'gzip' }]), { maxDecompressedBytes: 10_000 });
    expect(err.code).toBe('decompressed_too_large');
  });

  it('rejects a request with more events than maxEntries, in every mode that carries several', () => {
    const five = Array.from({ length: 5 }, (_, i) => [ET, { i }]);
    const packed = concat(...five.map((e) => pack(e)));
    for (const frame of [
      pack(['t', five]),
      pack(['t', packed]),
      pack(['t', gzipSync(packed), { compressed: 'gzip' }]),
    ]) {
      const err = fail(frame, { maxEntries: 4 });
      expect(err.code).toBe('too_many_entries');
      expect(err.message).toMatch(/max_entries_per_request 4/);
      expect(one(frame, { maxEntries: 5 }).entries).toHaveLength(5);
    }
  });

  it('returns the good requests before a bad one and reports the bad one on the next call', () => {
    const good = pack(['t', 1, rec]);
    const bytes = concat(good, [0xc1]);
    const d = decode(bytes, opts);
    expect(d).toMatchObject({ consumed: good.length });
    expect(fail(bytes.subarray(good.length)).code).toBe('malformed_msgpack');
  });
});

describe('frame scanner', () => {
  it('finds the same frame boundaries whatever the split of the bytes into reads', () => {
    const frames = [
      pack(['a', ET, rec, { chunk: 'x' }]),
      pack(['b', [[ET, { deep: [[1, 2], { x: [] }] }]]]),
      str32(entry()),
      pack(null),
    ];
    const all = concat(...frames);
    for (let split = 1; split < all.length; split++) {
      const scanner = createFrameScanner(1 << 20);
      const ends: number[] = [];
      let start = 0;
      scanner.reset(0);
      for (const end of [split, all.length]) {
        for (;;) {
          const e = scanner.scan(all, end);
          if (e < 0) break;
          ends.push(e);
          start = e;
          scanner.reset(start);
        }
      }
      let acc = 0;
      expect(ends).toEqual(frames.map((f) => (acc += f.length)));
    }
  });

  it('waits for more bytes on a partial frame', () => {
    const f = pack(['t', 1, rec]);
    expect(decode(f.subarray(0, f.length - 1), opts)).toEqual({ messages: [], consumed: 0 });
  });
});
