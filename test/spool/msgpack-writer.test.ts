import { Decoder, ExtensionCodec } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.ts';
import { BIGINT_EXT_TYPE, MsgpackWriter } from '../../src/spool/msgpack-writer.ts';

const ext = new ExtensionCodec();
ext.register({
  type: BIGINT_EXT_TYPE,
  encode: () => null,
  decode: (d) => BigInt(new TextDecoder().decode(d)),
});
const decoder = new Decoder({ extensionCodec: ext });

const roundTrip = (w: MsgpackWriter, v: unknown) => {
  w.reset();
  w.value(v);
  return decoder.decode(w.finish());
};

const key = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => k !== '__proto__');
const leaf = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ maxLength: 40 }),
  fc.maxSafeInteger(),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 300 }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('v'), { maxLength: 20 }),
    fc.dictionary(key, tie('v'), { maxKeys: 20 }),
  ),
})).v;

describe('msgpack writer', () => {
  it('writes any record value so that the standard decoder reads back exactly the same', () => {
    const w = new MsgpackWriter();
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(w, v)).toEqual(v);
      }),
      { numRuns: 400 },
    );
  });

  it.each([
    ['-0', -0],
    ['2^53 - 1', Number.MAX_SAFE_INTEGER],
    ['-(2^53 - 1)', -Number.MAX_SAFE_INTEGER],
    ['2^32', 2 ** 32],
    ['-2^31 - 1', -(2 ** 31) - 1],
    ['2^60 (unsafe, as float)', 2 ** 60],
    ['NaN', Number.NaN],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a 70 kB string', 'é'.repeat(35_000)],
    ['a 300-char ASCII string', 'x'.repeat(300)],
    ['bigint 2^200', 2n ** 200n],
    ['a large binary', new Uint8Array(70_000).fill(7)],
    ['a 70,000-element array', Array.from({ length: 70_000 }, (_, i) => i)],
  ])('keeps %s exact', (_, v) => {
    const back = roundTrip(new MsgpackWriter(), v);
    if (v instanceof Uint8Array) expect(Buffer.from(v).equals(back as Uint8Array)).toBe(true);
    else expect(back).toEqual(v);
    if (typeof v === 'number') expect(Object.is(back, v)).toBe(true);
  });

  it('leaves out keys whose value is undefined, in small and in large maps', () => {
    expect(roundTrip(new MsgpackWriter(), { a: 1, b: undefined })).toEqual({ a: 1 });
    const big: Record<string, unknown> = { skip: undefined };
    for (let i = 0; i < 40; i++) big[`k${i}`] = i % 2 ? `v${i}` : undefined;
    const want = Object.fromEntries(Object.entries(big).filter(([, v]) => v !== undefined));
    expect(Object.keys(want)).toHaveLength(20);
    expect(roundTrip(new MsgpackWriter(), big)).toEqual(want);
    const exactly16 = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]));
    expect(roundTrip(new MsgpackWriter(), exactly16)).toEqual(exactly16);
  });

  it('refuses a __proto__ key that no decoder would read back', () => {
    const rec = JSON.parse('{"__proto__": {"x": 1}}');
    expect(() => roundTrip(new MsgpackWriter(), rec)).toThrow(InvalidInputError);
  });

  it('reuses its buffer: a later, smaller value does not carry bytes of an earlier one', () => {
    const w = new MsgpackWriter();
    roundTrip(w, 'x'.repeat(400_000));
    expect(roundTrip(w, { small: true })).toEqual({ small: true });
  });
});
