/**
 * The one-pass line encoder against the map-based rule (the reference), on names generated
 * from the characters the escaping rules care about: backslashes and slashes, separators,
 * quotes, newlines, `#`, underscores, tabs and NULs, unicode, `.` (flattening), and the
 * `time` / `_field` renames, used as record keys, label keys and values, tag_keys and
 * measurements.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, Labels, RecordMap, RecordValue } from '../../../src/core/entry.ts';
import { createLineEncoder } from '../../../src/sinks/influxdb/line-encoder.ts';
import { compileSchema, toPoint } from '../../../src/sinks/influxdb/points.ts';
import { referenceLine } from './reference-encoder.ts';

const TOKEN = fc.constantFrom(
  '\\',
  '\\',
  '/',
  ' ',
  ',',
  '=',
  '"',
  '\n',
  '#',
  '_',
  '\t',
  '\0',
  'é',
  '.',
  'a',
  'time',
  '_field',
);
const NAME = fc.array(TOKEN, { minLength: 0, maxLength: 5 }).map((parts) => parts.join(''));
const SCALAR: fc.Arbitrary<RecordValue> = fc.oneof(
  NAME,
  fc.integer({ min: -5, max: 5 }),
  fc.bigInt({ min: 2n ** 63n - 2n, max: 2n ** 64n + 1n }),
  fc.boolean(),
);
const VALUE: fc.Arbitrary<RecordValue> = fc.oneof(
  { arbitrary: SCALAR, weight: 4 },
  { arbitrary: fc.dictionary(NAME, SCALAR, { maxKeys: 2 }), weight: 1 },
);

const T = 1_700_000_000;

describe('line encoder on generated names', () => {
  it('writes byte-for-byte the line of the map-based rule', () => {
    fc.assert(
      fc.property(
        fc.array(NAME, { maxLength: 3 }),
        fc.array(fc.dictionary(NAME, NAME, { maxKeys: 3 }), { minLength: 1, maxLength: 2 }),
        fc.array(
          fc.record({
            tag: NAME,
            record: fc.dictionary(NAME, VALUE, { maxKeys: 5 }) as fc.Arbitrary<RecordMap>,
            labels: fc.nat(3),
            frozen: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (tagKeys, labelSets, specs) => {
          const plan = compileSchema({ routes: [], tag_keys: tagKeys });
          const enc = createLineEncoder(plan, (e, seq) => toPoint(e, seq, plan));
          const frozen = labelSets.map((l) => Object.freeze({ ...l }));
          for (let pass = 0; pass < 2; pass++) {
            specs.forEach((s, i) => {
              const li = s.labels % labelSets.length;
              const labels: Labels = s.frozen ? frozen[li]! : { ...labelSets[li]! };
              const e: Entry = { tag: s.tag, sec: T, nsec: 0, record: s.record, labels };
              const r = enc.encode(e, i);
              const got = typeof r === 'string' ? r : `unencodable: ${r.reason}`;
              expect(got).toBe(referenceLine(e, i, plan));
            });
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
