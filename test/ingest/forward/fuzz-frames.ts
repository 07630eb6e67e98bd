/**
 * fast-check arbitraries for Forward fuzzing: valid requests of every mode, and mutations of
 * them (bit flips, truncation, inserted bytes, overwritten length headers).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { concat, eventTime, pack } from './forward-harness.ts';

const record = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  ),
  { maxKeys: 5 },
);
const time = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }).map((s) => eventTime(s, 7)),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const entry = fc.tuple(time, record).map((e) => pack(e));

export const validFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.tuple(time, record).map(([t, r]) => pack(['tag.m', t, r, { chunk: 'abc' }])),
  fc
    .array(fc.tuple(time, record), { maxLength: 5 })
    .map((es) => pack(['tag.f', es, { chunk: 'f' }])),
  fc
    .array(entry, { maxLength: 5 })
    .map((es) => pack(['tag.p', concat(...es), { size: es.length }])),
  fc
    .array(entry, { minLength: 1, maxLength: 5 })
    .map((es) =>
      pack(['tag.g', concat(...es.map((e) => gzipSync(e))), { compressed: 'gzip', chunk: 'g' }]),
    ),
);

export const mutatedFrame: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    validFrame,
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.oneof(fc.constant('flip'), fc.constant('cut'), fc.constant('insert'), fc.constant('ff')),
        fc.integer({ min: 0, max: 255 }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([frame, muts]) => {
    let b = Buffer.from(frame);
    for (const [at, how, byte] of muts) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (how === 'flip') b[i] = (b[i] ?? 0) ^ (1 << (byte % 8));
      else if (how === 'cut') b = b.subarray(0, i);
      else if (how === 'insert')
        b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else
        b = Buffer.concat([
          b.subarray(0, i),
          Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),
          b.subarray(i),
        ]);
    }
    return new Uint8Array(b);
  });

export const anyInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  mutatedFrame,
);
