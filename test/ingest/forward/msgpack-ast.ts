/**
 * A msgpack value described down to its encoding (which int/str/map width, which key type,
 * which bytes), so tests can produce what real senders may send and general encoders never
 * write: non-minimal widths, float32, int and bin keys, duplicate keys, invalid UTF-8, any ext.
 * Also the fast-check arbitraries for Forward records built from it, and the rule (written
 * independently of the reader) for which records the spool may store as their original bytes.
 */
import fc from 'fast-check';

export type Node =
  | { t: 'nil' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: bigint; f: IntFormat }
  | { t: 'f32'; v: number }
  | { t: 'f64'; v: number }
  | { t: 'str'; bytes: Uint8Array; w: 0 | 1 | 2 | 3 }
  | { t: 'bin'; bytes: Uint8Array; w: 1 | 2 | 3 }
  | { t: 'ext'; type: number; data: Uint8Array }
  | { t: 'arr'; items: Node[]; w: 0 | 1 | 2 }
  | { t: 'map'; pairs: [Node, Node][]; w: 0 | 1 | 2 }
  /** Bytes spliced in as they are (e.g. an already encoded EventTime). */
  | { t: 'raw'; bytes: Uint8Array };

type IntFormat = 'pfix' | 'nfix' | 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64';

const RANGES: Record<IntFormat, [bigint, bigint]> = {
  pfix: [0n, 127n],
  nfix: [-32n, -1n],
  u8: [0n, 255n],
  u16: [0n, 65535n],
  u32: [0n, 2n ** 32n - 1n],
  u64: [0n, 2n ** 64n - 1n],
  i8: [-128n, 127n],
  i16: [-(2n ** 15n), 2n ** 15n - 1n],
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
};

export function encodeNode(n: Node): Uint8Array {
  const out: number[] = [];
  write(n, out);
  return Uint8Array.from(out);
}

function be(out: number[], v: bigint, bytes: number): void {
  const u = BigInt.asUintN(bytes * 8, v);
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((u >> BigInt(i * 8)) & 0xffn));
}

/** Writes a length header: the fix form for `w` 0, else `tags[w - 1]` and `sizes[w - 1]` bytes. */
function header(
  out: number[],
  w: number,
  fix: number,
  tags: number[],
  sizes: number[],
  n: number,
): void {
  if (w === 0) out.push(fix | n);
  else {
    out.push(tags[w - 1]!);
    be(out, BigInt(n), sizes[w - 1]!);
  }
}

function write(n: Node, out: number[]): void {
  switch (n.t) {
    case 'nil':
      out.push(0xc0);
      return;
    case 'bool':
      out.push(n.v ? 0xc3 : 0xc2);
      return;
    case 'int': {
      const tag = {
        pfix: -1,
        nfix: -1,
        u8: 0xcc,
        u16: 0xcd,
        u32: 0xce,
        u64: 0xcf,
        i8: 0xd0,
        i16: 0xd1,
        i32: 0xd2,
        i64: 0xd3,
      }[n.f];
      if (tag < 0) out.push(Number(BigInt.asUintN(8, n.v)));
      else {
        out.push(tag);
        be(out, n.v, { 204: 1, 205: 2, 206: 4, 207: 8, 208: 1, 209: 2, 210: 4 }[tag] ?? 8);
      }
      return;
    }
    case 'f32': {
      const b = Buffer.alloc(5);
      b[0] = 0xca;
      b.writeFloatBE(n.v, 1);
      out.push(...b);
      return;
    }
    case 'f64': {
      const b = Buffer.alloc(9);
      b[0] = 0xcb;
      b.writeDoubleBE(n.v, 1);
      out.push(...b);
      return;
    }
    case 'str':
      header(out, n.w, 0xa0, [0xd9, 0xda, 0xdb], [1, 2, 4], n.bytes.length);
      out.push(...n.bytes);
      return;
    case 'bin':
      header(out, n.w, 0, [0xc4, 0xc5, 0xc6], [1, 2, 4], n.bytes.length);
      out.push(...n.bytes);
      return;
    case 'ext': {
      const len = n.data.length;
      const fix = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[len];
      if (fix !== undefined) out.push(fix);
      else {
        out.push(0xc7);
        out.push(len);
      }
      out.push(n.type & 0xff);
      out.push(...n.data);
      return;
    }
    case 'arr':
      header(out, n.w, 0x90, [0xdc, 0xdd], [2, 4], n.items.length);
      for (const item of n.items) write(item, out);
      return;
    case 'map':
      header(out, n.w, 0x80, [0xde, 0xdf], [2, 4], n.pairs.length);
      for (const [k, v] of n.pairs) {
        write(k, out);
        write(v, out);
      }
      return;
    case 'raw':
      out.push(...n.bytes);
  }
}

export const str = (s: string, w: 0 | 1 | 2 | 3 = 0): Node => ({
  t: 'str',
  bytes: Buffer.from(s),
  w: w === 0 && Buffer.byteLength(s) > 31 ? 1 : w,
});
export const map = (pairs: [Node, Node][]): Node => ({ t: 'map', pairs, w: 0 });
export const int = (v: bigint, f: IntFormat): Node => ({ t: 'int', v, f });

// ---------------------------------------------------------------------------------------------
// Whether the spool may store a record as its bytes: the payload reader must read back exactly
// what the Forward reader made of them, and the payload must stay standard msgpack.

const strict = new TextDecoder('utf-8', { fatal: true });

/** Valid UTF-8 without U+FFFD (the reader cannot tell a genuine U+FFFD from a replaced byte). */
function cleanText(bytes: Uint8Array): string | undefined {
  try {
    const s = strict.decode(bytes);
    return s.includes('\uFFFD') ? undefined : s;
  } catch {
    return undefined;
  }
}

export function expectRawSafe(n: Node): boolean {
  switch (n.t) {
    case 'int':
      return n.v >= -(2n ** 53n - 1n) && n.v <= 2n ** 53n - 1n;
    case 'str':
      return cleanText(n.bytes) !== undefined;
    case 'ext':
      return false;
    case 'arr':
      return n.items.every(expectRawSafe);
    case 'map':
      return n.pairs.every(
        ([k, v]) =>
          k.t === 'str' &&
          cleanText(k.bytes) !== undefined &&
          cleanText(k.bytes) !== '__proto__' &&
          expectRawSafe(v),
      );
    default:
      return true;
  }
}

/** Features that are raw-safe but easy to get wrong, present in a record (for coverage). */
export function safeFeatures(n: Node, into = new Set<string>()): Set<string> {
  if (n.t === 'bin') into.add('bin');
  if (n.t === 'f32') into.add('float32');
  if (n.t === 'int' && (n.f === 'u64' || n.f === 'i64') && expectRawSafe(n)) into.add('int64');
  if (n.t === 'str' && n.w > 0 && n.bytes.length < 32) into.add('wide str');
  if (n.t === 'str' && n.bytes.some((b) => b > 0x7f)) into.add('non-ASCII');
  if (n.t === 'arr') for (const i of n.items) safeFeatures(i, into);
  if (n.t === 'map') {
    if (n.w > 0) into.add('wide map');
    const names = n.pairs.map(([k]) => (k.t === 'str' ? Buffer.from(k.bytes).toString() : ''));
    if (new Set(names).size < names.length) into.add('duplicate keys');
    if (names.some((k) => /^\d+$/.test(k))) into.add('integer-like keys');
    for (const [k, v] of n.pairs) {
      safeFeatures(k, into);
      safeFeatures(v, into);
    }
  }
  return into;
}

/** Which unsafe classes a record contains, for coverage statistics. */
export function unsafeClasses(n: Node, into = new Set<string>()): Set<string> {
  if (n.t === 'int' && !expectRawSafe(n)) into.add('big int');
  if (n.t === 'str' && !expectRawSafe(n)) into.add('bad utf-8');
  if (n.t === 'ext') into.add('ext');
  if (n.t === 'arr') for (const i of n.items) unsafeClasses(i, into);
  if (n.t === 'map')
    for (const [k, v] of n.pairs) {
      if (k.t !== 'str') into.add(`${k.t} key`);
      else if (cleanText(k.bytes) === '__proto__') into.add('__proto__ key');
      else unsafeClasses(k, into);
      unsafeClasses(v, into);
    }
  return into;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const intNode: fc.Arbitrary<Node> = fc
  .constantFrom<IntFormat>('pfix', 'nfix', 'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64')
  .chain((f) => {
    const [min, max] = RANGES[f];
    const near53 = [2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n - 1n), -(2n ** 53n)].filter(
      (v) => v >= min && v <= max,
    );
    const edges = [min, max, 0n, ...near53].filter((v) => v >= min && v <= max);
    // 64-bit formats mostly carry small values in practice (non-minimal senders).
    const safeMin = min > -(2n ** 53n - 1n) ? min : -(2n ** 53n - 1n);
    const safeMax = max < 2n ** 53n - 1n ? max : 2n ** 53n - 1n;
    return fc
      .oneof(
        fc.bigInt({ min, max }),
        fc.bigInt({ min: safeMin, max: safeMax }),
        fc.constantFrom(...edges),
      )
      .map((v): Node => ({ t: 'int', v, f }));
  });

/** Text: mostly ASCII (the common case), any Unicode; with `bad`, U+FFFD or invalid UTF-8. */
const textBytes = (bad: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)) },
    {
      weight: 3,
      arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => Buffer.from(s)),
    },
    { weight: bad, arbitrary: fc.constant(Buffer.from('bad \uFFFD replacement')) },
    { weight: bad, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    {
      weight: bad,
      arbitrary: fc
        .tuple(
          fc.string({ maxLength: 10 }),
          fc.constantFrom([0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80]),
        )
        .map(([s, b]) => Buffer.concat([Buffer.from(s), Buffer.from(b)])),
    },
  );

const strNode = (bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Node> =>
  fc
    .tuple(bytes, fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 3))
    .map(([b, w]): Node => ({ t: 'str', bytes: b, w: w === 0 && b.length > 31 ? 1 : w }));

const binNode: fc.Arbitrary<Node> = fc
  .tuple(fc.uint8Array({ maxLength: 40 }), fc.constantFrom<1 | 2 | 3>(1, 2, 3))
  .map(([bytes, w]): Node => ({ t: 'bin', bytes, w }));

const extNode: fc.Arbitrary<Node> = fc.oneof(
  // EventTime, msgpack timestamps (32, 64, 96 bit), and some other ext.
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((data): Node => ({ t: 'ext', type: 0, data })),
  fc
    .constantFrom(4, 8, 12)
    .chain((len) => fc.uint8Array({ minLength: len, maxLength: len }))
    .map((data): Node => ({ t: 'ext', type: -1, data })),
  fc
    .tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 20 }))
    .map(([type, data]): Node => ({ t: 'ext', type, data })),
);

/**
 * Leaves and keys; `bad` weighs the ones that make a record unsafe. With it at 0, records are
 * raw-safe except for a genuine U+FFFD that `fc.string` may produce.
 */
const leaf = (bad: number): fc.Arbitrary<Node> =>
  fc.oneof(
    { weight: 6, arbitrary: strNode(textBytes(bad)) },
    { weight: 4, arbitrary: intNode.filter((n) => bad > 0 || expectRawSafe(n)) },
    { weight: 1, arbitrary: fc.float().map((v): Node => ({ t: 'f32', v })) },
    { weight: 2, arbitrary: fc.double().map((v): Node => ({ t: 'f64', v })) },
    { weight: 1, arbitrary: fc.boolean().map((v): Node => ({ t: 'bool', v })) },
    { weight: 1, arbitrary: fc.constant<Node>({ t: 'nil' }) },
    { weight: 1, arbitrary: binNode },
    { weight: bad, arbitrary: extNode },
  );

/** Keys: mostly a few names (so duplicates happen), integer-like names, other types now and then. */
const keyNode = (bad: number): fc.Arbitrary<Node> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: strNode(
        fc
          .oneof(
            fc.constantFrom('a', 'b', 'message', '0', '1', '10', 'constructor', 'ä'),
            fc.string({ maxLength: 30 }),
          )
          .map((s) => Buffer.from(s)),
      ),
    },
    { weight: 1, arbitrary: strNode(textBytes(bad)) },
    { weight: bad, arbitrary: fc.constant(str('__proto__')) },
    { weight: bad, arbitrary: intNode },
    { weight: bad, arbitrary: binNode },
    { weight: bad, arbitrary: fc.constantFrom<Node>({ t: 'nil' }, { t: 'bool', v: true }) },
    { weight: bad, arbitrary: fc.double().map((v): Node => ({ t: 'f64', v })) },
  );

const mapNode = (key: fc.Arbitrary<Node>, value: fc.Arbitrary<Node>): fc.Arbitrary<Node> =>
  fc
    .tuple(
      fc.array(fc.tuple(key, value), { maxLength: 8 }),
      fc.constantFrom<0 | 1 | 2>(0, 0, 0, 1, 2),
    )
    .map(([pairs, w]): Node => ({ t: 'map', pairs, w }));

const record = (bad: number): fc.Arbitrary<Node> => {
  const value = fc.letrec<{ v: Node }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf(bad),
      fc
        .tuple(fc.array(tie('v'), { maxLength: 6 }), fc.constantFrom<0 | 1 | 2>(0, 0, 1, 2))
        .map(([items, w]): Node => ({ t: 'arr', items, w })),
      mapNode(keyNode(bad), tie('v')),
    ),
  })).v;
  return mapNode(keyNode(bad), value);
};

/** A Forward record: a map of any keys and nested values, raw-safe or not (about half each). */
export const recordNode: fc.Arbitrary<Node> = fc.oneof(record(0), record(1));
