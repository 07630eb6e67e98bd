/**
 * Records of a shape seen often are built by a compiled object literal (msgpack-reader.ts,
 * `readMap`). These tests hold that path to the same records the key-by-key path builds:
 * same own keys in the same order, same values, plain prototype — for duplicate keys,
 * `__proto__`, integer-like keys, keys that are not valid identifiers, nested maps of the same
 * shape at several depths, and shapes that collide or alternate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RecordMap } from '../../../src/core/entry.ts';
import {
  createKeyCache,
  type KeyCache,
  MsgpackReader,
} from '../../../src/ingest/forward/msgpack-reader.ts';
import { concat, pack } from './forward-harness.ts';

type Value = number | string | null | boolean | Pairs;
/** A map as the ordered key/value pairs it is written with (duplicates allowed). */
interface Pairs {
  pairs: [string, Value][];
}

function packMap(m: Pairs): Uint8Array {
  const n = m.pairs.length;
  const head = n < 16 ? [0x80 | n] : [0xde, n >> 8, n & 0xff];
  return concat(head, ...m.pairs.flatMap(([k, v]) => [pack(k), isPairs(v) ? packMap(v) : pack(v)]));
}

function isPairs(v: Value): v is Pairs {
  return typeof v === 'object' && v !== null;
}

/** The record the pairs mean: assigned in order, so the last value wins in the first place. */
function expected(m: Pairs): RecordMap {
  const out: RecordMap = {};
  for (const [k, v] of m.pairs) {
    Object.defineProperty(out, k, {
      value: isPairs(v) ? expected(v) : v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Own keys, values and prototypes, recursively — what `toEqual` alone would not check. */
function sameRecord(actual: unknown, want: unknown): void {
  if (typeof want !== 'object' || want === null) {
    expect(actual).toEqual(want);
    return;
  }
  expect(Object.getPrototypeOf(actual)).toBe(Object.prototype);
  expect(Object.keys(actual as object)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) {
    sameRecord(
      Object.getOwnPropertyDescriptor(actual, k)?.value,
      Object.getOwnPropertyDescriptor(want, k)?.value,
    );
  }
}

function sameRecords(got: RecordMap[], records: Pairs[]): void {
  expect(got).toHaveLength(records.length);
  for (const [i, g] of got.entries()) sameRecord(g, expected(records[i]!));
}

/**
 * The records as the Forward reader reads them, one after the other through one key cache (as
 * a connection does). The reader itself, not `decode`: `decode` skips records with a
 * `__proto__` key as invalid, and these tests also hold the reader to how it keeps them.
 */
function decodeRecords(records: Pairs[], keys: KeyCache): RecordMap[] {
  const bytes = Buffer.from(concat(...records.map(packMap)));
  const reader = new MsgpackReader(bytes, 0, bytes.length, keys);
  const out: RecordMap[] = [];
  while (!reader.atEnd()) {
    const record = reader.tryRecord();
    if (record === undefined) throw new Error('not a map');
    out.push(record);
  }
  return out;
}

const compiledShapes = (keys: KeyCache) => keys.shapes.filter((s) => s?.make).length;

const KEYS = [
  'a',
  'b',
  'level',
  '__proto__',
  '0',
  '10',
  '"}; throw new Error("x"); //',
  'back\\slash',
  'line\nbreak',
  'sep\u2028arator',
  'ключ',
  'k'.repeat(30), // longer than the key cache takes: never part of a shape
];
const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.constant(null),
  fc.boolean(),
);
const pairsOf = (value: fc.Arbitrary<Value>) =>
  fc
    .array(fc.tuple(fc.constantFrom(...KEYS), value), { minLength: 1, maxLength: 8 })
    .map((pairs): Pairs => ({ pairs }));
const record: fc.Arbitrary<Pairs> = pairsOf(fc.oneof(scalar, pairsOf(scalar)));

describe('Forward records built from a known shape', () => {
  it('equal the key-by-key records, whatever the keys, over many repeats of each shape', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(record, fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 6 }),
        (runs) => {
          const keys = createKeyCache();
          // Each run repeats one key order with fresh values, so shapes reach their literal.
          const records = runs.flatMap(([r, times]) =>
            Array.from({ length: times }, (_, i) => ({
              pairs: r.pairs.map(([k, v]): [string, Value] => [
                k,
                typeof v === 'number' ? v + i : v,
              ]),
            })),
          );
          // Twice through the same cache: the second pass meets every shape compiled.
          for (let pass = 0; pass < 2; pass++) {
            const got = decodeRecords(records, keys);
            expect(got).toHaveLength(records.length);
            sameRecords(got, records);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('compiles a shape that repeats, and builds the same records before and after', () => {
    const keys = createKeyCache();
    const make = (i: number): Pairs => ({
      pairs: [
        ['instance_id', `i-${i}`],
        ['status', 200 + i],
        ['nested', { pairs: [['x', i]] }],
      ],
    });
    const records = Array.from({ length: 40 }, (_, i) => make(i));
    const got = decodeRecords(records, keys);
    sameRecords(got, records);
    // The record shape and the nested map's shape.
    expect(compiledShapes(keys)).toBe(2);
  });

  it('never compiles a shape with a "__proto__" key, and keeps the key a plain field', () => {
    const keys = createKeyCache();
    const records = Array.from({ length: 40 }, (_, i) => ({
      pairs: [
        ['a', i],
        ['__proto__', { pairs: [['polluted', true]] }],
      ] as [string, Value][],
    }));
    const got = decodeRecords(records, keys);
    for (const [i, g] of got.entries()) {
      sameRecord(g, expected(records[i]!));
      expect(Object.getPrototypeOf(g)).toBe(Object.prototype);
      expect((g as { polluted?: unknown }).polluted).toBeUndefined();
    }
    // Only the inner map ({polluted}) compiles.
    expect(compiledShapes(keys)).toBe(1);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('takes a key that is not an identifier literally, never as code', () => {
    const keys = createKeyCache();
    // At most 24 bytes, so the key cache (and with it the shape path) takes it.
    const key = '"});globalThis.__q=1;({"';
    const records = Array.from({ length: 40 }, (_, i) => ({
      pairs: [
        [key, i],
        ['b', 'x'],
      ] as [string, Value][],
    }));
    const got = decodeRecords(records, keys);
    expect(compiledShapes(keys)).toBe(1);
    expect(Object.keys(got[39]!)).toEqual([key, 'b']);
    expect(got[39]![key]).toBe(39);
    expect((globalThis as { __q?: unknown }).__q).toBeUndefined();
  });

  it('stays right when shapes alternate record by record in the same slots', () => {
    const keys = createKeyCache();
    const shapes: [string, Value][][] = [
      [
        ['a', 1],
        ['b', 2],
      ],
      [
        ['b', 1],
        ['a', 2],
      ],
      [
        ['a', 1],
        ['b', 2],
        ['a', 3],
      ],
    ];
    // Warm each shape up first, then interleave them.
    const records: Pairs[] = [];
    for (const s of shapes) for (let i = 0; i < 20; i++) records.push({ pairs: s });
    for (let i = 0; i < 60; i++) records.push({ pairs: shapes[i % 3]! });
    const got = decodeRecords(records, keys);
    sameRecords(got, records);
    expect(Object.keys(got.at(-1)!)).toEqual(['a', 'b']);
    expect(got.at(-1)).toEqual({ a: 3, b: 2 });
  });

  it('keeps apart more shapes than it has slots, all with keys of the same lengths', () => {
    // 2,000 shapes in 1,024 slots must share some; a slot hit only counts when the keys are
    // the same, not merely as many or as long.
    const keys = createKeyCache();
    const shape = (i: number): Pairs => ({
      pairs: [
        [`k${1000 + i}`, i],
        [`j${1000 + i}`, -i - 1],
      ],
    });
    const warm: Pairs[] = [];
    for (let i = 0; i < 2000; i++) for (let r = 0; r < 20; r++) warm.push(shape(i));
    sameRecords(decodeRecords(warm, keys), warm);
    expect(compiledShapes(keys)).toBeGreaterThan(500);
    // Most of these now meet a slot that holds another shape's compiled literal.
    const again = Array.from({ length: 2000 }, (_, i) => shape(i));
    sameRecords(decodeRecords(again, keys), again);
  });
});
