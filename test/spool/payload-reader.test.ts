import { Decoder, ExtData, ExtensionCodec, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BIGINT_EXT_TYPE, MsgpackWriter } from '../../src/spool/msgpack-writer.ts';
import {
  createPayloadKeyCache,
  PayloadFormatError,
  readPayload,
} from '../../src/spool/payload-reader.ts';

const ext = new ExtensionCodec();
ext.register({
  type: BIGINT_EXT_TYPE,
  encode: () => null,
  decode: (d) => BigInt(new TextDecoder().decode(d)),
});
const reference = new Decoder({ extensionCodec: ext });

const key = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((k) => k !== '__proto__');
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

describe('spool payload reader', () => {
  it('reads whatever the writer wrote exactly as the standard msgpack decoder does', () => {
    const w = new MsgpackWriter();
    const keys = createPayloadKeyCache();
    fc.assert(
      fc.property(value, (v) => {
        w.reset();
        w.value(v);
        const bytes = w.finish();
        expect(readPayload(bytes, keys)).toEqual(reference.decode(bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('reads standard msgpack in every width the writer does not pick itself', () => {
    const v = {
      str16: 'x'.repeat(300),
      arr16: Array.from({ length: 20 }, (_, i) => i),
      map16: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, -i])),
      f32: Math.fround(1.5),
      u64: 2 ** 40,
      i64: -(2 ** 40),
      u8: 200,
      i8: -100,
    };
    const bytes = encode(v, { forceFloat32: false });
    expect(readPayload(bytes)).toEqual(reference.decode(bytes));
    // float32 and fixext/ext8 carrying a bigint
    expect(readPayload(Uint8Array.from([0xca, 0x3f, 0xc0, 0, 0]))).toBe(1.5);
    expect(readPayload(Uint8Array.from([0xd4, 0, 0x37]))).toBe(7n);
    expect(readPayload(Uint8Array.from([0xc7, 2, 0, 0x2d, 0x39]))).toBe(-9n);
  });

  it('keeps keys apart that share a cache slot or differ in one byte, across payloads', () => {
    const keys = createPayloadKeyCache();
    const w = new MsgpackWriter();
    for (let i = 0; i < 5000; i++) {
      const rec = { [`key${i}`]: i, [`key${i % 3}`]: 'x', ключ: true };
      w.reset();
      w.value(rec);
      expect(readPayload(w.finish(), keys)).toEqual(rec);
    }
  });

  it('refuses what no spool writer produces, instead of guessing', () => {
    const bad = (bytes: number[] | Uint8Array, message: RegExp) =>
      expect(() => readPayload(Uint8Array.from(bytes))).toThrow(
        expect.objectContaining({
          name: PayloadFormatError.name,
          message: expect.stringMatching(message),
        }),
      );
    bad(encode(new ExtData(5, Uint8Array.from([1]))), /extension type 5/);
    bad([0x81, 0x01, 0xa1, 0x61], /number key/);
    bad([0x81, 0xa9, ...Buffer.from('__proto__'), 0xc0], /__proto__/);
    bad([0x92, 0x01], /truncated/);
    bad([0xdd, 0xff, 0xff, 0xff, 0xff], /truncated/);
    bad([0x01, 0x02], /extra bytes/);
    bad([0xc1], /type byte 0xc1/);
  });
});
