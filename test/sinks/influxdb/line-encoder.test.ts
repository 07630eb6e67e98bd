import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Labels, RecordMap, RecordValue } from '../../../src/core/entry.ts';
import { createLineEncoder, type LineEncoder } from '../../../src/sinks/influxdb/line-encoder.ts';
import {
  compileSchema,
  lineEncoder,
  type SchemaPlan,
  toLines,
  toPoint,
} from '../../../src/sinks/influxdb/points.ts';
import { referenceLine, referenceToPoint, safeKey } from './reference-encoder.ts';

// Keys chosen to collide: with labels and tag_keys (clashes, `_field` names), with each other
// once flattened (`a.b` vs a: {b}), with the `time` rename, with escaping, and with what plain
// objects treat specially (Object.prototype names, array indexes; rarer, as they take toPoint).
const NAMED_KEY = fc.constantFrom(
  'role',
  'version',
  'slot',
  'level',
  'status',
  'method',
  'msg',
  'a',
  'b',
  'a.b',
  'b.c',
  'time',
  'time_',
  'time__',
  'instance_id',
  'host',
  'role_field',
  'role_field_field',
  'time_field',
  '',
  'k y',
  'k,=x',
  'n\nr\r',
  'end\\',
  '#m',
  'a\\ b',
  'q\\"x',
  'x\\/,y',
  'end\\/',
);
const KEY = fc.oneof(
  { arbitrary: NAMED_KEY, weight: 30 },
  { arbitrary: fc.constantFrom('5', '0', 'constructor', 'toString'), weight: 1 },
);
const TEXT = fc.oneof(
  fc.constantFrom('', 'info', 'GET', 'a b', 'x,y=z', 'say "hi" \\ end\\', 'l1\nl2\r', 'end\\', '#'),
  fc.constantFrom('C:\\dir\\', 'x\\/', 'v\\ y', 'q\\"'),
  // Either side of the longest tag_keys value promoted to a tag.
  fc.constantFrom('l'.repeat(256), 'l'.repeat(257), 'é'.repeat(257)),
  fc.string({ maxLength: 12 }),
);
const SCALAR: fc.Arbitrary<RecordValue> = fc.oneof(
  TEXT,
  fc.integer({ min: -1000, max: 1000 }),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 0.25),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.bigInt({ min: 2n ** 63n - 2n, max: 2n ** 64n + 1n }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 6 }),
);
const VALUE: fc.Arbitrary<RecordValue> = fc.letrec<{ v: RecordValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    SCALAR,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(KEY, tie('v'), { maxKeys: 3 }),
  ),
})).v;
const RECORD: fc.Arbitrary<RecordMap> = fc.dictionary(KEY, VALUE, { maxKeys: 9 });
const LABELS: fc.Arbitrary<Labels> = fc.dictionary(KEY, TEXT, { maxKeys: 5 });

const T = 1_700_000_000;

/** Entries as the writer meets them: labels objects shared (frozen) or decoded copies. */
const ENTRIES = fc
  .tuple(
    fc.array(LABELS, { minLength: 1, maxLength: 3 }),
    fc.array(
      fc.record({
        tag: fc.constantFrom(
          'app.access.web',
          'app.log',
          'app.log',
          '',
          'cpu load,x',
          '#c',
          'disk\\ c\\"',
          'm\\',
          'fleet_rollup',
          'fleet_members',
          'fleet_events',
        ),
        sec: fc.oneof(fc.constant(T), fc.integer({ min: 0, max: 2 ** 40 })),
        nsec: fc.oneof(fc.constantFrom(0, 999_999_999), fc.integer({ min: 0, max: 999_999_999 })),
        record: RECORD,
        eventId: fc.option(fc.constantFrom('ev-1', 'ev-2', ''), { nil: undefined }),
        labels: fc.nat(5),
        labelsAs: fc.constantFrom('shared', 'frozen', 'copy', 'none'),
        tags: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 4 },
          { arbitrary: fc.dictionary(KEY, TEXT, { maxKeys: 4 }), weight: 1 },
        ),
        instanceId: fc.constantFrom(undefined, null, '', 'i-0abc'),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  )
  .map(([labelSets, specs]) => {
    const frozen = labelSets.map((l) => Object.freeze({ ...l }));
    return specs.map((s): Entry => {
      const i = s.labels % labelSets.length;
      const e: Entry = { tag: s.tag, sec: s.sec, nsec: s.nsec, record: s.record };
      if (s.eventId !== undefined) e.record = { ...s.record, event_id: s.eventId };
      if (s.labelsAs === 'shared') e.labels = labelSets[i]!;
      else if (s.labelsAs === 'frozen') e.labels = frozen[i]!;
      else if (s.labelsAs === 'copy') e.labels = { ...labelSets[i]! };
      if (s.tags !== undefined) e.tags = s.tags;
      if (s.instanceId !== undefined) e.instanceId = s.instanceId;
      return e;
    });
  });

const TAG_KEYS: fc.Arbitrary<string[]> = fc.oneof(
  { arbitrary: fc.constant<string[]>(['level', 'status', 'method']), weight: 3 },
  {
    arbitrary: fc.subarray(['level', 'status', 'role_field', 'time', 'time_', 'a.b', 'msg', '']),
    weight: 3,
  },
  { arbitrary: fc.subarray(['level', '5', 'constructor']), weight: 1 },
);

const planOf = (tagKeys: string[]): SchemaPlan =>
  compileSchema({
    routes: [
      { match: 'app.access.**', measurement: 'access' },
      { match: 'app.{x,y}', measurement: '' },
    ],
    tag_keys: tagKeys,
  });

const encoded = (enc: LineEncoder, e: Entry, seq: number): string => {
  const r = enc.encode(e, seq);
  return typeof r === 'string' ? r : `unencodable: ${r.reason}`;
};

/** What the catalog's novelty check used to read off the tag and field maps. */
const referenceShape = (e: Entry, seq: number, plan: SchemaPlan) => {
  const p = referenceToPoint(e, seq, plan);
  if (!('line' in p)) return undefined;
  return {
    measurement: p.measurement,
    tagNames: Object.keys(p.tags)
      .filter((t) => p.tags[t] !== '')
      .map(safeKey)
      .sort(),
    fieldNames: Object.keys(p.fields).map(safeKey).sort(),
  };
};

const shapeOf = (enc: LineEncoder) => ({
  measurement: enc.shape.measurement,
  tagNames: enc.shape.tagNames.slice(0, enc.shape.tagCount).sort(),
  fieldNames: enc.shape.fieldNames.slice(0, enc.shape.fieldCount).sort(),
});

describe('line encoder', () => {
  it('writes byte-for-byte the line of the map-based rule, and the same point shape', () => {
    let points = 0;
    let fallbacks = 0;
    fc.assert(
      fc.property(
        TAG_KEYS,
        ENTRIES,
        fc.oneof(fc.integer({ min: 0, max: 3_000_000 }), fc.maxSafeInteger().map(Math.abs)),
        fc.constantFrom(undefined, 8),
        (tagKeys, entries, firstSeq, maxKeys) => {
          const plan = planOf(tagKeys);
          const fallback = (e: Entry, seq: number) => {
            fallbacks++;
            return toPoint(e, seq, plan);
          };
          const enc = createLineEncoder(plan, fallback, maxKeys === undefined ? {} : { maxKeys });
          // Twice: the second pass meets warm caches (keys, labels plans, measurements).
          for (let pass = 0; pass < 2; pass++) {
            entries.forEach((e, i) => {
              const seq = firstSeq + i;
              points++;
              expect(encoded(enc, e, seq)).toBe(referenceLine(e, seq, plan));
              const want = referenceShape(e, seq, plan);
              if (want !== undefined) expect(shapeOf(enc)).toEqual(want);
            });
          }
        },
      ),
      { numRuns: 3000 },
    );
    // The one-pass path must carry most of it, or this compares toPoint with itself.
    expect(fallbacks / points).toBeLessThan(0.5);
  });

  it('agrees on the typical access record, its clashes and its edge times', () => {
    const plan = planOf(['level', 'status', 'method']);
    const labels = Object.freeze({ role: 'web', version: '1.4.2', slot: '3' });
    const record: RecordMap = {
      msg: 'GET /api/v1/items/7 HTTP/1.1 "Mozilla/5.0, like \\"Gecko\\""',
      status: 200,
      method: 'GET',
      level: 'info',
      path: '/api/v1/items/7',
      reqtime: 0.012,
      bytes: 1024,
      role: 'web',
      http: { ua: 'Mozilla/5.0', referer: 'https://example.com/a b' },
    };
    const enc = lineEncoder(plan);
    const cases: [Entry, number][] = [
      [{ tag: 'app.access.web', sec: T, nsec: 0, record, labels, instanceId: 'i-1' }, 17],
      [{ tag: 'app.access.web', sec: T, nsec: 999_999_999, record, labels }, 2_999_999],
      [{ tag: 'app.log', sec: 0, nsec: 5, record: {}, labels }, 0],
      [{ tag: 'app.log', sec: -2, nsec: 500, record: { v: 1 } }, 3],
      [{ tag: 'app.log', sec: 2 ** 53 - 1, nsec: 999_999_999, record: { v: 1 } }, 1],
    ];
    for (const [e, seq] of cases) expect(encoded(enc, e, seq)).toBe(referenceLine(e, seq, plan));
    expect(encoded(enc, cases[0]![0], 17)).toBe(
      'access,level=info,method=GET,role=web,slot=3,status=200,version=1.4.2 ' +
        'msg="GET /api/v1/items/7 HTTP/1.1 \\"Mozilla/5.0, like \\\\\\"Gecko\\\\\\"\\"",' +
        'path="/api/v1/items/7",reqtime=0.012,bytes=1024,http.ua="Mozilla/5.0",' +
        'http.referer="https://example.com/a b",instance_id="i-1",role_field="web" ' +
        '1700000000000000017',
    );
  });

  it('never trusts an unfrozen labels object by identity: a changed value is written', () => {
    const plan = planOf(['level']);
    const enc = lineEncoder(plan);
    const labels: Labels = { role: 'web', version: '1' };
    const e: Entry = { tag: 'm', sec: T, nsec: 0, record: { v: 1 }, labels };
    expect(encoded(enc, e, 0)).toBe(`m,role=web,version=1 v=1 ${T}000000000`);
    labels.role = 'db';
    expect(encoded(enc, e, 0)).toBe(`m,role=db,version=1 v=1 ${T}000000000`);
  });

  it('starts its caches over past maxKeys and still writes the same lines', () => {
    const plan = planOf(['level']);
    const enc = lineEncoder(plan, { maxKeys: 4 });
    for (let i = 0; i < 50; i++) {
      const e: Entry = {
        tag: 'm',
        sec: T,
        nsec: 0,
        record: { [`k${i}`]: i, level: 'info', nested: { [`n${i % 7}`]: 'x' } },
        labels: { role: `r${i % 3}`, [`extra${i % 5}`]: 'y' },
        instanceId: 'i-1',
      };
      expect(encoded(enc, e, i)).toBe(referenceLine(e, i, plan));
    }
  });

  it('toLines: the lines of a batch at entry_seq offsets, leaving out what cannot be written', () => {
    const plan = planOf(['level']);
    const entries: Entry[] = [
      { tag: 'a', sec: T, nsec: 0, record: { v: 1 } },
      { tag: '', sec: T, nsec: 0, record: { v: 1 } },
      { tag: 'b', sec: T, nsec: 0, record: { w: 1 } },
    ];
    const lines = toLines(
      { seq: 1, firstEntrySeq: 0, batch: { entries, origin: { input: 'forward' }, receivedAt: 0 } },
      plan,
    );
    expect(lines).toEqual([`a v=1 ${T}000000000`, `b w=1 ${T}000000002`]);
  });
});
