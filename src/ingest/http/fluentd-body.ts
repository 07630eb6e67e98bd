/**
 * Pure decoding of fluentd HTTP bodies (in_http and out_http) into records.
 *
 *   application/json                 one object, an array of objects, or (out_http's `json`
 *                                     format) newline-separated objects
 *   application/x-ndjson             newline-separated objects
 *   application/msgpack, x-msgpack   one map, an array of maps, or a stream of maps
 *   application/x-www-form-urlencoded  in_http's `json=` / `ndjson=` / `msgpack=` parameters
 *                                     (plus `time=`)
 *
 * Errors are `InvalidInputError`s naming the line or record (`line 3: invalid JSON …`,
 * `record 2: expected a map, got string`); an unknown type is an `UnsupportedMediaTypeError`.
 * More than `maxRecords` records (or a msgpack array longer than that) is a
 * `PayloadTooLargeError`, found before the rest is decoded where the format allows (NDJSON,
 * msgpack; a JSON document is parsed whole first). Records nested deeper than the spool
 * stores are refused by `toRecordValue`.
 * msgpack EventTime (ext 0) values come out as `EventTimeValue` so the `time` key stays exact;
 * 64-bit integers within ±2^53 come out as numbers, wider ones as bigint.
 */
import { isUtf8 } from 'node:buffer';
import { Decoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import type { RecordMap, RecordValue } from '../../core/entry.ts';
import { InvalidInputError, PayloadTooLargeError } from '../../core/errors.ts';
import { MAX_NESTING } from '../../spool/msgpack-writer.ts';
import { UnsupportedMediaTypeError } from './errors.ts';
import { EventTimeValue } from './event-time.ts';
import { decodeForm } from './form-urlencoded.ts';
import { tooManyEntries } from './request-limits.ts';

export type FluentdFormat = 'json' | 'ndjson' | 'msgpack' | 'form';

export interface FluentdBody {
  /** Each record may still hold a `time` key (an `EventTimeValue` when msgpack sent one). */
  records: Array<Record<string, unknown>>;
  /** Parameters carried in a form body (in_http reads `time` from there too). */
  params: Record<string, string>;
}

const TYPES: Record<string, FluentdFormat> = {
  'application/json': 'json',
  'text/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonlines': 'ndjson',
  'application/x-jsonlines': 'ndjson',
  'application/msgpack': 'msgpack',
  'application/x-msgpack': 'msgpack',
  'application/vnd.msgpack': 'msgpack',
  'application/x-www-form-urlencoded': 'form',
};

/** The format for a Content-Type header (parameters such as charset ignored). */
export function fluentdFormatFor(contentType: string | undefined): FluentdFormat {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // in_http treats a body without a type as a form, as curl -d sends it.
  const format = mime === '' ? 'form' : TYPES[mime];
  if (!format)
    throw new UnsupportedMediaTypeError(
      `Content-Type ${JSON.stringify(mime)} is not supported; use application/json, ` +
        'application/x-ndjson, application/msgpack or application/x-www-form-urlencoded',
    );
  return format;
}

export function decodeFluentdBody(
  body: Buffer,
  format: FluentdFormat,
  maxRecords = Number.POSITIVE_INFINITY,
): FluentdBody {
  switch (format) {
    case 'json':
      return { records: decodeJson(body, maxRecords), params: {} };
    case 'ndjson':
      return { records: decodeNdjson(body, maxRecords), params: {} };
    case 'msgpack':
      return { records: decodeMsgpack(body, maxRecords), params: {} };
    case 'form':
      return decodeFormBody(body, maxRecords);
  }
}

function decodeFormBody(body: Buffer, max: number): FluentdBody {
  const form = decodeForm(body);
  const params: Record<string, string> = {};
  const time = form.get('time');
  if (time) params.time = time.toString('utf8');
  const json = form.get('json');
  if (json) return { records: decodeJson(json, max, 'json='), params };
  const ndjson = form.get('ndjson');
  if (ndjson) return { records: decodeNdjson(ndjson, max, 'ndjson='), params };
  const msgpack = form.get('msgpack');
  if (msgpack) return { records: decodeMsgpack(msgpack, max, 'msgpack='), params };
  throw new InvalidInputError(
    'form body has no json=, ndjson= or msgpack= parameter (in_http form encoding)',
  );
}

function decodeJson(bytes: Buffer, max: number, where = 'body'): Array<Record<string, unknown>> {
  const text = utf8(bytes, where);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // out_http's `json` format sends one object per line, often as application/json.
    if (text.trim().includes('\n')) return decodeNdjson(bytes, max, where);
    throw new InvalidInputError(`${where}: invalid JSON (${(err as Error).message})`);
  }
  const records = recordsOf(value, where);
  if (records.length > max) throw tooManyEntries(max, 'records');
  return records;
}

function decodeNdjson(bytes: Buffer, max: number, where = 'body'): Array<Record<string, unknown>> {
  const text = utf8(bytes, where);
  const records: Array<Record<string, unknown>> = [];
  const errors = new Problems();
  // Walks the lines instead of split('\n'): a body of millions of tiny lines must not become
  // an array of millions of strings on top of the text.
  // All or nothing, so reading stops at the last line worth naming: a JSON.parse that throws
  // costs microseconds, and millions of bad lines held the event loop for a minute.
  for (let start = 0, lineNo = 1; start <= text.length && !errors.full; lineNo++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      errors.add(() => `line ${lineNo}: invalid JSON (${(err as Error).message})`);
      continue;
    }
    if (!isMap(value))
      errors.add(() => `line ${lineNo}: expected a JSON object, got ${kind(value)}`);
    else if (records.length === max) throw tooManyEntries(max, 'records');
    else records.push(value);
  }
  if (errors.count > 0)
    throw new InvalidInputError(
      `${where}: ${errors.summary()}${errors.full ? '; further lines not checked' : ''}`,
    );
  return records;
}

function decodeMsgpack(bytes: Buffer, max: number, where = 'body'): Array<Record<string, unknown>> {
  const extensionCodec = new ExtensionCodec();
  extensionCodec.register({
    type: 0,
    encode: () => null,
    decode: (data: Uint8Array) => {
      if (data.length !== 8) throw new Error(`EventTime ext has ${data.length} bytes, not 8`);
      const view = new DataView(data.buffer, data.byteOffset, 8);
      const nsec = view.getUint32(4);
      // Would become an entry's nsec as is (up to 4.29e9): refused, as by the Forward input.
      if (nsec >= 1_000_000_000) throw new Error(`EventTime nsec ${nsec} ≥ 1e9`);
      return new EventTimeValue(view.getUint32(0), nsec);
    },
  });
  // An array of records longer than the limit is refused from its header, before its elements
  // are decoded (which limits arrays inside records the same way).
  const maxArrayLength = Math.min(max, 0xffffffff);
  const decoder = new Decoder({ extensionCodec, useBigInt64: true, maxArrayLength });
  let records: Array<Record<string, unknown>> = [];
  let index = 0;
  try {
    for (const value of decoder.decodeMulti(bytes)) {
      index++;
      const batch = recordsOf(normalise(value), `${where} value ${index}`);
      if (batch.length > max - records.length) throw tooManyEntries(max, 'records');
      // Not push(...batch): spreading more than ~120k arguments overflows the stack.
      if (records.length === 0) records = batch;
      else for (let i = 0; i < batch.length; i++) records.push(batch[i]!);
    }
  } catch (err) {
    if (err instanceof InvalidInputError || err instanceof PayloadTooLargeError) throw err;
    if (/^Max length exceeded: array length/.test((err as Error).message))
      throw tooManyEntries(max, 'records');
    throw new InvalidInputError(
      `${where}: invalid msgpack after ${index} value(s) (${(err as Error).message})`,
    );
  }
  if (records.length === 0 && bytes.length === 0)
    throw new InvalidInputError(`${where}: empty body`);
  return records;
}

/** One map → one record; an array → each element must be a map. */
function recordsOf(value: unknown, where: string): Array<Record<string, unknown>> {
  if (isMap(value)) return [value];
  if (Array.isArray(value)) {
    const errors = new Problems();
    value.forEach((v, i) => {
      if (!isMap(v)) errors.add(() => `record ${i + 1}: expected an object, got ${kind(v)}`);
    });
    if (errors.count > 0) throw new InvalidInputError(`${where}: ${errors.summary()}`);
    return value as Array<Record<string, unknown>>;
  }
  throw new InvalidInputError(
    `${where}: expected an object or an array of objects, got ${kind(value)}`,
  );
}

/** Makes decoded msgpack fit `RecordValue`: narrow bigints, unknown ext types as bytes. */
function normalise(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  if (v instanceof ExtData) return v.data;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  if (v instanceof EventTimeValue) return v;
  if (Array.isArray(v)) return v.map(normalise);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, normalise(x));
  return out;
}

/**
 * Nested EventTimes (anywhere but a record's `time`) become float seconds. Arrays and maps
 * nested more than the spool stores (`MAX_NESTING`) are bad input: JSON.parse takes thousands
 * of levels, which overflowed this recursion into a 500 (a client retries those forever).
 */
export function toRecordValue(v: unknown, depth = 0): RecordValue {
  if (v instanceof EventTimeValue) return v.sec + v.nsec / 1e9;
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v as RecordValue;
  if (depth > MAX_NESTING)
    throw new InvalidInputError(`nests arrays and maps more than ${MAX_NESTING} levels deep`);
  if (Array.isArray(v)) return v.map((x) => toRecordValue(x, depth + 1));
  const out: RecordMap = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, toRecordValue(x, depth + 1));
  return out;
}

/** `__proto__` is a legal JSON/msgpack key; plain assignment would swap the prototype. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else obj[key] = value;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof EventTimeValue)
  );
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'binary';
  return typeof v;
}

function utf8(bytes: Buffer, where: string): string {
  if (!isUtf8(bytes)) throw new InvalidInputError(`${where}: not valid UTF-8`);
  return bytes.toString('utf8');
}

/**
 * The problems of one body: the first few worded, the rest only counted. A hostile body can
 * hold millions of bad records (a few KB of gzip); one message each took ~40x the body in heap.
 */
class Problems {
  private static readonly NAMED = 5;
  private readonly named: string[] = [];
  count = 0;

  /** As many problems as a message names: enough to reject the body. */
  get full(): boolean {
    return this.count >= Problems.NAMED;
  }

  add(message: () => string): void {
    if (this.count++ < Problems.NAMED) this.named.push(message());
  }

  summary(): string {
    const shown = this.named.join('; ');
    return this.count > this.named.length
      ? `${shown}; … and ${this.count - this.named.length} more`
      : shown;
  }
}
