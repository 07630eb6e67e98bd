/**
 * A pure InfluxDB line-protocol parser: text in, entries and per-line errors out.
 *
 *   measurement[,tag=value…] field=value[,field=value…] [timestamp]
 *
 * Escaping follows InfluxDB: in the measurement `\,` and `\ `; in tag keys, tag values and
 * field keys `\,` `\=` `\ `; in string field values `\"` and `\\`. A backslash before any other
 * character is kept literally (and still protects that character from being a separator, as
 * InfluxDB's scanner does). String values may span lines. Field types: float (`1`, `-1.5e3`),
 * integer (`1i`, int64), unsigned (`1u`, uint64), boolean (`t T true True TRUE f F false
 * False FALSE`), string (`"…"`). Integer and unsigned fields come out as `bigint` (so their
 * type survives to the InfluxDB encoder), floats as `number`. `#` comments,
 * blank lines, leading whitespace and CRLF line ends are accepted.
 *
 * Policy (matches InfluxDB 1.x): a bad line does not spoil the others. The caller gets every
 * valid point plus one error per bad line, each naming its 1-based line number and the
 * problem (`line 3: invalid field value "x" for key reqtime`), and decides the answer.
 * A bad line ends where InfluxDB's line scanner ends it: at the first newline outside a quoted
 * field value (so a bad point's multi-line string is never read as points of its own), or,
 * when a quote is never closed, at the first newline after that quote. A repeated tag key is
 * an error (`duplicate tag key host`), as in InfluxDB; a repeated field key keeps the last value.
 */
import type { Entry, RecordMap, RecordValue } from '../../core/entry.ts';
import { nowAt, type Precision, significantDigits, timestampToTime } from './precision.ts';

export interface LineError {
  /** 1-based line number where the bad point starts. */
  line: number;
  /** `line N: <problem>` */
  message: string;
}

export interface ParseOptions {
  precision: Precision;
  /** Wall-clock ms used for points without a timestamp (truncated to the precision). */
  nowMs: number;
  /** Stop collecting error messages after this many (the count stays exact). */
  maxErrors?: number;
  /** Stop parsing when the text holds more valid points than this (see `tooManyEntries`). */
  maxEntries?: number;
}

export interface ParseResult {
  entries: Entry[];
  errors: LineError[];
  /** Number of bad lines (may exceed `errors.length` when capped). */
  errorCount: number;
  /**
   * The text holds more than `maxEntries` valid points: parsing stopped at the first one over
   * (`entries` holds `maxEntries`, errors only those seen so far).
   */
  tooManyEntries?: true;
}

const SPACE = 32;
const TAB = 9;
const NL = 10;
const CR = 13;
const COMMA = 44;
const EQ = 61;
const BSL = 92;
const QUOTE = 34;
const HASH = 35;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const INT_RE = /^-?[0-9]+$/;
const TRUE = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE = new Set(['f', 'F', 'false', 'False', 'FALSE']);

/** A key a client may send that plain assignment would treat as the object's prototype. */
const PROTO = '__proto__';

function defineOwn(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Thrown inside the scanner only; carries the problem for the current line. */
class LineFault {
  constructor(readonly problem: string) {}
}

export function parseLineProtocol(text: string, opts: ParseOptions): ParseResult {
  return new Scanner(text, opts).run();
}

/**
 * The cursor lives in fields rather than closure variables: V8 keeps closure-shared `let`s in
 * a heap context, which made every `pos++` a memory store (measured: ~2x slower).
 */
class Scanner {
  private pos = 0;
  private line = 1;
  private readonly n: number;
  private defaultTime: { sec: number; nsec: number } | undefined;

  constructor(
    private readonly text: string,
    private readonly opts: ParseOptions,
  ) {
    this.n = text.length;
  }

  run(): ParseResult {
    const { text, n } = this;
    const entries: Entry[] = [];
    const errors: LineError[] = [];
    const maxErrors = this.opts.maxErrors ?? 100;
    const maxEntries = this.opts.maxEntries ?? Number.POSITIVE_INFINITY;
    let errorCount = 0;

    while (this.pos < n) {
      // Leading whitespace, blank lines and comments.
      let c = text.charCodeAt(this.pos);
      while (c === SPACE || c === TAB || c === CR) c = text.charCodeAt(++this.pos);
      if (this.pos >= n) break;
      if (c === NL) {
        this.pos++;
        this.line++;
        continue;
      }
      if (c === HASH) {
        const nl = text.indexOf('\n', this.pos);
        if (nl < 0) break;
        this.pos = nl + 1;
        this.line++;
        continue;
      }

      const startLine = this.line;
      const startPos = this.pos;
      try {
        const entry = this.point();
        if (entries.length === maxEntries)
          return { entries, errors, errorCount, tooManyEntries: true };
        entries.push(entry);
      } catch (err) {
        if (!(err instanceof LineFault)) throw err;
        errorCount++;
        if (errors.length < maxErrors)
          errors.push({ line: startLine, message: `line ${startLine}: ${err.problem}` });
        const end = badLineEnd(text, startPos);
        this.line = startLine + countNewlines(text, startPos, end);
        if (end >= n) break;
        this.pos = end;
      }
      if (this.pos < n) {
        this.pos++; // the '\n'
        this.line++;
      }
    }
    return { entries, errors, errorCount };
  }

  /** One point from `pos` up to (not including) its line end. */
  private point(): Entry {
    const { text, n } = this;
    let pos = this.pos;
    // --- measurement ---
    let start = pos;
    let measurement = '';
    let c: number;
    for (;;) {
      c = text.charCodeAt(pos);
      if (pos >= n || c === NL) {
        this.pos = pos;
        throw new LineFault('missing fields');
      }
      if (c === COMMA || c === SPACE) break;
      if (c === BSL) {
        const d = text.charCodeAt(pos + 1);
        if (d === COMMA || d === SPACE) {
          measurement += text.slice(start, pos) + text[pos + 1];
          pos += 2;
          start = pos;
          continue;
        }
        if (pos + 1 < n && d !== NL) pos++;
      }
      pos++;
    }
    measurement += text.slice(start, pos);
    this.pos = pos;
    if (measurement.length === 0) throw new LineFault('missing measurement');

    // --- tags ---
    let tags: Record<string, string> | undefined;
    while (text.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.key(true, 'missing fields');
      if (text.charCodeAt(this.pos) !== EQ)
        throw new LineFault(`missing tag value for key ${clip(key)}`);
      this.pos++;
      const value = this.key(false, 'missing fields');
      if (value.length === 0) throw new LineFault(`missing tag value for key ${clip(key)}`);
      tags ??= {};
      if (Object.hasOwn(tags, key)) throw new LineFault(`duplicate tag key ${clip(key)}`);
      if (key === PROTO) defineOwn(tags, key, value);
      else tags[key] = value;
    }

    // --- fields ---
    if (text.charCodeAt(this.pos) !== SPACE) throw new LineFault('missing fields');
    while (text.charCodeAt(this.pos) === SPACE) this.pos++;
    c = text.charCodeAt(this.pos);
    if (this.pos >= n || c === NL || c === CR) throw new LineFault('missing fields');
    const record: RecordMap = {};
    for (;;) {
      const key = this.key(true, 'missing field value');
      if (text.charCodeAt(this.pos) !== EQ)
        throw new LineFault(`missing field value for key ${clip(key)}`);
      this.pos++;
      const value = this.fieldValue(key);
      if (key === PROTO) defineOwn(record, key, value);
      else record[key] = value;
      if (text.charCodeAt(this.pos) !== COMMA) break;
      this.pos++;
    }

    // --- timestamp ---
    let time: { sec: number; nsec: number } | undefined;
    pos = this.pos;
    while (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB) pos++;
    c = text.charCodeAt(pos);
    if (pos < n && c !== NL && c !== CR) {
      start = pos;
      while (pos < n) {
        c = text.charCodeAt(pos);
        if (c === NL || c === SPACE || c === TAB || c === CR) break;
        pos++;
      }
      this.pos = pos;
      const digits = text.slice(start, pos);
      if (!INT_RE.test(digits)) throw new LineFault(`invalid timestamp "${clip(digits)}"`);
      time = timestampToTime(digits, this.opts.precision);
      if (!time) throw new LineFault(`timestamp ${clip(digits)} out of range`);
      while (text.charCodeAt(pos) === SPACE || text.charCodeAt(pos) === TAB) pos++;
    }
    c = text.charCodeAt(pos);
    if (c === CR) c = text.charCodeAt(++pos);
    this.pos = pos;
    if (pos < n && c !== NL) throw new LineFault('unexpected text after timestamp');
    if (!time) {
      this.defaultTime ??= nowAt(this.opts.nowMs, this.opts.precision);
      time = this.defaultTime;
    }
    const entry: Entry = { tag: measurement, sec: time.sec, nsec: time.nsec, record };
    if (tags) entry.tags = tags;
    return entry;
  }

  /** A tag key/value or field key: ends at an unescaped `,` `=` or space. */
  private key(isKey: boolean, atLineEnd: string): string {
    const { text, n } = this;
    let pos = this.pos;
    let out = '';
    let start = pos;
    for (;;) {
      const ch = text.charCodeAt(pos);
      if (pos >= n || ch === NL || ch === CR) {
        this.pos = pos;
        throw new LineFault(atLineEnd);
      }
      if (ch === COMMA || ch === EQ || ch === SPACE) break;
      if (ch === BSL) {
        const d = text.charCodeAt(pos + 1);
        if (d === COMMA || d === EQ || d === SPACE) {
          out += text.slice(start, pos) + text[pos + 1];
          pos += 2;
          start = pos;
          continue;
        }
        if (pos + 1 < n && d !== NL) pos++;
      }
      pos++;
    }
    this.pos = pos;
    out += text.slice(start, pos);
    if (isKey && out.length === 0) throw new LineFault('missing key');
    return out;
  }

  private fieldValue(key: string): RecordValue {
    const { text, n } = this;
    let pos = this.pos;
    if (text.charCodeAt(pos) === QUOTE) {
      pos++;
      let out = '';
      let start = pos;
      const openLine = this.line;
      for (;;) {
        if (pos >= n) {
          // Resume at the next line rather than losing everything after a stray quote.
          const nl = text.indexOf('\n', start);
          this.pos = nl < 0 ? n : nl;
          this.line = openLine;
          throw new LineFault(`unterminated string value for key ${clip(key)}`);
        }
        const ch = text.charCodeAt(pos);
        if (ch === QUOTE) break;
        if (ch === BSL) {
          const d = text.charCodeAt(pos + 1);
          if (d === QUOTE || d === BSL) {
            out += text.slice(start, pos) + text[pos + 1];
            pos += 2;
            start = pos;
            continue;
          }
        }
        if (ch === NL) this.line++;
        pos++;
      }
      out += text.slice(start, pos);
      pos++; // closing quote
      this.pos = pos;
      const next = text.charCodeAt(pos);
      if (pos < n && next !== COMMA && next !== SPACE && next !== NL && next !== CR)
        throw new LineFault(`unexpected text after string value for key ${clip(key)}`);
      return out;
    }
    const start = pos;
    while (pos < n) {
      const ch = text.charCodeAt(pos);
      if (ch === COMMA || ch === SPACE || ch === NL || ch === CR) break;
      pos++;
    }
    this.pos = pos;
    const raw = text.slice(start, pos);
    const value = fieldValue(raw);
    if (value === undefined)
      throw new LineFault(
        raw.length === 0
          ? `missing field value for key ${clip(key)}`
          : `invalid field value "${clip(raw)}" for key ${clip(key)}`,
      );
    if (value instanceof LineFault) throw new LineFault(`${value.problem} for key ${clip(key)}`);
    return value;
  }
}

/**
 * Where the bad line starting at `from` ends (the index of its newline, or the text's end), as
 * InfluxDB 1.x's `scanLine` delimits lines: a backslash protects the next character, and past
 * the first space a `"` that opens a field value (more `=` than `,` seen) starts a quoted
 * run in which newlines do not end the line. One difference: a backslash never protects a
 * newline, since a good line never continues past one either. A quote still open at the end
 * of the text ends the line at the first newline after it, so one stray quote does not take
 * every later line with it.
 */
function badLineEnd(text: string, from: number): number {
  const n = text.length;
  let fields = false;
  let quoted = false;
  let quoteAt = -1;
  let equals = 0;
  let commas = 0;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === BSL) {
      if (i + 1 < n && text.charCodeAt(i + 1) !== NL) i++;
      continue;
    }
    if (c === SPACE) fields = true;
    if (fields) {
      if (!quoted && c === EQ) {
        equals++;
        continue;
      }
      if (!quoted && c === COMMA) {
        commas++;
        continue;
      }
      if (c === QUOTE && equals > commas) {
        quoted = !quoted;
        quoteAt = i;
        continue;
      }
    }
    if (c === NL && !quoted) return i;
  }
  if (!quoted) return n;
  const nl = text.indexOf('\n', quoteAt);
  return nl < 0 ? n : nl;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** A non-string field value, or undefined when it is not one of the line-protocol types. */
function fieldValue(raw: string): RecordValue | LineFault | undefined {
  const len = raw.length;
  if (len === 0) return undefined;
  const last = raw.charCodeAt(len - 1);
  if (last === 105 /* i */ || last === 117 /* u */) {
    const signed = last === 105;
    let i = signed && raw.charCodeAt(0) === 45 /* - */ ? 1 : 0;
    if (i === len - 1) return undefined;
    for (; i < len - 1; i++) {
      const d = raw.charCodeAt(i);
      if (d < 48 || d > 57) return undefined;
    }
    const digits = raw.slice(0, -1);
    return signed
      ? wideInteger(digits, INT64_MIN, INT64_MAX, 'integer')
      : wideInteger(digits, 0n, UINT64_MAX, 'unsigned integer');
  }
  // Floats: only digits, '.', exponent and signs may appear, so Number() cannot accept
  // anything line protocol does not (hex, binary, "Infinity", whitespace).
  let floatChars = raw.charCodeAt(0) !== 43; /* no leading + */
  for (let i = 0; floatChars && i < len; i++) {
    const d = raw.charCodeAt(i);
    floatChars = (d >= 48 && d <= 57) || d === 46 || d === 45 || d === 43 || d === 101 || d === 69;
  }
  if (floatChars) {
    const v = Number(raw);
    if (Number.isNaN(v)) return undefined;
    return Number.isFinite(v) ? v : new LineFault(`float value ${clip(raw)} out of range`);
  }
  if (TRUE.has(raw)) return true;
  if (FALSE.has(raw)) return false;
  return undefined;
}

function wideInteger(
  digits: string,
  min: bigint,
  max: bigint,
  kind: string,
): number | bigint | LineFault {
  // Always a bigint: that is how the entry keeps "this was an integer field" all the way to
  // the InfluxDB encoder (which writes bigints as `i` and numbers as floats), so a point
  // written through fleetline keeps the field type it would have had written directly.
  // Neither int64 nor uint64 has more than 20 digits; BigInt() of millions costs seconds.
  // (Only long texts are counted: leading zeros are the one way to be long and in range.)
  if (digits.length > 21 && significantDigits(digits) > 20)
    return new LineFault(`${kind} value ${clip(digits)} out of range`);
  const v = BigInt(digits);
  if (v < min || v > max) return new LineFault(`${kind} value ${clip(digits)} out of range`);
  return v;
}

/** Keeps error messages short when a client sends a huge garbage token. */
function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
