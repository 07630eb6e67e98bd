/**
 * Reads back what `MsgpackWriter` wrote: the decoder of spool payloads, on the path of every
 * batch a consumer reads from the table rather than from the spool's memory cache — i.e. the
 * whole backlog after an InfluxDB outage or a restart. About twice as fast as the general
 * @msgpack/msgpack decoder on log records, because it reads only what the writer produces:
 *
 * - nil, booleans, every int and float format (64-bit ints become `number`, as the writer only
 *   uses them for safe integers), str (native UTF-8 slicing), bin (a view of the payload);
 * - arrays; maps with string keys (refusing `__proto__`, which no writer emits);
 * - extension type 0 = a `bigint` as decimal text.
 *
 * Anything else (another extension type, a non-string key, truncation) means the row is not a
 * spool payload, and is refused with an error instead of being guessed at.
 */
import { BIGINT_EXT_TYPE } from './msgpack-writer.ts';

type NativeBuffer = Buffer & {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
};

/** Strings up to this many bytes are built in JS: cheaper than a call into C++. */
const SHORT_STRING = 16;
const KEY_SLOTS = 1024;
const KEY_MAX_LEN = 32;

/** Decoded map keys by their bytes, across payloads: records repeat a few keys. */
export interface PayloadKeyCache {
  bytes: (Uint8Array | undefined)[];
  text: string[];
}

export function createPayloadKeyCache(): PayloadKeyCache {
  return { bytes: new Array(KEY_SLOTS), text: new Array(KEY_SLOTS) };
}

export class PayloadFormatError extends Error {
  override name = 'PayloadFormatError';
}

/** Decodes one msgpack value that fills `bytes` exactly. */
export function readPayload(
  bytes: Uint8Array,
  keys: PayloadKeyCache = createPayloadKeyCache(),
): unknown {
  const r = new PayloadReader(bytes, keys);
  const v = r.value();
  if (r.pos !== bytes.length)
    throw new PayloadFormatError(`${bytes.length - r.pos} extra bytes after the payload`);
  return v;
}

class PayloadReader {
  pos = 0;
  private readonly buf: NativeBuffer;
  private readonly view: DataView;

  constructor(
    bytes: Uint8Array,
    private readonly keys: PayloadKeyCache,
  ) {
    this.buf = (
      Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    ) as NativeBuffer;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length)
      throw new PayloadFormatError(`truncated payload at offset ${this.pos}`);
  }

  value(): unknown {
    this.need(1);
    const b = this.buf[this.pos++]!;
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b <= 0x8f) return this.map(b & 0x0f);
    if (b <= 0x9f) return this.array(b & 0x0f);
    if (b <= 0xbf) return this.str(b & 0x1f);
    const v = this.view;
    const p = this.pos;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        this.need(1);
        this.pos++;
        return this.bin(v.getUint8(p));
      case 0xc5:
        this.need(2);
        this.pos += 2;
        return this.bin(v.getUint16(p));
      case 0xc6:
        this.need(4);
        this.pos += 4;
        return this.bin(v.getUint32(p));
      case 0xc7:
        this.need(2);
        this.pos += 2;
        return this.ext(v.getUint8(p), v.getInt8(p + 1));
      case 0xc8:
        this.need(3);
        this.pos += 3;
        return this.ext(v.getUint16(p), v.getInt8(p + 2));
      case 0xc9:
        this.need(5);
        this.pos += 5;
        return this.ext(v.getUint32(p), v.getInt8(p + 4));
      case 0xca:
        this.need(4);
        this.pos += 4;
        return v.getFloat32(p);
      case 0xcb:
        this.need(8);
        this.pos += 8;
        return v.getFloat64(p);
      case 0xcc:
        this.need(1);
        this.pos++;
        return v.getUint8(p);
      case 0xcd:
        this.need(2);
        this.pos += 2;
        return v.getUint16(p);
      case 0xce:
        this.need(4);
        this.pos += 4;
        return v.getUint32(p);
      case 0xcf:
        this.need(8);
        this.pos += 8;
        return v.getUint32(p) * 0x100000000 + v.getUint32(p + 4);
      case 0xd0:
        this.need(1);
        this.pos++;
        return v.getInt8(p);
      case 0xd1:
        this.need(2);
        this.pos += 2;
        return v.getInt16(p);
      case 0xd2:
        this.need(4);
        this.pos += 4;
        return v.getInt32(p);
      case 0xd3:
        this.need(8);
        this.pos += 8;
        return v.getInt32(p) * 0x100000000 + v.getUint32(p + 4);
      case 0xd4:
        return this.ext(1, this.fixextType());
      case 0xd5:
        return this.ext(2, this.fixextType());
      case 0xd6:
        return this.ext(4, this.fixextType());
      case 0xd7:
        return this.ext(8, this.fixextType());
      case 0xd8:
        return this.ext(16, this.fixextType());
      case 0xd9:
        this.need(1);
        this.pos++;
        return this.str(v.getUint8(p));
      case 0xda:
        this.need(2);
        this.pos += 2;
        return this.str(v.getUint16(p));
      case 0xdb:
        this.need(4);
        this.pos += 4;
        return this.str(v.getUint32(p));
      case 0xdc:
        this.need(2);
        this.pos += 2;
        return this.array(v.getUint16(p));
      case 0xdd:
        this.need(4);
        this.pos += 4;
        return this.array(v.getUint32(p));
      case 0xde:
        this.need(2);
        this.pos += 2;
        return this.map(v.getUint16(p));
      case 0xdf:
        this.need(4);
        this.pos += 4;
        return this.map(v.getUint32(p));
      default:
        throw new PayloadFormatError(`invalid msgpack type byte 0x${b.toString(16)}`);
    }
  }

  private fixextType(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  private str(n: number): string {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return this.text(start, n);
  }

  private text(start: number, n: number): string {
    if (n <= SHORT_STRING) {
      const b = this.buf;
      let s = '';
      for (let i = start; i < start + n; i++) {
        const c = b[i]!;
        if (c > 0x7f) return b.utf8Slice(start, start + n);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.buf.utf8Slice(start, start + n);
  }

  /** A map key: a fixstr is looked up by its bytes; anything else is read as a value. */
  private key(): unknown {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b < 0xa0 || b > 0xbf || (b & 0x1f) > KEY_MAX_LEN) return this.value();
    const n = b & 0x1f;
    const start = this.pos + 1;
    this.need(1 + n);
    this.pos = start + n;
    const buf = this.buf;
    let h = n;
    for (let i = start; i < start + n; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    const slot = (h >>> 0) % KEY_SLOTS;
    const known = this.keys.bytes[slot];
    if (known !== undefined && known.length === n) {
      let same = true;
      for (let i = 0; i < n; i++)
        if (known[i] !== buf[start + i]) {
          same = false;
          break;
        }
      if (same) return this.keys.text[slot]!;
    }
    const text = this.text(start, n);
    this.keys.bytes[slot] = new Uint8Array(buf.subarray(start, start + n));
    this.keys.text[slot] = text;
    return text;
  }

  private bin(n: number): Uint8Array {
    this.need(n);
    const start = this.pos;
    this.pos += n;
    // A plain Uint8Array view (a Buffer is a subclass, and would not compare equal).
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, n);
  }

  private ext(n: number, type: number): bigint {
    if (type !== BIGINT_EXT_TYPE)
      throw new PayloadFormatError(`unexpected msgpack extension type ${type} in a spool payload`);
    this.need(n);
    const start = this.pos;
    this.pos += n;
    return BigInt(this.buf.latin1Slice(start, start + n));
  }

  private array(n: number): unknown[] {
    // Every element takes at least one byte: a corrupt length cannot allocate a huge array.
    this.need(n);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.value();
    return out;
  }

  private map(n: number): Record<string, unknown> {
    this.need(2 * n);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.key();
      if (typeof k !== 'string')
        throw new PayloadFormatError(`a spool payload map has a ${typeof k} key`);
      if (k === '__proto__') throw new PayloadFormatError('a spool payload has a __proto__ key');
      out[k] = this.value();
    }
    return out;
  }
}
