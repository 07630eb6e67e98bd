/**
 * A small msgpack reader tuned for Forward payloads: the hot path of the input.
 *
 * Why not a general library: Forward needs per-position control that generic decoders make
 * awkward. The packed `entries` arrive as *str32* holding binary (fluentd), so the carrier
 * must be taken as raw bytes while record strings become text; an echoed `chunk` must keep
 * its exact encoding; EventTime (ext 0) needs its own handling; and values must match
 * `RecordValue`: str → string, bin → Uint8Array (copied, because the connection reuses its
 * buffer), integers beyond 2^53 → bigint, map keys → strings, ext −1 timestamps → ISO text,
 * other ext → their bytes. Every read is bounds-checked: the reader also walks the inner
 * entries of a packed frame, which no scanner has vetted.
 *
 * While reading a record it also tells whether the record's bytes, stored as they are, would
 * be read back by the spool's payload reader (src/spool/payload-reader.ts) as exactly this
 * record ("raw-safe"), so the spool can keep them instead of encoding the record again. The
 * two readers agree on nil, booleans, every int format within ±(2^53 − 1), float32/float64,
 * str, bin, arrays, and maps with str keys (duplicates included: both assign in order). They
 * differ, so a record is not raw-safe, on:
 * - a key that is not a str (int, bin, …): here it becomes a string, there it is refused;
 * - a `__proto__` key: kept here as a plain field, refused there;
 * - any ext: here EventTime/timestamp text or bytes, there only the spool's bigint ext 0;
 * - a 64-bit int beyond 2^53 − 1: a bigint here, a rounded number there;
 * - a str that is not valid UTF-8 (seen as U+FFFD in the text, which also catches a genuine
 *   U+FFFD — harmless, that record is just encoded as before): both readers would replace the
 *   bad bytes alike, but stored verbatim the payload would no longer be standard msgpack, and
 *   other decoders (@msgpack/msgpack) read such bytes differently.
 * Nesting depth needs no check: this reader refuses more than 64 levels, which the payload
 * reader's recursion handles easily.
 */
import type { RecordMap, RecordValue } from '../../core/entry.ts';

/** Thrown on truncated or impossible msgpack; the caller maps it to a decode error. */
export class MsgpackFormatError extends Error {
  override name = 'MsgpackFormatError';
}

/** Reusable cache of short map keys, so repeated record keys are not decoded every time. */
export interface KeyCache {
  bytes: (Uint8Array | undefined)[];
  text: string[];
  /** Record shapes seen lately, by a hash of their keys' cache slots (see `readMap`). */
  shapes: (Shape | undefined)[];
}

/**
 * A record shape: its keys in order and, once seen SHAPE_COMPILE_AFTER times, a function
 * building such a record as one object literal. V8 then allocates the object with all its properties in one go and
 * one hidden class, instead of growing it key by key through megamorphic keyed stores.
 */
interface Shape {
  readonly keys: readonly string[];
  seen: number;
  make: ((values: RecordValue[]) => RecordMap) | undefined;
}

const KEY_CACHE_SLOTS = 4096;
const KEY_CACHE_MAX_LEN = 24;
const SHAPE_SLOTS = 1024;
const SHAPE_MAX_KEYS = 32;
/**
 * A shape gets its literal once this many records have had it while it held its slot (another
 * shape hashing to the slot replaces it and starts from one). Streams repeat one shape
 * thousands of times; a stream built to alternate colliding shapes compiles at most once per
 * this many records.
 */
const SHAPE_COMPILE_AFTER = 16;
const MAX_DEPTH = 64;
const SHORT_STRING = 8;
/** What the UTF-8 decoder puts in place of invalid bytes. */
const REPLACEMENT_CHAR = '\uFFFD';

export function createKeyCache(): KeyCache {
  return {
    bytes: new Array(KEY_CACHE_SLOTS),
    text: new Array(KEY_CACHE_SLOTS),
    shapes: new Array(SHAPE_SLOTS),
  };
}

export const Kind = {
  Nil: 0,
  Bool: 1,
  Int: 2,
  Float: 3,
  Str: 4,
  Bin: 5,
  Array: 6,
  Map: 7,
  Ext: 8,
  Invalid: 9,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Classifies a type byte. */
export function kindOf(b: number): Kind {
  if (b <= 0x7f || b >= 0xe0) return Kind.Int;
  if (b <= 0x8f) return Kind.Map;
  if (b <= 0x9f) return Kind.Array;
  if (b <= 0xbf) return Kind.Str;
  switch (b) {
    case 0xc0:
      return Kind.Nil;
    case 0xc2:
    case 0xc3:
      return Kind.Bool;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return Kind.Bin;
    case 0xca:
    case 0xcb:
      return Kind.Float;
    case 0xd9:
    case 0xda:
    case 0xdb:
      return Kind.Str;
    case 0xdc:
    case 0xdd:
      return Kind.Array;
    case 0xde:
    case 0xdf:
      return Kind.Map;
    case 0xc7:
    case 0xc8:
    case 0xc9:
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return Kind.Ext;
    case 0xc1:
      return Kind.Invalid;
    default:
      return Kind.Int;
  }
}

export class MsgpackReader {
  pos: number;
  /** End of the bytes found by the last successful `tryRawBytes`/`tryExt`. */
  lastEnd = 0;
  /** Whether the last `tryRawBytes` found a str (true) or a bin (false). */
  lastIsStr = false;
  /** Type of the last `tryExt`. */
  lastExtType = 0;
  /**
   * Whether everything read since `tryRecord` started is raw-safe (see the file comment).
   * Cleared by any read the payload reader would decode differently; only `tryRecord` sets it.
   */
  rawSafe = true;
  /** Where the map read by the last successful `tryRecord` starts (it ends at `lastRecordEnd`). */
  lastRecordStart = 0;
  lastRecordEnd = 0;
  /** Whether the last record read by `tryRecord` is raw-safe. */
  lastRecordRawSafe = false;
  /**
   * Whether the last record read by `tryRecord` has a `__proto__` key at any depth. Kept here as
   * a plain field, but the spool refuses such records, so the decoder skips them as invalid.
   */
  lastRecordHasProtoKey = false;
  private protoKey = false;
  private readonly view: DataView;
  private readonly bytes: Utf8Buffer;
  /** Key cache slot of the last key read, or -1 when it did not come from the cache. */
  private lastKeySlot = -1;
  /** Per nesting depth, where `readMap` collects a map's keys and values. */
  private readonly scratchKeys: string[][] = [];
  private readonly scratchValues: RecordValue[][] = [];

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    private readonly keys: KeyCache = createKeyCache(),
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // Buffer's native UTF-8 slicing is about twice as fast as TextDecoder or a JS loop here.
    this.bytes = (
      Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
    ) as Utf8Buffer;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  peekKind(): Kind {
    this.need(1);
    return kindOf(this.buf[this.pos]!);
  }

  peekByte(): number {
    this.need(1);
    return this.buf[this.pos]!;
  }

  /** Reads an array header; returns the element count, or -1 (position unchanged) if not an array. */
  tryArrayHeader(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b >= 0x90 && b <= 0x9f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xdc) {
      this.need(3);
      const n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
      return n;
    }
    if (b === 0xdd) {
      this.need(5);
      const n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
      return n;
    }
    return -1;
  }

  /** Reads a map header; returns the pair count, or -1 (position unchanged) if not a map. */
  tryMapHeader(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b >= 0x80 && b <= 0x8f) {
      this.pos++;
      return b & 0x0f;
    }
    if (b === 0xde) {
      this.need(3);
      const n = this.view.getUint16(this.pos + 1);
      this.pos += 3;
      return n;
    }
    if (b === 0xdf) {
      this.need(5);
      const n = this.view.getUint32(this.pos + 1);
      this.pos += 5;
      return n;
    }
    return -1;
  }

  /**
   * Reads a str or bin and returns where its bytes start (they end at `lastEnd`; nothing is
   * copied), or -1 (position unchanged) if the value is neither. No object is allocated: this
   * runs for every string of every record.
   */
  tryRawBytes(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    let len: number;
    let hdr: number;
    let isStr = true;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      hdr = 1;
    } else {
      switch (b) {
        case 0xd9:
        case 0xc4:
          this.need(2);
          len = this.buf[this.pos + 1]!;
          hdr = 2;
          break;
        case 0xda:
        case 0xc5:
          this.need(3);
          len = this.view.getUint16(this.pos + 1);
          hdr = 3;
          break;
        case 0xdb:
        case 0xc6:
          this.need(5);
          len = this.view.getUint32(this.pos + 1);
          hdr = 5;
          break;
        default:
          return -1;
      }
      isStr = b >= 0xd9;
    }
    const start = this.pos + hdr;
    this.need(hdr + len);
    this.pos = start + len;
    this.lastEnd = this.pos;
    this.lastIsStr = isStr;
    return start;
  }

  /** Reads a str (or bin) as text; undefined (position unchanged) for any other type. */
  tryString(): string | undefined {
    const start = this.tryRawBytes();
    if (start < 0) return undefined;
    return this.utf8(start, this.lastEnd);
  }

  /** Reads an ext and returns where its data starts (type in `lastExtType`, end in `lastEnd`), or -1. */
  tryExt(): number {
    this.need(1);
    const b = this.buf[this.pos]!;
    let len: number;
    let hdr: number;
    switch (b) {
      case 0xd4:
        len = 1;
        hdr = 2;
        break;
      case 0xd5:
        len = 2;
        hdr = 2;
        break;
      case 0xd6:
        len = 4;
        hdr = 2;
        break;
      case 0xd7:
        len = 8;
        hdr = 2;
        break;
      case 0xd8:
        len = 16;
        hdr = 2;
        break;
      case 0xc7:
        this.need(2);
        len = this.buf[this.pos + 1]!;
        hdr = 3;
        break;
      case 0xc8:
        this.need(3);
        len = this.view.getUint16(this.pos + 1);
        hdr = 4;
        break;
      case 0xc9:
        this.need(5);
        len = this.view.getUint32(this.pos + 1);
        hdr = 6;
        break;
      default:
        return -1;
    }
    this.need(hdr + len);
    this.lastExtType = this.view.getInt8(this.pos + hdr - 1);
    const start = this.pos + hdr;
    this.pos = start + len;
    this.lastEnd = this.pos;
    return start;
  }

  /** Reads an integer or float as a number (bigint for integers beyond 2^53), else undefined. */
  tryNumber(): number | bigint | undefined {
    const k = this.peekKind();
    if (k !== Kind.Int && k !== Kind.Float) return undefined;
    return this.readScalarNumber();
  }

  uint32At(offset: number): number {
    return this.view.getUint32(offset);
  }

  /** Skips one complete value of any type. */
  skip(depth = 0): void {
    if (depth > MAX_DEPTH) throw new MsgpackFormatError('msgpack nesting too deep');
    const n = this.tryArrayHeader();
    if (n >= 0) {
      for (let i = 0; i < n; i++) this.skip(depth + 1);
      return;
    }
    const m = this.tryMapHeader();
    if (m >= 0) {
      for (let i = 0; i < m * 2; i++) this.skip(depth + 1);
      return;
    }
    if (this.tryRawBytes() >= 0 || this.tryExt() >= 0) return;
    this.readValue(depth);
  }

  /** Reads any value as a RecordValue. */
  readValue(depth = 0): RecordValue {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b <= 0x7f) {
      this.pos++;
      return b;
    }
    if (b >= 0xe0) {
      this.pos++;
      return b - 0x100;
    }
    if (depth > MAX_DEPTH) throw new MsgpackFormatError('msgpack nesting too deep');
    if (b <= 0x8f || b === 0xde || b === 0xdf) return this.readMap(depth + 1);
    if (b <= 0x9f || b === 0xdc || b === 0xdd) {
      const n = this.tryArrayHeader();
      if (n > this.end - this.pos) throw new MsgpackFormatError('array longer than its frame');
      const out: RecordValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.readValue(depth + 1);
      return out;
    }
    switch (kindOf(b)) {
      case Kind.Nil:
        this.pos++;
        return null;
      case Kind.Bool:
        this.pos++;
        return b === 0xc3;
      case Kind.Str: {
        const start = this.tryRawBytes();
        return this.utf8(start, this.lastEnd);
      }
      case Kind.Bin: {
        const start = this.tryRawBytes();
        return new Uint8Array(this.buf.subarray(start, this.lastEnd));
      }
      case Kind.Ext: {
        this.rawSafe = false;
        const start = this.tryExt();
        return this.extValue(this.lastExtType, start, this.lastEnd);
      }
      case Kind.Invalid:
        throw new MsgpackFormatError(`invalid msgpack type byte 0x${b.toString(16)}`);
      default:
        return this.readScalarNumber();
    }
  }

  /**
   * Reads a map into a record; returns undefined (position unchanged) if not a map. On success
   * `lastRecordStart`/`lastRecordEnd` hold the map's byte range and `lastRecordRawSafe` tells
   * whether those bytes may be stored in place of the record.
   */
  tryRecord(): RecordMap | undefined {
    this.need(1);
    const start = this.pos;
    const b = this.buf[start]!;
    if ((b & 0xf0) !== 0x80 && b !== 0xde && b !== 0xdf) return undefined;
    this.rawSafe = true;
    this.protoKey = false;
    const record = this.readMap(1);
    this.lastRecordStart = start;
    this.lastRecordEnd = this.pos;
    this.lastRecordRawSafe = this.rawSafe;
    this.lastRecordHasProtoKey = this.protoKey;
    return record;
  }

  private readMap(depth: number): RecordMap {
    const n = this.tryMapHeader();
    if (n * 2 > this.end - this.pos) throw new MsgpackFormatError('map longer than its frame');
    if (n === 0 || n > SHAPE_MAX_KEYS) {
      const out: RecordMap = {};
      for (let i = 0; i < n; i++) this.assign(out, this.readKey(depth), this.readValue(depth));
      return out;
    }
    // Keys and values go to this depth's scratch arrays first (a nested map uses the next
    // depth's), so a known shape can build the record in one literal.
    let keys = this.scratchKeys[depth];
    let values = this.scratchValues[depth];
    if (keys === undefined || values === undefined) {
      keys = this.scratchKeys[depth] = new Array(SHAPE_MAX_KEYS);
      values = this.scratchValues[depth] = new Array(SHAPE_MAX_KEYS);
    }
    let h = n;
    let cached = true;
    for (let i = 0; i < n; i++) {
      keys[i] = this.readKey(depth);
      if (this.lastKeySlot < 0) cached = false;
      h = Math.imul(h ^ this.lastKeySlot, 0x9e3779b1);
      values[i] = this.readValue(depth);
    }
    if (cached) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
      const slot = (h >>> 22) & (SHAPE_SLOTS - 1);
      const shape = this.keys.shapes[slot];
      if (shape !== undefined && sameKeys(shape.keys, keys, n)) {
        if (shape.make !== undefined) return shape.make(values);
        if (++shape.seen === SHAPE_COMPILE_AFTER) shape.make = compileShape(shape.keys);
      } else {
        this.keys.shapes[slot] = { keys: keys.slice(0, n), seen: 1, make: undefined };
      }
    }
    const out: RecordMap = {};
    for (let i = 0; i < n; i++) this.assign(out, keys[i]!, values[i]!);
    return out;
  }

  private assign(out: RecordMap, key: string, value: RecordValue): void {
    if (key === '__proto__') {
      this.rawSafe = false;
      this.protoKey = true;
      // Plain assignment would replace the prototype instead of adding a field.
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = value;
    }
  }

  /**
   * Reads a key of the map at `depth`. A key that is not a str is read as a value of that map,
   * nested maps included: those then take the next depth's scratch arrays, as a value would,
   * never this map's own, which still hold its keys and values.
   */
  private readKey(depth: number): string {
    this.need(1);
    const b = this.buf[this.pos]!;
    if (b >= 0xa0 && b <= 0xbf) {
      const len = b & 0x1f;
      const start = this.pos + 1;
      this.need(1 + len);
      this.pos = start + len;
      if (len <= KEY_CACHE_MAX_LEN) return this.cachedKey(start, len);
      this.lastKeySlot = -1;
      return this.utf8(start, start + len);
    }
    this.lastKeySlot = -1;
    // Every other key type is not raw-safe: the payload reader refuses non-str keys.
    const start = this.tryRawBytes();
    if (start >= 0) {
      if (!this.lastIsStr) this.rawSafe = false;
      return this.utf8(start, this.lastEnd);
    }
    this.rawSafe = false;
    const v = this.readValue(depth);
    return typeof v === 'string' ? v : stringifyKey(v);
  }

  private cachedKey(start: number, len: number): string {
    const buf = this.buf;
    let h = len;
    for (let i = 0; i < len; i++) h = (Math.imul(h, 31) + buf[start + i]!) | 0;
    const slot = (h >>> 0) % KEY_CACHE_SLOTS;
    const known = this.keys.bytes[slot];
    if (known && known.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (known[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.lastKeySlot = slot;
        return this.keys.text[slot]!;
      }
    }
    const text = this.utf8(start, start + len);
    // Only valid UTF-8 is remembered, so a cache hit never needs the raw-safe check: an
    // invalid key is decoded (and flagged) every time.
    if (text.indexOf(REPLACEMENT_CHAR) !== -1) {
      this.lastKeySlot = -1;
      return text;
    }
    // A copy, not `buf.slice`: on a Buffer (the connection's receive buffer) that is a view,
    // the next request overwrites those bytes, and a later key hashing to this slot that
    // matched the new bytes would be read as this text.
    const copy = new Uint8Array(len);
    for (let i = 0; i < len; i++) copy[i] = buf[start + i]!;
    this.keys.bytes[slot] = copy;
    this.keys.text[slot] = text;
    this.lastKeySlot = slot;
    return text;
  }

  utf8(start: number, end: number): string {
    const len = end - start;
    if (len <= SHORT_STRING) {
      // Very short values ("GET", "info") are cheaper to build in JS than to cross into C++.
      const b = this.buf;
      let s = '';
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c > 0x7f) return this.checkedUtf8(start, end);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.checkedUtf8(start, end);
  }

  /** Native UTF-8 decoding; clears `rawSafe` if the bytes were not valid UTF-8. */
  private checkedUtf8(start: number, end: number): string {
    const s = this.bytes.utf8Slice(start, end);
    // Cheap on ASCII/Latin-1 text: V8 answers at once for a one-byte string.
    if (this.rawSafe && s.indexOf(REPLACEMENT_CHAR) !== -1) this.rawSafe = false;
    return s;
  }

  private extValue(type: number, start: number, end: number): RecordValue {
    const ext = { type, start, end };
    const len = end - start;
    if (ext.type === 0 && len === 8) {
      return isoTime(this.view.getUint32(ext.start), this.view.getUint32(ext.start + 4));
    }
    if (ext.type === -1) {
      // msgpack timestamp: 32-bit seconds; 30-bit nsec + 34-bit seconds; 32-bit nsec + int64 sec.
      if (len === 4) return isoTime(this.view.getUint32(ext.start), 0);
      if (len === 8) {
        const hi = this.view.getUint32(ext.start);
        const lo = this.view.getUint32(ext.start + 4);
        return isoTime((hi & 0x3) * 2 ** 32 + lo, hi >>> 2);
      }
      if (len === 12) {
        const sec = Number(this.view.getBigInt64(ext.start + 4));
        return isoTime(sec, this.view.getUint32(ext.start));
      }
    }
    return new Uint8Array(this.buf.subarray(ext.start, ext.end));
  }

  private readScalarNumber(): number | bigint {
    const b = this.buf[this.pos]!;
    const p = this.pos;
    if (b <= 0x7f) {
      this.pos++;
      return b;
    }
    if (b >= 0xe0) {
      this.pos++;
      return b - 0x100;
    }
    switch (b) {
      case 0xcc:
        this.need(2);
        this.pos += 2;
        return this.buf[p + 1]!;
      case 0xcd:
        this.need(3);
        this.pos += 3;
        return this.view.getUint16(p + 1);
      case 0xce:
        this.need(5);
        this.pos += 5;
        return this.view.getUint32(p + 1);
      case 0xcf: {
        this.need(9);
        this.pos += 9;
        const v = this.view.getBigUint64(p + 1);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
        this.rawSafe = false;
        return v;
      }
      case 0xd0:
        this.need(2);
        this.pos += 2;
        return this.view.getInt8(p + 1);
      case 0xd1:
        this.need(3);
        this.pos += 3;
        return this.view.getInt16(p + 1);
      case 0xd2:
        this.need(5);
        this.pos += 5;
        return this.view.getInt32(p + 1);
      case 0xd3: {
        this.need(9);
        this.pos += 9;
        const v = this.view.getBigInt64(p + 1);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
          return Number(v);
        this.rawSafe = false;
        return v;
      }
      case 0xca:
        this.need(5);
        this.pos += 5;
        return this.view.getFloat32(p + 1);
      case 0xcb:
        this.need(9);
        this.pos += 9;
        return this.view.getFloat64(p + 1);
      default:
        throw new MsgpackFormatError(`not a number: 0x${b.toString(16)}`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) {
      throw new MsgpackFormatError(`truncated msgpack at offset ${this.pos}`);
    }
  }
}

function sameKeys(known: readonly string[], keys: readonly string[], n: number): boolean {
  if (known.length !== n) return false;
  for (let i = 0; i < n; i++) if (known[i] !== keys[i]) return false;
  return true;
}

/**
 * `v => ({"k0": v[0], "k1": v[1], …})` for a shape's keys. The keys are JSON string literals,
 * which are valid JavaScript string literals, so no key can break out of its quotes; a shape
 * with a `__proto__` key never compiles (in a literal it would set the prototype).
 * Duplicate keys behave as in assignment: the last value wins, in the first key's place.
 */
function compileShape(keys: readonly string[]): ((values: RecordValue[]) => RecordMap) | undefined {
  if (keys.includes('__proto__')) return undefined;
  const fields = keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${fields} };`) as (values: RecordValue[]) => RecordMap;
}

/** Buffer's native UTF-8 slice (present on every Node Buffer, missing from @types/node). */
type Utf8Buffer = Buffer & { utf8Slice(start: number, end: number): string };

function isoTime(sec: number, nsec: number): string {
  const ms = sec * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `${sec}.${nsec}`;
  // Drop the ".mmmZ" end: before it a year outside 0000–9999 has six digits and a sign.
  const iso = new Date(ms).toISOString();
  const base = iso.slice(0, iso.length - 5);
  return `${base}.${String(nsec % 1_000_000_000).padStart(9, '0')}Z`;
}

function stringifyKey(v: RecordValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (typeof v === 'bigint') return v.toString();
  return typeof v === 'object' && v !== null
    ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
    : String(v);
}
