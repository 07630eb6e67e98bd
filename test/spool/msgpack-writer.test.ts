import { Decoder, ExtensionCodec, encode as encodeValue } from '@msgpack/msgpack';
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

  it('remembers repeated keys as copies, so they stay right after the buffer is reused and grown', () => {
    const w = new MsgpackWriter();
    const rec = { instance_id: 'i-1', ключ: 'v', level: 'info' };
    expect(roundTrip(w, rec)).toEqual(rec);
    // The same keys at other offsets, after the buffer has been overwritten and reallocated.
    const big = { pad: 'y'.repeat(300_000), ...rec, more: [rec, rec] };
    expect(roundTrip(w, big)).toEqual(big);
    expect(roundTrip(w, [1, 2, rec])).toEqual([1, 2, rec]);
  });

  it('keeps writing every key right once more distinct keys than it remembers have been seen', () => {
    const w = new MsgpackWriter();
    for (let i = 0; i < 3000; i++) {
      const rec = { [`k${i}`]: i, [`k${i % 7}`]: 'x', stable: true };
      expect(roundTrip(w, rec)).toEqual(rec);
    }
  });

  it('writes long strings of any script byte-exactly (native path) at every length up to str16', () => {
    const w = new MsgpackWriter();
    for (const unit of ['a', 'é', '€', '😀', '\uD800']) {
      for (let n = 28; n <= 90; n++) {
        const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
        expect(roundTrip(w, s)).toBe(
          s.replace(/[\uD800-\uDFFF]/g, (c, i: number, all: string) => {
            // A lone surrogate comes back as U+FFFD; a well-formed pair is kept.
            const code = c.charCodeAt(0);
            const pairHigh = code < 0xdc00 && /[\uDC00-\uDFFF]/.test(all[i + 1] ?? '');
            const pairLow = code >= 0xdc00 && /[\uD800-\uDBFF]/.test(all[i - 1] ?? '');
            return pairHigh || pairLow ? c : '\uFFFD';
          }),
        );
      }
    }
  });

  it('copies a frozen map it has written before, and encodes an equal unfrozen one anew', () => {
    const w = new MsgpackWriter();
    const labels = Object.freeze({ role: 'web', version: '1.4.2', slot: '3' });
    const encode = (m: Record<string, unknown>) => {
      w.reset();
      w.frozenMap(m);
      return Buffer.from(w.finish());
    };
    const first = encode(labels);
    w.reset();
    w.map({ role: 'web', version: '1.4.2', slot: '3' });
    const plain = Buffer.from(w.finish());
    expect(first.equals(plain)).toBe(true);
    roundTrip(w, 'z'.repeat(100_000)); // overwrite the buffer
    expect(encode(labels).equals(first)).toBe(true);
    const open = { role: 'web' } as Record<string, unknown>;
    expect(decoder.decode(encode(open))).toEqual({ role: 'web' });
    open.role = 'db';
    expect(decoder.decode(encode(open))).toEqual({ role: 'db' });
  });

  it('appends raw bytes verbatim, short or long, after the buffer is reused and grown', () => {
    const w = new MsgpackWriter();
    const short = Buffer.from([0x81, 0xa1, 0x61, 0x01]); // {a: 1}
    const long = new Uint8Array(encodeValue({ message: 'm'.repeat(300), n: [1, 2, 3] }));
    const huge = new Uint8Array(encodeValue({ blob: 'b'.repeat(600_000) }));
    for (const raw of [short, long, huge, short, long]) {
      w.reset();
      w.arrayHeader(3);
      w.string('before');
      w.raw(raw);
      w.number(7);
      const out = Buffer.from(w.finish());
      expect(out.includes(Buffer.from(raw))).toBe(true);
      expect(decoder.decode(out)).toEqual(['before', decoder.decode(raw), 7]);
    }
  });

  it('writes a repeated string as the same bytes as string(), every time, in any mix', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom('app.access', 'i-0000000000000001a', 'é', 'x'.repeat(40)),
            fc.string({ unit: 'grapheme', maxLength: 60 }),
          ),
          { maxLength: 30 },
        ),
        (strings) => {
          const w = new MsgpackWriter();
          const expected = new MsgpackWriter();
          for (const s of strings) {
            w.reset();
            w.repeatedString(s);
            w.repeatedString(s);
            expected.reset();
            expected.string(s);
            expected.string(s);
            expect(Buffer.from(w.finish()).equals(Buffer.from(expected.finish()))).toBe(true);
          }
        },
      ),
    );
  });

  it('finish() returns a copy in its own ArrayBuffer, which later writes leave alone', () => {
    const w = new MsgpackWriter();
    w.reset();
    w.value({ a: 'one', b: [1, 2, 3] });
    const first = w.finish();
    expect(first.constructor).toBe(Uint8Array);
    expect(first.byteOffset).toBe(0);
    expect(first.buffer.byteLength).toBe(first.byteLength);
    w.reset();
    w.value({ a: 'two', b: [4, 5, 6] });
    expect(decoder.decode(first)).toEqual({ a: 'one', b: [1, 2, 3] });
  });
});
