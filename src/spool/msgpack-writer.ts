/**
 * A small msgpack writer specialised for spool payloads: about twice as fast as the general
 * @msgpack/msgpack encoder on log records, which matters because encoding is the dominant cost
 * of the acknowledge path (the Forward input must sustain 500k records/s on two cores).
 *
 * It writes standard msgpack that @msgpack/msgpack's decoder reads back exactly:
 * - integers that are safe JS integers use the smallest int format (int64/uint64 for large
 *   ones, read back as `number`); `-0`, fractions, NaN and ±Infinity are float64;
 * - `bigint` is extension type 0 holding its decimal text (any size);
 * - `Uint8Array` (any ArrayBuffer view) is `bin`; object keys whose value is `undefined` are left
 *   out;
 * - a map key `__proto__` is refused with `InvalidInputError` (the decoder would refuse it);
 * - so are arrays and maps nested more than `MAX_NESTING` levels inside a value: the payload
 *   reader recurses per level and needs more stack for it than this writer, so a deep enough
 *   record would be stored (and acknowledged) but never read back;
 * - strings are UTF-8 with an ASCII fast path; a lone UTF-16 surrogate (possible only from a JSON
 *   `\uD800` escape) is written as U+FFFD, as any UTF-8 encoder does.
 *
 * One writer owns a growing buffer that it reuses across calls; `finish()` returns a copy.
 */
import { InvalidInputError } from '../core/errors.ts';

export const BIGINT_EXT_TYPE = 0;

/** Strings at least this long are written with Buffer's native UTF-8 encoder (≥ 32: str8). */
const LONG_STRING = 32;
/** Longest string whose UTF-8 form (≤ 3 bytes per UTF-16 unit) surely fits a str8. */
const MAX_STR8_CHARS = 85;
/** Distinct map keys whose encoded form is remembered (records repeat a few keys). */
const KEY_CACHE_MAX = 1024;
/** Longest key that is remembered. */
const KEY_CACHE_MAX_LEN = 32;
/** Byte strings at least this long are copied natively (`set`); shorter ones in a JS loop. */
const NATIVE_COPY = 64;
/** The same for a whole remembered array (encoded labels, keys, repeated strings). */
const NATIVE_COPY_WHOLE = 32;
/**
 * Deepest nesting of arrays and maps inside a value (a record's own map not counted). Far
 * beyond real records and the Forward input's 64 levels, far below what overflows the stack
 * (thousands of levels).
 */
export const MAX_NESTING = 256;

type NativeBuffer = Buffer & { utf8Write(s: string, offset: number): number };

export class MsgpackWriter {
  private buf = Buffer.allocUnsafe(256 * 1024) as NativeBuffer;
  // Encoded keys (header + UTF-8), so the handful of keys every record repeats are copied
  // rather than transcoded each time. Cleared when full: a record stream with unbounded key
  // names must not grow it.
  private readonly keys = new Map<string, Uint8Array>();
  // Encoded values that repeat across a batch's entries (tags, instance ids), kept apart from
  // the keys so a stream of many instances does not push record keys out.
  private readonly repeated = new Map<string, Uint8Array>();
  // Encoded frozen maps; weak, so a labels object dropped by the registry goes with its bytes.
  private readonly frozen = new WeakMap<object, Uint8Array>();
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;
  /** Arrays and maps `value` is inside of (reset with the buffer: a throw leaves it raised). */
  private depth = 0;
  /** `buf.byteLength`, as a plain field: `ensure` reads it for every value written. */
  private cap = this.buf.byteLength;

  reset(): void {
    this.pos = 0;
    this.depth = 0;
  }

  /** A copy of what was written since `reset()`. */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.pos));
  }

  private ensure(n: number): void {
    if (this.pos + n > this.cap) this.grow(n);
  }

  /** Kept out of `ensure`, which every write calls, so that one stays small enough to inline. */
  private grow(n: number): void {
    const next = Buffer.allocUnsafe(
      Math.max(this.buf.byteLength * 2, this.pos + n),
    ) as NativeBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.cap = next.byteLength;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  arrayHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x90 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xdc;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdd;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  private mapHeader(n: number): void {
    this.ensure(5);
    if (n < 16) this.buf[this.pos++] = 0x80 | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = 0xde;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdf;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  private strHeader(n: number): void {
    if (n < 32) this.buf[this.pos++] = 0xa0 | n;
    else if (n < 0x100) {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xda;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  string(s: string): void {
    const n = s.length;
    if (n >= LONG_STRING && n <= MAX_STR8_CHARS) {
      // Long values (paths, messages) are cheaper to transcode natively than char by char.
      // At least one byte and at most three per UTF-16 unit: 32…255 bytes, always a str8.
      this.ensure(2 + 3 * n);
      const start = this.pos;
      const bytes = this.buf.utf8Write(s, start + 2);
      this.buf[start] = 0xd9;
      this.buf[start + 1] = bytes;
      this.pos = start + 2 + bytes;
      return;
    }
    if (n < 0x100) {
      // ASCII fast path: the header assumes one byte per char; undone if a char is not ASCII.
      this.ensure(2 + n);
      const start = this.pos;
      this.strHeader(n);
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = start;
          this.stringUtf8(s);
          return;
        }
        buf[p++] = c;
      }
      this.pos = p;
      return;
    }
    this.stringUtf8(s);
  }

  /**
   * A string that is likely to come again soon (an entry's tag, its instance id): its encoded
   * form is remembered like a map key's, so a repeat is a byte copy instead of a transcode.
   * Same bytes as `string(s)`. (The same lookup as `key`, written out twice on purpose: one
   * shared `remembered(cache, s)` made the raw-record encode 8–15 % slower, 255 → 285 ns/record.)
   */
  repeatedString(s: string): void {
    const known = this.repeated.get(s);
    if (known !== undefined) {
      this.copy(known);
      return;
    }
    const start = this.pos;
    this.string(s);
    if (s.length <= KEY_CACHE_MAX_LEN) {
      if (this.repeated.size >= KEY_CACHE_MAX) this.repeated.clear();
      this.repeated.set(s, new Uint8Array(this.buf.subarray(start, this.pos)));
    }
  }

  private stringUtf8(s: string): void {
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(5 + bytes);
    this.strHeader(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  number(v: number): void {
    this.ensure(9);
    const buf = this.buf;
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      if (v >= 0) {
        if (v < 0x80) buf[this.pos++] = v;
        else if (v < 0x100) {
          buf[this.pos++] = 0xcc;
          buf[this.pos++] = v;
        } else if (v < 0x10000) {
          buf[this.pos++] = 0xcd;
          this.view.setUint16(this.pos, v);
          this.pos += 2;
        } else if (v < 0x100000000) {
          buf[this.pos++] = 0xce;
          this.view.setUint32(this.pos, v);
          this.pos += 4;
        } else {
          buf[this.pos++] = 0xcf;
          this.view.setUint32(this.pos, Math.floor(v / 0x100000000));
          this.view.setUint32(this.pos + 4, v >>> 0);
          this.pos += 8;
        }
      } else if (v >= -32) buf[this.pos++] = v & 0xff;
      else if (v >= -0x80) {
        buf[this.pos++] = 0xd0;
        this.view.setInt8(this.pos++, v);
      } else if (v >= -0x8000) {
        buf[this.pos++] = 0xd1;
        this.view.setInt16(this.pos, v);
        this.pos += 2;
      } else if (v >= -0x80000000) {
        buf[this.pos++] = 0xd2;
        this.view.setInt32(this.pos, v);
        this.pos += 4;
      } else {
        buf[this.pos++] = 0xd3;
        this.view.setBigInt64(this.pos, BigInt(v));
        this.pos += 8;
      }
      return;
    }
    buf[this.pos++] = 0xcb;
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  private bigint(v: bigint): void {
    const text = v.toString();
    const n = text.length;
    this.ensure(6 + n);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc7;
      this.buf[this.pos++] = n;
    } else {
      this.buf[this.pos++] = 0xc9;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.buf[this.pos++] = BIGINT_EXT_TYPE;
    this.pos += this.buf.write(text, this.pos, n, 'latin1');
  }

  private binary(v: ArrayBufferView): void {
    const n = v.byteLength;
    this.ensure(5 + n);
    if (n < 0x100) {
      this.buf[this.pos++] = 0xc4;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xc5;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xc6;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
    this.buf.set(new Uint8Array(v.buffer, v.byteOffset, n), this.pos);
    this.pos += n;
  }

  /** `null` and `undefined` both become nil (only map values skip `undefined`). */
  value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = v ? 0xc3 : 0xc2;
        return;
      case 'bigint':
        this.bigint(v);
        return;
      case 'undefined':
        this.ensure(1);
        this.buf[this.pos++] = 0xc0;
        return;
      case 'object':
        if (v === null) {
          this.ensure(1);
          this.buf[this.pos++] = 0xc0;
        } else if (Array.isArray(v)) this.nested(v);
        else if (ArrayBuffer.isView(v)) this.binary(v);
        else this.nested(v as Record<string, unknown>);
        return;
      default:
        throw new TypeError(`cannot store a ${typeof v} in the spool`);
    }
  }

  /** An array or map inside a value, refused beyond `MAX_NESTING` levels. */
  private nested(v: unknown[] | Record<string, unknown>): void {
    if (++this.depth > MAX_NESTING)
      throw new InvalidInputError(
        `a record nests arrays and maps more than ${MAX_NESTING} levels deep`,
      );
    if (Array.isArray(v)) {
      this.arrayHeader(v.length);
      for (const item of v) this.value(item);
    } else this.map(v);
    this.depth--;
  }

  /**
   * A map that is frozen (the labeller's shared, read-only labels objects) is encoded once and
   * its bytes copied afterwards; anything else is encoded as usual.
   */
  frozenMap(obj: Record<string, unknown>): void {
    if (!Object.isFrozen(obj)) {
      this.map(obj);
      return;
    }
    let known = this.frozen.get(obj);
    if (known === undefined) {
      const start = this.pos;
      this.map(obj);
      known = new Uint8Array(this.buf.subarray(start, this.pos));
      this.frozen.set(obj, known);
      return;
    }
    this.copy(known);
  }

  /**
   * Appends `bytes[start..end)`, which must be one complete msgpack value, as they are: the
   * caller vouches that they read back as what it means to store.
   */
  raw(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const n = end - start;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n >= NATIVE_COPY) buf.set(bytes.subarray(start, end), p);
    else for (let i = start; i < end; i++) buf[p++] = bytes[i]!;
    this.pos += n;
  }

  private copy(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    // A whole array needs no subarray view, so the native copy pays off sooner than in `raw`.
    if (n >= NATIVE_COPY_WHOLE) {
      buf.set(bytes, p);
      this.pos = p + n;
      return;
    }
    for (let i = 0; i < n; i++) buf[p++] = bytes[i]!;
    this.pos = p;
  }

  map(obj: Record<string, unknown>): void {
    // Common case first: a record with fewer than 16 keys gets a one-byte header that is
    // patched once the keys are counted, so the record is walked once with no key array.
    this.ensure(1);
    const header = this.pos++;
    let n = 0;
    for (const k in obj) {
      const v = obj[k];
      if (v === undefined) continue;
      if (++n === 16) {
        this.pos = header;
        this.mapWithKeys(obj);
        return;
      }
      this.key(k);
      this.value(v);
    }
    this.buf[header] = 0x80 | n;
  }

  private mapWithKeys(obj: Record<string, unknown>): void {
    const keys = Object.keys(obj);
    let n = 0;
    for (const k of keys) if (obj[k] !== undefined) n++;
    this.mapHeader(n);
    for (const k of keys) {
      const v = obj[k];
      if (v === undefined) continue;
      this.key(k);
      this.value(v);
    }
  }

  private key(k: string): void {
    // The decoder refuses this key (prototype pollution guard), so storing it would make a
    // row that can never be delivered; refuse it up front instead.
    if (k === '__proto__') throw new InvalidInputError('a record key "__proto__" is not allowed');
    const known = this.keys.get(k);
    if (known !== undefined) {
      this.copy(known);
      return;
    }
    const start = this.pos;
    this.string(k);
    if (k.length <= KEY_CACHE_MAX_LEN) {
      if (this.keys.size >= KEY_CACHE_MAX) this.keys.clear();
      this.keys.set(k, new Uint8Array(this.buf.subarray(start, this.pos)));
    }
  }
}
